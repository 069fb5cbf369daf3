"""The one check for a redirect target that comes from the request (`next`, a form's return address).

Only a path on this site is accepted: it starts with a single '/', has no scheme and no host, and
contains no backslash and no control character (a browser drops a tab, CR or LF and may read '\\'
as '/', so '/\\t/evil.example' would become '//evil.example'). The same holds after percent-decoding,
repeated until the value stops changing, so an encoded variant is refused too.
"""
from urllib.parse import unquote, urlsplit

_MAX_LENGTH = 2000
_DECODE_ROUNDS = 4


def _bad(value):
    if any(ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f for ch in value):
        return True                                   # control characters (C0, DEL, C1)
    if '\\' in value or '\u3000' in value or '\ufeff' in value:
        return True
    if not value.startswith('/') or value.startswith('//'):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme or parts.netloc)


def is_safe_path(target):
    """True when target is a same-origin relative path that is safe to put into Location."""
    if not isinstance(target, str) or not target or len(target) > _MAX_LENGTH:
        return False
    value = target
    for _ in range(_DECODE_ROUNDS):
        if _bad(value):
            return False
        decoded = unquote(value)
        if decoded == value:
            return True
        value = decoded
    return False                                      # still decoding after several rounds: refuse


def safe_next(target, fallback=None):
    """target when it is a safe same-origin path, else fallback."""
    return target if is_safe_path(target) else fallback

"""Certificates verifiable offline: an Ed25519-signed compact payload carried in the QR code.

The QR text is the verification URL (the live check) plus, after '#', a compact signed payload:

    <base64url(text)>~<base64url(signature)>    text (UTF-8), '|' between fields:

    RC2 (what new certificates carry):
        'RC2|kid|serial|name|masked ID|注册编号|code,code:YYMMDD;code:YYMMDD|使用有效期 YYMMDD'
        specialties by their short code (models.Specialty.code, e.g. '01'); consecutive specialties
        with the same validity share one date ('01,02,03:290514;04:300101'), in the certificate's order;
        dates as YYMMDD of the years 2000-2099 (the registry's dates all are)
    RC1 (cards printed before RC2; still verified):
        'RC1|kid|serial|name|masked ID|注册编号|specialty name:YYYYMMDD;…|使用有效期 YYYYMMDD'

(base64url keeps the QR text ASCII: decoders disagree on the character set of raw UTF-8 bytes.)
RC2 exists for the printed card (print_templates.print_sheet, a 24 mm QR): with all 10 specialties
the Chinese names made the code so dense (version 20-23, ~0.21-0.24 mm modules) that a 300 dpi card
printer's print did not decode; the codes make it several versions smaller.

A phone opens the URL (the fragment is never sent to the server); a verifier without network
checks the signature with the public key of `kid`, published at /.well-known/registry-keys.json as
{kid: base64 of the 32-byte raw public key}, and names RC2's codes with the table published at
/.well-known/registry-specialties.json as {code: name}. What an offline check cannot know is the live
status (注销, 失效, replaced by a newer version): the verification page and the API tell it.

Keys: one Ed25519 key per key id, in a key store chosen by the settings:
- `database` (the default): the `signing_key` table of the shared database, the private key encrypted
  (Fernet) with a key derived from SIGNING_KEY_SECRET (default: SECRET_KEY). Every node reads the same
  keys; the first node to sign creates the key, and of two creating at once the unique kid makes one win.
- `dir` (SIGNING_KEY_DIR set): SIGNING_KEY_DIR/<kid>.pem, created 0600 on first use; every node then
  needs the same files (like SECRET_KEY).
SIGNING_KEY_ID names the key that signs now. Rotation: set a new SIGNING_KEY_ID; the old keys stay and
their public keys stay published, so certificates signed before remain verifiable.
"""
import base64
import binascii
import datetime
import os
import re
import tempfile
import threading

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = 'RC2'                  # what new certificates carry
VERSIONS = ('RC1', 'RC2')        # what a verifier accepts
CODE_RE = re.compile(r'[A-Za-z0-9]{1,8}')      # a specialty code in RC2 (models: Specialty.code)
KID_RE = re.compile(r'^[A-Za-z0-9_-]{1,32}$')
_lock = threading.Lock()
_cache = {}


DATABASE = 'database'            # the key_dir value that selects the database store


def _config():
    from flask import current_app, has_app_context
    return current_app.config if has_app_context() else os.environ


def _settings():
    """(key_dir or DATABASE, current kid)."""
    config = _config()
    return config.get('SIGNING_KEY_DIR') or DATABASE, config.get('SIGNING_KEY_ID') or 'k1'


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def _unb64(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


# --- keys ---------------------------------------------------------------------------------------

def _create(path):
    """Write a new private key to `path` (0600) unless another process did first; never overwrite."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.new-')     # mkstemp: mode 0600
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(pem)
        try:
            os.link(tmp, path)            # atomic: of two workers creating at once, one key wins
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def _fernet():
    import hashlib
    from cryptography.fernet import Fernet
    config = _config()
    secret = config.get('SIGNING_KEY_SECRET') or config.get('SECRET_KEY')
    if not secret:
        raise RuntimeError('SIGNING_KEY_SECRET / SECRET_KEY 未设置，无法读取签名密钥')
    if isinstance(secret, str):
        secret = secret.encode('utf-8')
    digest = hashlib.sha256(b'registry-signing-keys\0' + secret).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _raw_public(key):
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode('ascii')


def _db_key(kid):
    """(key, cacheable) of `kid` from the database, created there on first use (one winner among
    racing nodes). A key created inside a caller's transaction is not cached: if that transaction
    rolls back, the next call creates and reads the key again instead of signing with a lost one."""
    import peewee
    from models import SigningKey, database
    row = SigningKey.get_or_none(SigningKey.kid == kid)
    cacheable = row is not None or not database.in_transaction()
    if row is None:
        from backoffice.config import INSTANCE_DIR
        legacy = os.path.join(INSTANCE_DIR, 'signing')   # the file store of earlier versions
        if os.path.exists(os.path.join(legacy, f'{kid}.pem')):
            import_dir(legacy)
            row = SigningKey.get_or_none(SigningKey.kid == kid)
    if row is None:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            with database.atomic():
                SigningKey.create(kid=kid, public_key=_raw_public(key),
                                  private_key=_fernet().encrypt(pem).decode('ascii'))
        except peewee.IntegrityError:
            pass                      # another node created it first: use theirs
        row = SigningKey.get(SigningKey.kid == kid)
    from cryptography.fernet import InvalidToken
    try:
        pem = _fernet().decrypt(row.private_key.encode('ascii'))
    except InvalidToken:
        raise RuntimeError(f'签名密钥 {kid} 无法解密：SIGNING_KEY_SECRET / SECRET_KEY 与创建它时不同') from None
    return serialization.load_pem_private_key(pem, password=None), cacheable


def import_dir(key_dir):
    """Copy the <kid>.pem keys of a folder (the earlier file store) into the database store, so the
    certificates they signed stay verifiable. Keys already there are left alone. Returns the kids added."""
    from models import SigningKey, database
    added = []
    for name in sorted(os.listdir(key_dir)):
        kid = name[:-4]
        if not (name.endswith('.pem') and KID_RE.match(kid)):
            continue
        with open(os.path.join(key_dir, name), 'rb') as f:
            pem = f.read()
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f'{name} 不是 Ed25519 私钥')
        with database.atomic():
            if SigningKey.get_or_none(SigningKey.kid == kid) is None:
                SigningKey.create(kid=kid, public_key=_raw_public(key),
                                  private_key=_fernet().encrypt(pem).decode('ascii'))
                added.append(kid)
    return added


def forget_cached_keys():
    """Drop the per-process key cache (tests that empty the database)."""
    with _lock:
        _cache.clear()


def private_key(key_dir=None, kid=None):
    """The signing key of `kid` (default SIGNING_KEY_ID), created on first use."""
    if key_dir is None or kid is None:
        d, k = _settings()
        key_dir, kid = key_dir or d, kid or k
    if not KID_RE.match(kid):
        raise ValueError(f'SIGNING_KEY_ID 无效：{kid!r}（只能用字母、数字、- 和 _）')
    if key_dir == DATABASE:
        with _lock:
            key = _cache.get((DATABASE, kid))
            if key is None:
                key, cacheable = _db_key(kid)
                if cacheable:
                    _cache[(DATABASE, kid)] = key
        return kid, key
    path = os.path.join(key_dir, f'{kid}.pem')
    with _lock:
        key = _cache.get(path)
        if key is None:
            if not os.path.exists(path):
                _create(path)
            with open(path, 'rb') as f:
                key = serialization.load_pem_private_key(f.read(), password=None)
            _cache[path] = key
    return kid, key


def public_keys(key_dir=None):
    """{kid: base64 raw public key} of every key in the folder (the current one created if missing)."""
    if key_dir is None:
        key_dir = _settings()[0]
        private_key(key_dir)
    if key_dir == DATABASE:
        from models import SigningKey
        return {row.kid: row.public_key for row in SigningKey.select().order_by(SigningKey.kid)}
    out = {}
    for name in sorted(os.listdir(key_dir)) if os.path.isdir(key_dir) else []:
        kid = name[:-4]
        if name.endswith('.pem') and KID_RE.match(kid):
            out[kid] = _raw_public(private_key(key_dir, kid)[1])
    return out


# --- payloads -----------------------------------------------------------------------------------

def specialty_names():
    """{code: name} of every specialty: the table that names RC2's codes, published at
    /.well-known/registry-specialties.json beside the keys."""
    from models import Specialty
    return {code: name for code, name in Specialty.select(Specialty.code, Specialty.name)
            .order_by(Specialty.sort, Specialty.code).tuples()}


def _clean(value):
    return re.sub(r'[|;:#~]', ' ', str(value or '')).strip()


def _code(value):
    code = str(value or '')
    if not CODE_RE.fullmatch(code):
        raise ValueError(f'专业代码无效：{value!r}')
    return code


def _yymmdd(day):
    if not 2000 <= day.year <= 2099:
        raise ValueError(f'RC2 的日期须在 2000-2099 年之间：{day}')
    return f'{day:%y%m%d}'


def _specialties_rc2(specialties):
    """'01,02:290514;03:300101': runs of consecutive specialties with the same date share it."""
    groups = []
    for code, until in specialties:
        if groups and groups[-1][1] == until:
            groups[-1][0].append(_code(code))
        else:
            groups.append(([_code(code)], until))
    return ';'.join(f'{",".join(codes)}:{_yymmdd(until)}' for codes, until in groups)


def payload_text(kid, serial, name, masked_id, number, specialties, use_until, version=VERSION):
    """The signed text. `specialties`: [(code, date)] for RC2, [(name, date)] for RC1 (tests of cards
    printed before RC2)."""
    if version == 'RC2':
        specs, until = _specialties_rc2(specialties), _yymmdd(use_until)
    elif version == 'RC1':
        specs, until = ';'.join(f'{_clean(n)}:{d:%Y%m%d}' for n, d in specialties), f'{use_until:%Y%m%d}'
    else:
        raise ValueError(f'unknown payload version {version!r}')
    return '|'.join([version, kid, _clean(serial), _clean(name), _clean(masked_id), _clean(number), specs, until])


def sign(serial, name, masked_id, number, specialties, use_until, key_dir=None, kid=None, version=VERSION):
    """The compact signed payload for a certificate's facts (specialties as payload_text takes them)."""
    kid, key = private_key(key_dir, kid)
    text = payload_text(kid, serial, name, masked_id, number, specialties, use_until, version).encode('utf-8')
    return f'{_b64(text)}~{_b64(key.sign(text))}'


def qr_text(url, serial, person, registration, specialties, use_until):
    """The QR text of a certificate: its verification URL, '#', the signed RC2 payload (the holder's
    name and masked ID number, 注册编号, specialties as [(code, valid until)], 使用有效期)."""
    from backoffice.validators import mask_id_number
    return url + '#' + sign(serial, person.name, mask_id_number(person.id_number), registration.full_number,
                            specialties, use_until)


def _date(text, version='RC1'):
    """A signed date: YYYYMMDD in RC1, YYMMDD (20YY) in RC2."""
    if not re.fullmatch(r'\d{8}' if version == 'RC1' else r'\d{6}', text):
        raise ValueError(text)
    return datetime.datetime.strptime(text if version == 'RC1' else '20' + text, '%Y%m%d').date()


def _parse_specialties(version, specs, names):
    """([(name, date)], unknown codes) of the signed specialties field."""
    if version == 'RC1':
        return [(n, _date(d)) for n, d in (s.rsplit(':', 1) for s in specs.split(';') if s)], []
    out, unknown = [], []
    for group in specs.split(';') if specs else []:
        codes, until = group.split(':')
        until = _date(until, version)
        for code in codes.split(','):
            _code(code)
            name = names.get(code)
            if name is None:            # a code the verifier's table does not know (an older table)
                unknown.append(code)
                name = f'专业代码 {code}'
            out.append((name, until))
    return out, unknown


def verify(compact, keys, specialties=None):
    """Check a compact payload (or a whole QR text) offline with the published documents: keys
    {kid: base64} and, for RC2, specialties {code: name}. Accepts RC2 and RC1 alike.
    Returns the certified facts as a dict, or None for a bad signature, an unknown key or bad form:
    {'version', 'kid', 'serial', 'name', 'id_number' (masked), 'number', 'specialties': [(name, date)],
    'use_until', 'unknown_codes'}. A correctly signed RC2 code missing from `specialties` is not a forgery:
    it is named '专业代码 <code>' and listed in 'unknown_codes' (fetch the table again)."""
    compact = compact.split('#', 1)[-1].strip()
    try:
        text_part, sig_part = compact.split('~')
        text = _unb64(text_part)
        signature = _unb64(sig_part)
        fields = text.decode('utf-8').split('|')
    except (ValueError, binascii.Error, UnicodeError):
        return None
    if len(fields) != 8 or fields[0] not in VERSIONS or fields[1] not in keys:
        return None
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[fields[1]]))
        public.verify(signature, text)
    except (InvalidSignature, ValueError, binascii.Error):
        return None
    version, kid, serial, name, masked_id, number, specs, use_until = fields
    try:
        named, unknown = _parse_specialties(version, specs, specialties or {})
        until = _date(use_until, version)
    except ValueError:
        return None
    return {'version': version, 'kid': kid, 'serial': serial, 'name': name, 'id_number': masked_id,
            'number': number, 'specialties': named, 'use_until': until, 'unknown_codes': unknown}

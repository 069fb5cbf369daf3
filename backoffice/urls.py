"""URL wiring: no number too big for the database reaches it.

Werkzeug's `int` converter accepts any length of digits; 99999999999999999999999 then reached
the database and failed there (SQLite: "Python int too large", a 500). This converter caps every
`<int:…>` URL part at MAX_ID (2^63-1, the largest BIGINT), so such a URL matches no rule and
answers 404, like 'abc'. Registered before any route is added (create_app).

Ids and page numbers also come as arguments (Flask-Admin's ?id= and ?page=, the report filters'
?province_id=, forms' id fields): a before_request hook answers 404 when one of ID_ARGS (or a
name ending in _id) holds digits beyond MAX_ID. Other arguments (a search box) are left to their
own validation, which answers with a Chinese message at the field.
"""
import re

from flask import abort, request
from werkzeug.routing import IntegerConverter

MAX_ID = 2 ** 63 - 1
ID_ARGS = frozenset({'id', 'ids', 'rowid', 'page', 'page_size', 'application'})
_DIGITS = re.compile(r'^\s*[-+]?\d+\s*$')


class BoundedIntConverter(IntegerConverter):
    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=signed)


def parse_id(value):
    """A database id from request text (a query argument, a form value), or None when it cannot be one."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def _oversized(value):
    return any(_DIGITS.match(part) and abs(int(part)) > MAX_ID for part in value.split(','))


def reject_oversized_ids():
    """before_request: 404 for an id-like argument no database key can equal."""
    for values in (request.args, request.form if request.method == 'POST' else None):
        if not values:
            continue
        for name, value in values.items(multi=True):
            if (name in ID_ARGS or name.endswith('_id') or name.startswith('flt')) and _oversized(value):
                abort(404)


def init_app(app):
    app.url_map.converters['int'] = BoundedIntConverter
    app.before_request(reject_oversized_ids)

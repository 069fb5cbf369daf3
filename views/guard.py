"""The one way views load a record a user asked for: 404 when it does not exist, 403 when the
user may not see it (the rule itself lives in backoffice.access); and the one way a refused
workflow step is answered."""
from flask import abort, flash, redirect
from flask_login import current_user


def fetch_or_abort(model, condition, allowed):
    """The row of model matching condition; allowed(user, row) decides whether it may be shown."""
    row = model.get_or_none(condition)
    if row is None:
        abort(404)
    if not allowed(current_user, row):
        abort(403)
    return row


def refused(exc, back):
    """A refused workflow step: 403 when the user may not do it at all, otherwise every message
    flashed and back to `back`."""
    if exc.kind == 'permission':
        abort(403)
    for message in exc.messages:
        flash(message, 'error')
    return redirect(back)

"""Public pages (no login): home, announcements, certificate verification, registry query."""
from io import BytesIO

from flask import Blueprint, abort, render_template, request, send_file

from backoffice.issuing import certificates, documents, notices
from backoffice.limits import limit
from backoffice.desks import public_query
from models import Notice

bp = Blueprint('public', __name__)


@bp.route('/')
@limit('RATELIMIT_PUBLIC_PAGES')
def index():
    return render_template('index.html')


@bp.route('/announcements')
@limit('RATELIMIT_PUBLIC_PAGES')
def announcements():
    rows = (Notice.select().where(Notice.state == 'published').order_by(Notice.published_at.desc()).limit(200))
    return render_template('public/announcements.html', notices=rows)


def _published(notice_id):
    notice = Notice.get_or_none((Notice.id == notice_id) & (Notice.state == 'published'))
    if notice is None:
        abort(404)
    return notice


@bp.route('/announcements/<int:notice_id>')
@limit('RATELIMIT_PUBLIC_PAGES')
def announcement(notice_id):
    notice = _published(notice_id)
    return render_template('public/announcement.html', notice=notice, rows=notices.items_for_display(notice))


@bp.route('/announcements/<int:notice_id>.pdf')
@limit('RATELIMIT_PUBLIC_PDF')
def announcement_pdf(notice_id):
    notice = _published(notice_id)
    return send_file(BytesIO(documents.announcement_pdf(notice)), mimetype='application/pdf',
                     download_name=f'{notice.number}.pdf')


@bp.route('/verify/<token>')
@limit('RATELIMIT_VERIFY')
def verify(token):
    serial = certificates.serial_from_token(token)
    if serial is None:
        return render_template('public/verify.html', forged=True), 400
    status, data = certificates.verification(serial)
    return render_template('public/verify.html', forged=False, status=status,
                           label=certificates.STATUS_LABELS[status], data=data)


SEARCH_FIELDS = ('name', 'id_number', 'reg_number', 'enterprise')


def _empty_search():
    """The bare form (no criterion sent) is not an attempt and is not counted."""
    return not any(request.args.get(k, '').strip() for k in SEARCH_FIELDS)


@bp.route('/search')
@limit('RATELIMIT_PUBLIC_SEARCH', exempt_when=_empty_search)
def search():
    form = {k: request.args.get(k, '') for k in SEARCH_FIELDS}
    rows, error = None, None
    if any(form.values()):
        try:
            rows = public_query.search(**form)
        except public_query.QueryError as exc:
            error = exc
    return render_template('public/search.html', form=form, rows=rows, error=error)

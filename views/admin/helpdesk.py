"""客服查询: one search box, the person page, and the lookup log for supervisors.

A person page is reached only through a search: the ids a user's searches returned are kept in
the (signed) session for FOUND_TTL seconds, and the person page answers 404 for any other id, so
nobody can walk /admin/helpdesk/person/1..N (backoffice.access.can_open_helpdesk_person)."""
import time

from flask import abort, request, session
from flask_admin import BaseView, expose
from flask_login import current_user

from backoffice import access
from backoffice.desks import helpdesk
from backoffice.roles import ADMIN, HELPDESK, SUPERVISOR
from models import Person
from reports.exports import FULL_ID_EXPORT_KIND

from .base import RoleMixin, SecureModelView

FOUND_KEY = 'helpdesk_found'
FOUND_TTL = 30 * 60                 # a search result opens its person page for 30 minutes
MAX_FOUND = 60


def _found(now=None):
    """{person id: time found} of the current user's recent searches."""
    now = now or time.time()
    data = session.get(FOUND_KEY) or {}
    if data.get('user') != current_user.id:
        return {}
    found = {}
    # kept as one string "id:time id:time …": the session cookie is signed and read on every
    # request, and one string costs a third of a dict of MAX_FOUND entries to encode and check
    for item in str(data.get('ids') or '').split():
        pid, _, at = item.partition(':')
        if pid.isdigit() and at.isdigit() and now - int(at) < FOUND_TTL:
            found[int(pid)] = int(at)
    return found


def _remember(people):
    now = int(time.time())
    found = _found(now)
    for p in people:
        found.pop(p.id, None)
        found[p.id] = now
    keep = sorted(found.items(), key=lambda item: item[1])[-MAX_FOUND:]
    session[FOUND_KEY] = {'user': current_user.id, 'ids': ' '.join(f'{pid}:{at}' for pid, at in keep)}


class HelpdeskView(RoleMixin, BaseView):
    read_roles = (HELPDESK, ADMIN, SUPERVISOR)

    @expose('/')
    def index(self):
        query = request.args.get('q', '')
        people, error, kind = None, None, None
        if 'q' in request.args:                   # the box was submitted, even empty
            try:
                kind, people = helpdesk.find(current_user, query)
            except helpdesk.LookupError_ as exc:
                error = exc.message
            else:
                _remember(people)
        if people is not None and len(people) == 1 and kind != 'name':
            return self.person_page(people[0], query)
        return self.render('admin/helpdesk.html', query=query, people=people, error=error, summary=None)

    @expose('/person/<int:person_id>')
    def person(self, person_id):
        # not among the user's own search results: 404, whether the person exists or not
        if not access.can_open_helpdesk_person(current_user, person_id, _found()):
            abort(404)
        person = Person.get_or_none(Person.id == person_id)
        if person is None:
            abort(404)
        helpdesk.log_view(current_user, person)
        return self.person_page(person, request.args.get('q', ''))

    def person_page(self, person, query):
        # the query stays in the box (what the user typed, for the next search); the page itself
        # shows the person's ID number and mobile masked only
        return self.render('admin/helpdesk.html', query=query, people=None, error=None,
                           summary=helpdesk.person_summary(person))


class LookupLogView(SecureModelView):
    read_roles = (SUPERVISOR, ADMIN)
    column_list = ('created_at', 'user', 'kind', 'query', 'results', 'person_id')
    column_labels = {'user': '查询人', 'kind': '查询方式', 'query': '查询内容', 'results': '结果数',
                     'person_id': '查看人员编号', 'created_at': '查询时间'}
    column_formatters = {'kind': lambda v, c, m, n: {'id_number': '身份证号', 'reg_number': '注册编号',
                                                       'name': '姓名', 'person': '查看人员',
                                                       FULL_ID_EXPORT_KIND: '完整身份证号导出'}.get(m.kind, m.kind)}
    column_filters = ('created_at', 'kind')
    column_default_sort = ('id', True)
    simple_list_pager = True

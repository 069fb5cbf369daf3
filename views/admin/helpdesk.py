"""客服查询: one search box, the person page, and the lookup log for supervisors.

A person page is reached only through a search: each person a search lists is linked with a token
signed for this user and this person (backoffice.access.helpdesk_person_token); the person page
answers 404 without a valid one (backoffice.access.can_open_helpdesk_person), so nobody can walk
/admin/helpdesk/person/1..N and no other user can open the link. Nothing is written to the session on
a lookup."""
from flask import abort, request
from flask_admin import BaseView, expose
from flask_login import current_user

from backoffice import access
from backoffice.desks import helpdesk
from backoffice.roles import ADMIN, HELPDESK, SUPERVISOR
from models import Person
from reports.exports import FULL_ID_EXPORT_KIND

from .base import RoleMixin, SecureModelView


def _person_token(person_id):
    return access.helpdesk_person_token(current_user, person_id)


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
        if people is not None and len(people) == 1 and kind != 'name':
            return self.person_page(people[0], query)
        return self.render('admin/helpdesk.html', query=query, people=people, error=error, summary=None,
                           person_token=_person_token)

    @expose('/person/<int:person_id>')
    def person(self, person_id):
        # not a link of the user's own search results: 404, whether the person exists or not
        if not access.can_open_helpdesk_person(current_user, person_id, request.args.get('t')):
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

"""Review queues (受理, 审查): what waits for each role, oldest first, with per-row and batch decisions."""
from types import SimpleNamespace

from flask import flash, g, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import BasePeeweeFilter
from flask_admin.model.template import TemplateLinkRowAction
from flask_login import current_user
from markupsafe import Markup, escape

from backoffice.db import Prepared, joined
from backoffice.desks import staff_lists
from backoffice.workflow import transitions, states
from backoffice.roles import ACCEPTOR, REVIEWER
from models import (Application, ApplicationSpecialty, Enterprise, Person, Province, RefusalGround, Specialty)
from peewee import JOIN

from .base import SecureModelView
from .registry import ApplicationView, deadline_badge


class _SubqueryFilter(BasePeeweeFilter):
    """Filter applications by a related table through an IN (subquery) on Application.id."""

    def __init__(self, name, subquery, options=None):
        super().__init__(Application.id, name, options=options)
        self.subquery = subquery

    def apply(self, query, value):
        return query.where(self.subquery(value))

    def operation(self):
        return '等于'


class _ContainsFilter(_SubqueryFilter):
    def operation(self):
        return '包含'


def _by_specialty(value):
    return Application.id.in_(ApplicationSpecialty.select(ApplicationSpecialty.application)
                              .where(ApplicationSpecialty.specialty == value))


def _by_province(value):
    return Application.enterprise.in_(Enterprise.select(Enterprise.id).where(Enterprise.province == value))


def _by_enterprise(value):
    return Application.enterprise.in_(Enterprise.select(Enterprise.id).where(Enterprise.name.contains(value)))


def _deadline(view, context, model, name):
    return deadline_badge(model)


class _QueueRowAction(TemplateLinkRowAction):
    """A queue row's decision button (admin/queue_actions.html): drawn once per page and business type
    with placeholders for the row's id and number, which each row then fills in (a macro call per row
    cost more than the rest of the row's cell; issue 15)."""
    ID, NUMBER = 'ROWIDzq9x', 'ROWNUMzq9x'

    def render(self, context, row_id, row):
        cache = context.resolve('row_html_cache')
        here = str(context.resolve('return_url'))
        if not isinstance(cache, dict) or not isinstance(row.id, int) or self.ID in here or self.NUMBER in here:
            return super().render(context, row_id, row)
        key = (id(self), row.business_type)
        html = cache.get(key)
        if html is None:
            stub = SimpleNamespace(id=self.ID, number=self.NUMBER, business_type=row.business_type)
            html = cache[key] = str(super().render(context, self.ID, stub))
        return Markup(html.replace(self.NUMBER, str(escape(row.number))).replace(self.ID, str(row.id)))


class QueueView(ApplicationView):
    """Base of the work queues: only what waits for this role, oldest first."""
    waiting_states = ()
    column_list = ('number', 'business_type', 'person', 'enterprise', 'state', 'submitted_at', 'deadline')
    column_default_sort = [('reported_at', False), ('id', False)]
    list_template = 'admin/queue_list.html'
    column_formatters = dict(ApplicationView.column_formatters, deadline=_deadline)
    column_filters = (
        _SubqueryFilter('业务类型', lambda v: Application.business_type == v,
                        options=list(states.BUSINESS_TYPES.items())),
        _SubqueryFilter('省份', _by_province, options=lambda: [(p.id, p.name) for p in Province.select()]),
        _SubqueryFilter('专业', _by_specialty, options=lambda: [(s.id, s.name) for s in Specialty.select()]),
        _ContainsFilter('聘用企业', _by_enterprise),
    )
    column_searchable_list = ('number',)
    row_transition = None

    def get_query(self):
        return super().get_query().where(Application.state.in_(self.waiting_states))

    def _order(self):
        """The queue's own order (column_default_sort) as ORDER BY terms."""
        return [getattr(Application, col).desc() if desc else getattr(Application, col).asc()
                for col, desc in self.column_default_sort]

    def _first_rows_query(self, size):
        """The queue's first `size` rows in its own order, joined with their person and enterprise. The
        rows are chosen on the application table alone, then joined: joined first, PostgreSQL joined
        every row of the earliest deadline (hundreds at national scale) before keeping twenty."""
        order = self._order()
        waiting = Application.state.in_(self.waiting_states)
        if size:
            waiting = Application.id.in_(Application.select(Application.id).where(waiting).order_by(*order)
                                         .limit(size))
        return (Application.select(Application, Person, Enterprise)
                .join(Person, JOIN.LEFT_OUTER, on=(Application.person == Person.id))
                .switch(Application).join(Enterprise, JOIN.LEFT_OUTER, on=(Application.enterprise == Enterprise.id))
                .where(waiting).order_by(*order))

    def _bounded_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """A queue opened as it is (its first page, its own order, no search or filter: what its users
        open all day) is read by statements composed once per queue and page size (db.Prepared): the
        count, and the rows with their person and enterprise in one join. Anything else is the list's
        general reading (SecureModelView)."""
        from flask import current_app
        plain = (execute and not page and sort_column is None and not (search or '').strip() and not filters
                 and self.province_field is None and type(self).scope is SecureModelView.scope
                 and type(self).get_query is QueueView.get_query)
        if not plain:
            return super()._bounded_list(page, sort_column, sort_desc, search, filters, execute, page_size)
        threshold = current_app.config.get('LIST_EXACT_COUNT_LIMIT', 1000)
        max_rows = current_app.config.get('LIST_MAX_ROWS', 10000)
        size = self.page_size if page_size is None else page_size
        statements = self._first_page_statements(threshold, size)
        g.exact_search, g.list_note, g.list_capped = None, None, False
        count, g.list_count_label = staff_lists.count_label_of(statements['count'], statements['estimate'],
                                                               threshold)
        rows = []
        for found in statements['rows'].rows():
            app, person, enterprise = joined(found, Application, Person, Enterprise)
            if person is not None:
                app.__rel__['person'] = person
            if enterprise is not None:
                app.__rel__['enterprise'] = enterprise
            rows.append(app)
        g.list_has_next = count is None and bool(size) and len(rows) == size and size < max_rows
        return count, rows

    _FIRST_PAGE = {}

    def _first_page_statements(self, threshold, size):
        key = (type(self), threshold, size)
        found = QueueView._FIRST_PAGE.get(key)
        if found is None:
            first_rows = self._first_rows_query
            states_ = self.waiting_states

            def rows_alone():
                return Application.select().where(Application.state.in_(states_))
            found = QueueView._FIRST_PAGE[key] = {
                'count': Prepared(lambda: staff_lists.bounded_count_query(rows_alone(), threshold), arity=0),
                'estimate': staff_lists.Estimate(rows_alone),
                'rows': Prepared(lambda: first_rows(size), arity=0)}
        return found

    def next_item(self, exclude_id=None):
        """The first item of this queue, in the queue's own order, other than exclude_id (办理下一件)."""
        query = self.get_query()
        if exclude_id is not None:
            query = query.where(Application.id != exclude_id)
        return query.order_by(*self._order()).first()

    def _run_batch(self, ids, name, **data):
        """Decide each selected row on its own; a row someone else changed meanwhile, or whose automatic
        checks fail (a batch gives no override reason), is skipped and named."""
        done, skipped = [], []
        for raw in ids:
            try:
                app = transitions.perform(int(raw), name, current_user, **data)
                done.append(app.number)
            except (ValueError, states.WorkflowError) as exc:
                row = Application.get_or_none(Application.id == raw) if str(raw).isdigit() else None
                skipped.append(f'{row.number if row else raw}：{exc}')
        t = transitions.get_transition(name, 'initial')
        if done:
            flash(f'已{t.label} {len(done)} 件：{"、".join(done)}', 'success')
        if skipped:
            flash(f'跳过 {len(skipped)} 件（状态已变化或不符合条件）：' + '；'.join(skipped), 'warning')
        return done


class AcceptQueueView(QueueView):
    read_roles = (ACCEPTOR,)
    waiting_states = ('reported',)
    # 受理 or 补正 is due 5 working days after 上报: the oldest 上报 first, by the column shown
    column_list = ('number', 'business_type', 'person', 'enterprise', 'state', 'reported_at', 'deadline')
    column_labels = dict(QueueView.column_labels, reported_at='上报日期')
    column_default_sort = [('reported_at', False), ('id', False)]
    order_note = '按上报日期排序，最早上报的在前'
    column_formatters = dict(QueueView.column_formatters,
                             reported_at=lambda v, c, m, n: m.reported_at.date() if m.reported_at else '—')
    column_extra_row_actions = [_QueueRowAction('queue_actions.accept_row', '受理')]

    @action('accept', '批量受理', '确定受理所选申请吗？')
    def action_accept(self, ids):
        self._run_batch(ids, 'accept')


class ReviewQueueView(QueueView):
    read_roles = (REVIEWER,)
    waiting_states = ('accepted',)
    column_default_sort = [('deadline', False), ('id', False)]
    order_note = '按办理期限排序，期限最早的在前'
    column_extra_row_actions = [_QueueRowAction('queue_actions.approve_row', '准予注册')]

    @action('approve', '批量准予注册', '确定对所选申请作出准予注册决定吗？')
    def action_approve(self, ids):
        self._run_batch(ids, 'approve')

    @action('refuse', '批量不予注册…')
    def action_refuse(self, ids):
        return redirect(self.get_url('.batch_refuse_view', ids=','.join(ids)))

    @expose('/batch-refuse/', methods=('GET', 'POST'))
    def batch_refuse_view(self):
        raw = request.values.get('ids', '')
        ids = [i for i in raw.split(',') if i.isdigit() and int(i) < 2 ** 63]
        rows = list(Application.select().where(Application.id.in_(ids))) if ids else []
        errors, form = {}, {'grounds': [], 'comment': ''}
        if request.method == 'POST':
            form = {'grounds': request.form.getlist('grounds'), 'comment': request.form.get('comment', '')}
            if not rows:
                errors['rows'] = '未选择待审查的申请'
            if not form['grounds']:
                errors['grounds'] = '不予注册须至少选择一项依据（《注册建造师管理规定》第十五条）'
            if not errors:
                self._run_batch(ids, 'refuse', grounds=form['grounds'], comment=form['comment'],
                                text=form['comment'])
                return redirect(self.get_url('.index_view'))
        return self.render('admin/batch_refuse.html', rows=rows, ids=','.join(ids), errors=errors, form=form,
                           grounds=list(RefusalGround.select().order_by(RefusalGround.sort)),
                           types=states.BUSINESS_TYPES)

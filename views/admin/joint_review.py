"""Joint review (会审) screens: the 会审人员's queue and opinion form, the reviewer's 送会审 and progress
list, and the administrator's choice of a 会审人员's specialties. Rules live in backoffice.workflow.joint_review."""
import datetime

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.contrib.peewee.filters import BasePeeweeFilter
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from markupsafe import Markup
from wtforms import SelectMultipleField

from backoffice.redirects import safe_next
from backoffice.roles import JOINT_REVIEWER, REVIEWER
from backoffice.validators import ValidationError
from backoffice.workflow import joint_review, states
from models import Application, JointOpinion, Specialty

from ..guard import refused
from .base import SecureModelView

LABELS = {'application': '申请编号', 'specialty': '会审专业', 'requested_at': '送会审时间', 'due_on': '会审期限',
          'opinion': '会审意见', 'reason': '理由', 'reviewer': '会审人员', 'decided_at': '意见时间',
          'requested_by': '送审人'}


class _OverdueFilter(BasePeeweeFilter):
    def __init__(self):
        super().__init__(JointOpinion.due_on, '是否超期', options=[('1', '已超期'), ('0', '未超期')])

    def apply(self, query, value):
        today = datetime.date.today()
        if value == '1':
            return query.where(JointOpinion.due_on < today)
        return query.where(JointOpinion.due_on >= today)

    def operation(self):
        return '为'


class _StatusFilter(BasePeeweeFilter):
    def __init__(self):
        super().__init__(JointOpinion.opinion, '会审状态', options=[('pending', '待返回')] + list(
            joint_review.OPINIONS.items()))

    def apply(self, query, value):
        return query.where(JointOpinion.opinion == ('' if value == 'pending' else value))

    def operation(self):
        return '为'


def _due(view, context, model, name):
    left = joint_review.days_left(model)
    if model.opinion:
        return str(model.due_on)
    if left < 0:
        return Markup(f'<span class="badge badge-danger overdue">已超期 {-left} 个工作日</span> {model.due_on}')
    css = 'badge-warning' if left <= 3 else 'badge-success'
    return Markup(f'<span class="badge {css}">剩 {left} 个工作日</span> {model.due_on}')


def _opinion(view, context, model, name):
    return joint_review.STATUS_LABELS[joint_review.status(model)]


def _application(view, context, model, name):
    app = model.application
    return f'{app.number}（{states.BUSINESS_TYPES.get(app.business_type, "")}，{app.person.name}）'


class _OpinionListView(SecureModelView):
    can_create = can_edit = False
    can_view_details = False
    column_labels = LABELS
    column_formatters = {'due_on': _due, 'opinion': _opinion, 'application': _application}
    column_sortable_list = ('requested_at', 'due_on')


class JointReviewQueueView(_OpinionListView):
    """The 会审人员's own queue: pending requests of their specialties only, oldest first."""
    read_roles = (JOINT_REVIEWER,)
    column_list = ('application', 'specialty', 'requested_at', 'due_on')
    column_default_sort = [('requested_at', False), ('id', False)]
    column_filters = (_OverdueFilter(),)
    column_extra_row_actions = [EndpointLinkRowAction('fa fa-pencil', '.decide_view', title='填写会审意见')]

    def get_query(self):
        return joint_review.queue(current_user)

    def get_one(self, id):
        from backoffice.urls import parse_id
        pk = parse_id(id)
        if pk is None:
            return None
        row = JointOpinion.get_or_none(JointOpinion.id == pk)
        if row is not None and row.specialty_id not in joint_review.reviewer_specialty_ids(current_user):
            abort(403)               # another ministry's request
        return row

    @expose('/decide/', methods=('GET', 'POST'))
    def decide_view(self):
        """Record agree, or disagree with a reason (errors at their field)."""
        row = self.get_one(request.values.get('id'))
        if row is None:
            flash('会审请求不存在', 'error')
            return redirect(self.get_url('.index_view'))
        form, errors = {'opinion': '', 'reason': ''}, {}
        if request.method == 'POST':
            form = {'opinion': request.form.get('opinion', ''), 'reason': request.form.get('reason', '')}
            try:
                joint_review.record_opinion(row.id, current_user, form['opinion'], form['reason'])
            except joint_review.OpinionError as exc:
                if exc.kind == 'permission':
                    abort(403)
                errors[exc.field or 'form'] = exc.messages[0]
            else:
                flash(f'已提交申请 {row.application.number} 的{row.specialty.name}会审意见', 'success')
                return redirect(self.get_url('.index_view'))
        app = row.application
        return self.render('admin/joint_decide.html', row=row, app=app, form=form, errors=errors,
                           opinions=joint_review.OPINIONS, types=states.BUSINESS_TYPES,
                           specialties=[a.specialty.name for a in app.specialties],
                           status=joint_review.STATUS_LABELS[joint_review.status(row)],
                           days_left=joint_review.days_left(row))


class JointProgressView(_OpinionListView):
    """The reviewer's view of every joint-review request, and 送会审 from the application page."""
    read_roles = (REVIEWER,)
    column_list = ('application', 'specialty', 'requested_at', 'due_on', 'opinion', 'reason', 'reviewer',
                   'decided_at')
    column_default_sort = [('requested_at', True), ('id', True)]
    column_filters = (_StatusFilter(), _OverdueFilter())

    @expose('/send/', methods=('POST',))
    def send_view(self):
        app_id = request.form.get('id', '')
        back = safe_next(request.form.get('next'), self.get_url('application.details_view', id=app_id))
        from backoffice.urls import parse_id
        pk = parse_id(app_id)
        app = Application.get_or_none(Application.id == pk) if pk is not None else None
        if app is None:
            flash('申请不存在', 'error')
            return redirect(self.get_url('.index_view'))
        try:
            rows = joint_review.send(app, current_user)
        except states.WorkflowError as exc:
            return refused(exc, back)
        flash(f'已送会审：{"、".join(r.specialty.name for r in rows)}；会审期限 {rows[0].due_on}', 'success')
        return redirect(back)


class JointSpecialtiesMixin:
    """For the User view: the joint-review specialties of a 会审人员 account (administrator's edit)."""

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.joint_specialty_ids = SelectMultipleField('会审专业（仅会审人员）', coerce=int, choices=[])
        return form_class

    @staticmethod
    def _joint_choices(form):
        if hasattr(form, 'joint_specialty_ids'):
            form.joint_specialty_ids.choices = [
                (s.id, s.name) for s in Specialty.select().where(Specialty.joint_review == True)  # noqa: E712
                .order_by(Specialty.sort)]
        return form

    def create_form(self, obj=None):
        return self._joint_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        form = self._joint_choices(super().edit_form(obj))
        if obj is not None and request.method == 'GET':
            form.joint_specialty_ids.data = joint_review.reviewer_specialty_ids(obj)
        return form

    # UserView defines on_model_change / after_model_change itself; these hooks wrap them.
    def _on_model_change(self, form, model, is_created):
        chosen = getattr(form, 'joint_specialty_ids', None)
        if model.role == JOINT_REVIEWER and not (chosen and chosen.data):
            raise ValidationError('会审人员须至少指定一个会审专业', 'joint_specialty_ids')
        return super()._on_model_change(form, model, is_created)

    def _save(self, form, model, is_created):
        saved = super()._save(form, model, is_created)
        if saved:
            chosen = getattr(form, 'joint_specialty_ids', None)
            ids = (chosen.data or []) if chosen is not None and model.role == JOINT_REVIEWER else []
            joint_review.set_reviewer_specialties(model, ids, current_user)
        return saved

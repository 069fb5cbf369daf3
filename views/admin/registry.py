"""Back-office model views: configuration over code. Business rules live in backoffice/."""
import datetime
import re

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee import filters as pf
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from peewee import JOIN
from markupsafe import Markup, escape
from wtforms import PasswordField, SelectField
from wtforms import validators as wv

from backoffice import audit
from backoffice.workflow import joint_review, lifecycle, rules, transitions, states
from backoffice import auth
from backoffice.auth import hash_password, password_problem
from backoffice.db import Prepared, joined, loaded
from backoffice.redirects import safe_next
from backoffice.roles import (ACCEPTOR, ADMIN, PROVINCIAL, REVIEWER, ROLES, SUPERVISOR)
from backoffice.validators import (ValidationError, age_on, id_number_facts, mask_id_number, normalize_id_number,
                                   validate_id_number, validate_mobile, validate_uscc)
from models import (EDUCATIONS, MATERIAL_KINDS, Application, AuditEvent, Enterprise, ExternalRegistration, Person, Province,
                    Qualification, RegisteredSpecialty, Registration, Specialty, User,
                    now)

from .base import DomainCheck, SecureModelView, Unique
from .joint_review import JointSpecialtiesMixin

REGISTRY = (ADMIN, ACCEPTOR, REVIEWER, SUPERVISOR)
ID_RE = re.compile(r'^\d{17}[\dXx]$')
USCC_RE = re.compile(r'^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}$')
REGNO_RE = re.compile(r'^[\u4e00-\u9fff]1\d{11}$')
# the beginning of a 注册编号 (province abbreviation, then digits) or of an application number (SQ…)
REGNO_PREFIX_RE = re.compile(r'^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]\d+$')
APPNO_PREFIX_RE = re.compile(r'^[A-Za-z]{2,}\d*$')


def _choice_formatter(mapping):
    return lambda view, context, model, name: mapping.get(getattr(model, name), getattr(model, name))


def _masked_id(view, context, model, name):
    return mask_id_number(getattr(model, name))


# --- reference data -------------------------------------------------------

class ReferenceView(SecureModelView):
    read_roles = REGISTRY
    write_roles = (ADMIN,)
    column_default_sort = 'sort'


class ProvinceView(ReferenceView):
    column_list = ('code', 'name', 'abbr')
    column_default_sort = 'code'
    form_columns = ('code', 'name', 'abbr')


class SpecialtyView(ReferenceView):
    column_list = ('code', 'name', 'abbr', 'joint_review')
    form_columns = ('code', 'name', 'abbr', 'joint_review', 'sort')


class GroundView(ReferenceView):
    column_list = ('code', 'text')
    form_columns = ('code', 'text', 'sort')


# --- persons, qualifications, enterprises --------------------------------

class PersonView(SecureModelView):
    read_roles = REGISTRY
    write_roles = (ADMIN, ACCEPTOR)
    # the ID number is masked; its birth date is not shown beside it (that would unmask it, domain §14)
    column_list = ('name', 'id_number', 'gender', 'education', 'mobile', 'created_at')
    column_formatters = {'id_number': _masked_id}
    column_searchable_list = ('name',)
    exact_search = ((ID_RE, normalize_id_number, Person.id_number),)
    name_search = ((Person.id, Person),)
    column_filters = ('gender', 'education', 'created_at')
    column_default_sort = ('id', True)
    simple_list_pager = True
    form_columns = ('id_number', 'name', 'ethnicity', 'school', 'major', 'education', 'graduation_date',
                    'mobile')
    form_args = {
        'id_number': {'validators': [wv.InputRequired('请填写身份证号码'), DomainCheck(validate_id_number),
                                     Unique(Person, Person.id_number, '该身份证号码的人员已存在')]},
        'name': {'validators': [wv.InputRequired('请填写姓名'), wv.Length(max=50, message='姓名过长')]},
        'mobile': {'validators': [wv.Optional(), DomainCheck(validate_mobile)]},
        'education': {'choices': EDUCATIONS},
    }
    column_details_exclude_list = ('reg_core', 'birth_date')
    search_hint = '姓名或姓名中的字（一两个字按开头查），或完整的身份证号'

    def on_model_change(self, form, model, is_created):
        model.birth_date, model.gender = id_number_facts(model.id_number)
        model.updated_at = now()


class QualificationView(SecureModelView):
    read_roles = REGISTRY
    write_roles = (ADMIN, ACCEPTOR)
    column_list = ('cert_number', 'holder_name', 'holder_id_number', 'specialty', 'issue_date')
    column_formatters = {'holder_id_number': _masked_id}
    column_searchable_list = ('cert_number', 'holder_name')
    exact_search = ((ID_RE, normalize_id_number, Qualification.holder_id_number),)
    column_filters = (pf.FilterEqual(Qualification.specialty, '专业',
                                     options=lambda: [(s.id, s.name) for s in Specialty.select()]),
                      'issue_date')
    form_columns = ('cert_number', 'holder_name', 'holder_id_number', 'specialty', 'issue_date')
    form_args = {
        'cert_number': {'validators': [wv.InputRequired('请填写资格证书管理号'),
                                       Unique(Qualification, Qualification.cert_number, '该资格证书管理号已存在')]},
        'holder_name': {'validators': [wv.InputRequired('请填写姓名')]},
        'holder_id_number': {'validators': [wv.InputRequired('请填写身份证号码'),
                                            DomainCheck(validate_id_number)]},
        'specialty': {'validators': [wv.InputRequired('请选择专业')]},
        'issue_date': {'validators': [wv.InputRequired('请填写签发日期')]},
    }

    def on_model_change(self, form, model, is_created):
        if model.issue_date and model.issue_date > datetime.date.today():
            raise ValidationError('签发日期不能晚于今天', 'issue_date')
        clash = Qualification.select().where(
            (Qualification.holder_id_number == model.holder_id_number)
            & (Qualification.specialty == model.specialty) & (Qualification.id != (model.id or 0))).exists()
        if clash:
            raise ValidationError('此人该专业的资格记录已存在', 'specialty')
        model.person = Person.get_or_none(Person.id_number == model.holder_id_number)


class EnterpriseView(SecureModelView):
    read_roles = REGISTRY + (PROVINCIAL,)
    write_roles = (ADMIN, ACCEPTOR)
    province_field = Enterprise.province
    column_list = ('name', 'uscc', 'legal_rep', 'province', 'city', 'verified', 'status')
    column_searchable_list = ('name',)
    exact_search = ((USCC_RE, lambda v: v.upper(), Enterprise.uscc),)
    name_search = ((Enterprise.id, Enterprise),)
    search_hint = '企业名称中的字（一两个字按开头查），或完整的统一社会信用代码'
    column_filters = ('verified', 'status', pf.FilterEqual(Enterprise.province, '省份',
                                                           options=lambda: [(p.id, p.name) for p in Province.select()]))
    column_formatters = {'status': _choice_formatter(states.ENTERPRISE_STATUSES)}
    form_columns = ('uscc', 'name', 'legal_rep', 'province', 'city', 'address', 'verified',
                    'status', 'status_date', 'status_source')
    form_overrides = {'status': SelectField}
    form_args = {
        'status': {'choices': list(states.ENTERPRISE_STATUSES.items()),
                   'description': '破产、营业执照被吊销、资质被撤回或撤销的，其注册人员的注册在次日的失效任务中失效'},
        'status_source': {'description': '如：法院公告、市场监管部门通知、资质审批部门文件'},
        'uscc': {'validators': [wv.InputRequired('请填写统一社会信用代码'), DomainCheck(validate_uscc),
                                Unique(Enterprise, Enterprise.uscc, '该统一社会信用代码的企业已存在')]},
        'name': {'validators': [wv.InputRequired('请填写企业名称')]},
        'legal_rep': {'validators': [wv.InputRequired('请填写法定代表人')]},
        'province': {'validators': [wv.InputRequired('请选择省份')]},
    }

    column_extra_row_actions = [EndpointLinkRowAction('fa fa-compress', '.merge_view', title='企业合并（变更注册）')]
    merge_roles = lifecycle.MERGE_ROLES

    @expose('/merge/', methods=('GET', 'POST'))
    def merge_view(self):
        """企业合并 (Art. 13): the registrations move to the enterprise with the new USCC by a registry
        decision (backoffice.workflow.lifecycle.enterprises_merged); same pattern as 依法注销."""
        if current_user.role not in self.merge_roles:
            abort(403)
        source = self.get_one(request.values.get('id'))
        if source is None:
            abort(404)
        errors, form = {}, {'target_uscc': '', 'explanation': ''}
        active = Registration.select().where((Registration.enterprise == source.id)
                                             & (Registration.state == 'active')).count()
        if request.method == 'POST':
            form = {'target_uscc': request.form.get('target_uscc', '').strip().upper(),
                    'explanation': request.form.get('explanation', '')}
            target = None
            if form['target_uscc']:
                try:
                    target = Enterprise.get_or_none(Enterprise.uscc == validate_uscc(form['target_uscc']))
                except ValidationError as exc:
                    errors['target'] = str(exc)
                else:
                    if target is None:
                        errors['target'] = '未找到该统一社会信用代码的企业，请先在企业管理中登记合并后的企业'
            try:                            # also when the USCC was not found: every field's message at once
                done = lifecycle.enterprises_merged(source, target, current_user, form['explanation'])
            except lifecycle.CancelError as exc:
                errors = {**exc.errors, **errors}
            else:
                flash(f'已作出变更注册决定：{len(done)} 名注册人员的聘用企业变更为“{target.name}”，'
                      '注册有效期不变，已签发新证书，将在下一期公告中列出', 'success')
                return redirect(self.get_url('.index_view'))
        return self.render('admin/enterprise_merge.html', ent=source, active=active, form=form, errors=errors)

    def validate_form(self, form):
        ok = super().validate_form(form)
        if ok and hasattr(form, 'status') and form.status.data != 'normal':
            for field, message in (('status_date', '请填写状态日期'), ('status_source', '请填写状态来源')):
                if not getattr(form, field).data:
                    getattr(form, field).errors = list(getattr(form, field).errors) + [message]
                    ok = False
        return ok

    def on_model_change(self, form, model, is_created):
        if not is_created:
            old_name = Enterprise.select(Enterprise.name).where(Enterprise.id == model.id).scalar()
            if old_name and old_name != model.name:
                model.save()                 # the new name first: the decisions and certificates carry it
                lifecycle.enterprise_renamed(model, old_name, current_user)
        if model.verified and model.verified_at is None:
            model.verified_at = now()
        if not model.verified:
            model.verified_at = None


# --- registry records (changed only by the workflow) ----------------------

class RegistrationView(SecureModelView):
    read_roles = REGISTRY + (PROVINCIAL,)
    province_field = Registration.province
    column_list = ('number', 'seal_check', 'person', 'enterprise', 'province', 'state', 'registered_on',
                   'lapsed_on', 'end_reason')
    column_labels = {'number': '注册编号'}
    exact_search = ((REGNO_RE, lambda v: v, Registration.number),)
    column_searchable_list = ('number',)
    name_search = ((Registration.person, Person), (Registration.enterprise, Enterprise))
    key_prefix_search = ((REGNO_PREFIX_RE, Registration.number),)
    search_hint = '注册编号（或其开头），人员姓名或企业名称中的字'
    column_filters = ('state', 'registered_on',
                      pf.FilterEqual(Registration.province, '省份',
                                     options=lambda: [(p.id, p.name) for p in Province.select()]))
    column_formatters = {'state': _choice_formatter(states.REGISTRATION_STATES),
                         'end_reason': _choice_formatter(states.LAPSE_REASONS)}
    column_default_sort = ('id', True)
    column_extra_row_actions = [EndpointLinkRowAction('fa fa-ban', '.cancel_view', title='依法注销')]
    cancel_roles = (REVIEWER, ADMIN)

    @expose('/cancel/', methods=('GET', 'POST'))
    def cancel_view(self):
        """依法注销 (Art. 17): reasons and explanation; the decision goes through the workflow."""
        from flask import abort
        if current_user.role not in self.cancel_roles:
            abort(403)
        reg = self.get_one(request.values.get('id'))
        if reg is None:
            abort(404)
        errors, form = {}, {'reasons': [], 'explanation': '', 'deception': False}
        if request.method == 'POST':
            form = {'reasons': request.form.getlist('reasons'), 'explanation': request.form.get('explanation', ''),
                    'deception': request.form.get('deception') == 'y'}
            try:
                app = lifecycle.cancel_by_registry(reg, current_user, form['reasons'], form['explanation'],
                                                   deception=form['deception'])
            except lifecycle.CancelError as exc:
                errors = exc.errors
            else:
                flash(f'已依法注销注册 {reg.number}（决定记录：申请 {app.number}），证书已作废，'
                      '将在下一期公告中列出', 'success')
                return redirect(self.get_url('.index_view'))
        return self.render('admin/registration_cancel.html', reg=reg, reasons=lifecycle.registry_reasons(),
                           form=form, errors=errors, mask=mask_id_number,
                           state_label=states.REGISTRATION_STATES.get(reg.state, reg.state))


class RegisteredSpecialtyView(SecureModelView):
    read_roles = REGISTRY + (PROVINCIAL,)
    province_field = Registration.province
    column_list = ('registration', 'specialty', 'valid_from', 'valid_until', 'state')
    column_filters = ('valid_until', 'state',
                      pf.FilterEqual(RegisteredSpecialty.specialty, '专业',
                                     options=lambda: [(s.id, s.name) for s in Specialty.select()]))
    column_formatters = {'state': _choice_formatter(states.SPECIALTY_STATES)}


def deadline_state(app, today=None):
    """(css, text) of the deadline badge the queues and the application page show, or None when the
    application is not waiting for the registry (a finished application shows no deadline)."""
    if app.deadline is None or app.state not in WAITING_FOR_REGISTRY:
        return None
    left = (app.deadline - (today or datetime.date.today())).days
    if left < 0:
        return 'badge-danger overdue', f'已超期 {-left} 天'
    return ('badge-warning' if left <= 5 else 'badge-success'), f'剩 {left} 天'


WAITING_FOR_REGISTRY = ('reported', 'correction', 'accepted')


def deadline_badge(app, today=None):
    state = deadline_state(app, today)
    if state is None:
        return Markup(escape(app.deadline or '—'))
    css, text = state
    return Markup(f'<span class="badge {css}">{escape(text)}</span> {escape(app.deadline)}')


def _details_query():
    return (Application.select(Application, Person, Enterprise, Province).join(Person)
            .switch(Application).join(Enterprise, JOIN.LEFT_OUTER)
            .join(Province, JOIN.LEFT_OUTER, on=(Enterprise.province == Province.id), attr='province'))


_DETAILS_ROW = Prepared(lambda pk: _details_query().where(Application.id == pk))
# the application's audit trail with each actor's name only, composed once
_EVENTS = Prepared(lambda app_id: AuditEvent.select(AuditEvent, User.id, User.name)
                   .join(User, JOIN.LEFT_OUTER, on=(AuditEvent.actor == User.id))
                   .where(AuditEvent.application == app_id).order_by(AuditEvent.id))


def _events_of(app_id):
    """The application's audit events in order, each with its actor (id and name) when there is one."""
    width = len(AuditEvent._meta.sorted_fields)
    events = []
    for row in _EVENTS.rows(app_id):
        [event] = joined(row[:width], AuditEvent)
        if row[width] is not None:
            event.__rel__['actor'] = loaded(User, id=row[width], name=row[width + 1])
        events.append(event)
    return events


class ApplicationView(SecureModelView):
    read_roles = REGISTRY
    column_list = ('number', 'business_type', 'person', 'enterprise', 'state', 'submitted_at', 'deadline')
    column_labels = {'number': '申请编号'}
    column_searchable_list = ('number',)
    # issue 15: a person's or enterprise's name fragment from a trigram index; a number by prefix
    name_search = ((Application.person, Person), (Application.enterprise, Enterprise))
    key_prefix_search = ((APPNO_PREFIX_RE, Application.number),)
    search_hint = '申请编号（或其开头），人员姓名或企业名称中的字'
    column_filters = (
        pf.FilterEqual(Application.state, '状态', options=list(states.STATES.items())),
        pf.FilterEqual(Application.business_type, '业务类型', options=list(states.BUSINESS_TYPES.items())),
        'submitted_at', 'accepted_at', 'deadline')
    column_formatters = {'state': _choice_formatter(states.STATES),
                         'business_type': _choice_formatter(states.BUSINESS_TYPES),
                         'deadline': lambda view, context, model, name: deadline_badge(model)}
    column_default_sort = ('id', True)
    details_template = 'admin/application_details.html'
    # After a decision the page offers the next item of the queue the decision belongs to.
    QUEUE_OF = {'accept': 'accept_queue', 'request_correction': 'accept_queue',
                'approve': 'review_queue', 'refuse': 'review_queue'}

    def _queue_view(self, endpoint):
        for v in self.admin._views:
            if getattr(v, 'endpoint', None) == endpoint:
                return v
        return None

    def _next_in_queue(self, done, current_id):
        """(queue name, next application or None, queue url) after a decision `done`, or None."""
        view = self._queue_view(self.QUEUE_OF.get(done))
        if view is None or current_user.role not in view.read_roles or not hasattr(view, 'next_item'):
            return None
        nxt = view.next_item(current_id)
        return {'name': view.name, 'row': nxt, 'list_url': url_for(f'{view.endpoint}.index_view'),
                'url': url_for(f'{view.endpoint}.details_view', id=nxt.id) if nxt else None}

    def _details_row(self, id):
        """get_one for the application page: the application with its person, enterprise and the
        enterprise's province in one query (the same scope; a miss is answered by get_one)."""
        from backoffice.urls import parse_id
        pk = parse_id(id)
        if pk is None:
            return None
        if self.province_field is None and type(self).scope is SecureModelView.scope:
            # no scope to add: the query composed once (db.Prepared; composing it cost more than running it)
            found = _DETAILS_ROW.rows(pk)
            if not found:
                return self.get_one(id)
            app, person, enterprise, province = joined(found[0], Application, Person, Enterprise, Province)
            app.__rel__['person'] = person
            if enterprise is not None:
                enterprise.__rel__['province'] = province
                app.__rel__['enterprise'] = enterprise
            return app
        row = self.scope(_details_query()).where(Application.id == pk).first()
        return row if row is not None else self.get_one(id)

    def _render_details(self, app, errors=None, form=None, done=None):
        # issue 15: every read once (rules.Facts shared by the page and its automatic checks), related
        # rows joined, no query per row
        events = _events_of(app.id)
        facts, user = rules.Facts(app), current_user._get_current_object()
        quals = [(q, q.holder_name == app.person.name, q.holder_id_number == app.person.id_number)
                 for q in facts.qualifications()]
        actions = transitions.available(app, user)
        checks, overrides = transitions.review(app, user, [t.name for t in actions], facts=facts)
        grounds, refusal_grounds = facts.refusal_grounds()
        return self.render(self.details_template, model=app, events=events, actions=actions,
                           checks=checks, quals=quals, overrides=overrides,
                           age=age_on(app.person.birth_date, datetime.date.today()),
                           specialties=facts.specialties_as_chosen(),
                           materials=facts.materials(), grounds=grounds, refusal_grounds=refusal_grounds,
                           states=states.STATES, types=states.BUSINESS_TYPES, kinds=MATERIAL_KINDS,
                           action_label=transitions.action_label, role_labels=ROLES,
                           return_url=self.get_url('.index_view'), mask=mask_id_number,
                           joint=joint_review.summary(app, user, reads=facts), deadline=deadline_state(app),
                           errors=errors, form=form or {}, override_field=transitions.OVERRIDE_FIELD,
                           next_item=self._next_in_queue(done, app.id) if done else None)

    @expose('/details/')
    def details_view(self):
        app = self._details_row(request.args.get('id'))
        if app is None:
            flash('申请不存在', 'error')
            return redirect(self.get_url('.index_view'))
        return self._render_details(app, done=request.args.get('done'))

    @expose('/transition/', methods=('POST',))
    def transition_view(self):
        """Every staff decision on one application posts here and goes through the workflow.

        A refused decision posted from the application page is answered on that page, each message
        at its field and whatever was typed kept; from a queue row (which posts `next`), by a message
        naming the application and back to the queue (or to the page when a reason is needed)."""
        app_id = request.form.get('id', '')
        name = request.form.get('transition', '')
        from_row = bool(request.form.get('next'))
        form = {'transition': name, 'comment': request.form.get('comment', ''),
                'grounds': request.form.getlist('grounds'),
                transitions.OVERRIDE_FIELD: request.form.get(transitions.OVERRIDE_FIELD, '')}
        try:
            app = transitions.perform(int(app_id), name, current_user, comment=form['comment'],
                                      grounds=form['grounds'],
                                      **{transitions.OVERRIDE_FIELD: form[transitions.OVERRIDE_FIELD]})
        except ValueError:
            flash('申请编号无效', 'error')
            return redirect(self.get_url('.index_view'))
        except states.WorkflowError as exc:
            if exc.kind == 'permission':
                abort(403)
            row = self._details_row(app_id)
            if row is None:
                flash('申请不存在', 'error')
                return redirect(self.get_url('.index_view'))
            if from_row or not exc.fields:
                for message in exc.messages:
                    flash(f'申请 {row.number}：{message}', 'error')
                if exc.kind == 'override':          # the reason is given on the application's page
                    return redirect(self.get_url('.details_view', id=row.id))
                return redirect(safe_next(request.form.get('next') or None,
                                          self.get_url('.details_view', id=row.id)))
            return self._render_details(row, errors=exc, form=form)
        label = transitions.action_label(name, app.business_type)
        flash(f'申请 {app.number}：已{label}，当前状态为“{states.STATES[app.state]}”', 'success')
        if from_row:        # back to the queue it came from; an unsafe `next` lands on the application
            return redirect(safe_next(request.form.get('next'), self.get_url('.details_view', id=app.id)))
        return redirect(self.get_url('.details_view', id=app.id, done=name))


class MaterialView(SecureModelView):
    read_roles = REGISTRY
    column_list = ('application', 'kind', 'original_name', 'size', 'content_type', 'uploaded_at')
    column_formatters = {'kind': _choice_formatter(MATERIAL_KINDS)}
    column_details_exclude_list = ('stored_path',)


class NoticeView(SecureModelView):
    read_roles = REGISTRY
    column_list = ('number', 'title', 'state', 'created_at', 'published_at')
    column_formatters = {'state': _choice_formatter({'draft': '草稿', 'published': '已发布'})}


class NoticeItemView(SecureModelView):
    read_roles = REGISTRY
    column_list = ('notice', 'application')


class CertificateView(SecureModelView):
    read_roles = REGISTRY + (PROVINCIAL,)
    province_field = Registration.province
    column_list = ('serial', 'person', 'registration', 'issued_on', 'use_until', 'state', 'printed')
    column_formatters = {'state': _choice_formatter({'valid': '有效', 'void': '作废'})}


def _changes_formatter(view, context, model, name):
    """A staff edit's changes as “字段：原值 → 新值” lines."""
    from markupsafe import Markup, escape
    items = audit.describe(model.changes)
    if not items:
        return ''
    return Markup('<ul class="list-unstyled mb-0">' + ''.join(
        f'<li><strong>{escape(label)}</strong>：{escape(old) if old != "" else "（空）"} → '
        f'{escape(new) if new != "" else "（空）"}</li>' for label, old, new in items) + '</ul>')


def _object_type_formatter(view, context, model, name):
    """The kind of record in Chinese (application → 注册申请); a table not in states.OBJECT_TYPES by the
    name of its back-office page."""
    if model.object_type in states.OBJECT_TYPES:
        return states.OBJECT_TYPES[model.object_type]
    labels = {v.model._meta.table_name: v.name for v in view.admin._views
              if getattr(v, 'model', None) is not None and v.endpoint == v.model._meta.table_name.replace('_', '')}
    return labels.get(model.object_type, model.object_type)


def _audit_application(model):
    """The application an audit event refers to (None for events about other records)."""
    if model.application_id is None:
        return None
    if getattr(model, '_application_row', None) is None:         # once per row, whatever the columns
        model._application_row = Application.get_or_none(Application.id == model.application_id)
    return model._application_row


def _object_id_formatter(view, context, model, name):
    """An application by its number (申请编号), never its internal id; other records by their id."""
    app = _audit_application(model) if model.object_type == 'application' else None
    if app is not None:
        return app.number
    return model.object_id


def _audit_action_formatter(view, context, model, name):
    """The action as the application's business type names it: an 信息修改's approval is 准予变更."""
    if model.action in ('create', 'update'):
        return {'create': '新增', 'update': '修改'}[model.action]
    app = _audit_application(model)
    return transitions.action_label(model.action, app.business_type if app else None)


def _audit_application_formatter(view, context, model, name):
    app = _audit_application(model)
    return app.number if app else '—'


class AuditEventView(SecureModelView):
    """The audit log: read only for everyone (rows are hash-chained; `flask audit verify`)."""
    read_roles = (ADMIN, SUPERVISOR, ACCEPTOR, REVIEWER)
    column_list = ('created_at', 'actor', 'actor_role', 'object_type', 'object_id', 'action', 'from_state',
                   'to_state', 'comment', 'changes')
    column_details_list = ('id', 'created_at', 'actor', 'actor_role', 'application', 'object_type', 'object_id',
                           'action', 'from_state', 'to_state', 'comment', 'changes', 'prev_hash', 'hash')
    column_labels = {'changes': '修改内容（原值 → 新值）', 'prev_hash': '前一条哈希', 'hash': '本条哈希',
                     'id': '记录号', 'object_id': '对象（申请编号或记录号）', 'application': '申请编号'}
    column_filters = (pf.FilterEqual(AuditEvent.object_type, '对象类型', options=list(states.OBJECT_TYPES.items())),
                      pf.FilterEqual(AuditEvent.action, '操作',
                                     options=lambda: sorted(dict(transitions.ACTION_LABELS, create='新增',
                                                                 update='修改').items())),
                      'created_at')
    column_default_sort = ('id', True)
    column_formatters = {'actor_role': _choice_formatter(ROLES),
                         'action': _audit_action_formatter, 'object_id': _object_id_formatter,
                         'application': _audit_application_formatter,
                         'from_state': _choice_formatter(states.STATES),
                         'to_state': _choice_formatter(states.STATES),
                         'changes': _changes_formatter, 'object_type': _object_type_formatter}
    column_formatters_detail = column_formatters
    simple_list_pager = True
    # No screen writes the audit log: no create, edit, delete, bulk action or inline update.
    can_delete = False
    can_export = False
    action_disallowed_list = ['delete']
    write_roles = ()
    create_roles = ()

    @property
    def can_create(self):
        return False

    @property
    def can_edit(self):
        return False

    def get_actions_list(self):
        return [], {}

    def _handle_view(self, name, **kwargs):
        response = super()._handle_view(name, **kwargs)
        if response is not None:
            return response
        if name in self.WRITE_ENDPOINTS:
            abort(403)
        return None

    WRITE_ENDPOINTS = ('create_view', 'edit_view', 'delete_view', 'action_view', 'ajax_update', 'export')

    def create_model(self, form):
        abort(403)

    def update_model(self, form, model):
        abort(403)

    def delete_model(self, model):
        abort(403)


class ExternalRegistrationView(SecureModelView):
    read_roles = REGISTRY
    write_roles = (ADMIN,)
    column_list = ('name', 'id_number', 'category', 'reg_number', 'enterprise_name', 'active', 'source')
    column_formatters = {'id_number': _masked_id}
    exact_search = ((ID_RE, normalize_id_number, ExternalRegistration.id_number),)
    column_searchable_list = ('reg_number',)
    column_filters = ('category', 'active')
    form_columns = ('id_number', 'name', 'category', 'reg_number', 'enterprise_name', 'enterprise_uscc',
                    'active', 'source')
    form_args = {
        'id_number': {'validators': [wv.InputRequired('请填写身份证号码'), DomainCheck(validate_id_number)]},
        'name': {'validators': [wv.InputRequired('请填写姓名')]},
        'category': {'validators': [wv.InputRequired('请填写注册类别')]},
        'reg_number': {'validators': [wv.InputRequired('请填写注册编号')]},
        'enterprise_uscc': {'validators': [wv.Optional(), DomainCheck(validate_uscc)]},
    }


class UserView(JointSpecialtiesMixin, SecureModelView):
    read_roles = (ADMIN,)
    write_roles = (ADMIN,)
    column_list = ('username', 'name', 'role', 'province', 'enterprise', 'active', 'failed_logins',
                   'locked_until', 'last_login_at')
    column_labels = {'locked_until': '暂停登录至', 'session_version': '登录会话版本'}
    column_searchable_list = ('username', 'name')
    column_filters = (pf.FilterEqual(User.role, '角色', options=list(ROLES.items())), 'active')
    column_formatters = {'role': _choice_formatter(ROLES)}
    column_details_exclude_list = ('password_hash', 'session_version')
    # A change of any of these (or a new password) ends every open session of the account.
    session_fields = ('role', 'active', 'province_id', 'enterprise_id', 'person_id')
    form_columns = ('username', 'name', 'role', 'province', 'enterprise', 'mobile', 'active')
    form_extra_fields = {'password': PasswordField('密码（新建必填；修改时留空表示不变）')}
    form_overrides = {'role': SelectField}
    form_args = {
        'username': {'validators': [wv.InputRequired('请填写用户名'),
                                    Unique(User, User.username, '该用户名已被使用')]},
        'name': {'validators': [wv.InputRequired('请填写姓名')]},
        'role': {'choices': list(ROLES.items())},
        'mobile': {'validators': [wv.Optional(), DomainCheck(validate_mobile)]},
    }
    form_ajax_refs = {'enterprise': {'fields': ('name',), 'page_size': 10}}

    def on_model_change(self, form, model, is_created):
        password = form.password.data or ''
        if is_created or password:
            problem = password_problem(password)
            if problem:
                raise ValidationError(problem, 'password')
            model.password_hash = hash_password(password)
        if model.role == PROVINCIAL and model.province_id is None:
            raise ValidationError('省级主管部门账号须指定省份', 'province')
        if model.role == 'enterprise' and model.enterprise_id is None:
            raise ValidationError('企业用户须关联企业', 'enterprise')
        if model.role != PROVINCIAL:
            model.province = None
        model.failed_logins = model.failed_logins or 0
        if not is_created:
            old = User.get_by_id(model.id)
            if password or any(getattr(old, f) != getattr(model, f) for f in self.session_fields):
                auth.end_sessions(model)
                model._sessions_ended = True

    def after_model_change(self, form, model, is_created):
        if getattr(model, '_sessions_ended', False):
            auth.keep_current_session(model)     # an administrator editing their own account stays in

    @action('unlock', '解除登录限制', '确定解除所选账号的登录限制（清零连续登录失败次数）吗？')
    def action_unlock(self, ids):
        if not self.can_edit:
            abort(403)
        pks = [int(i) for i in ids if str(i).isdigit() and int(i) < 2 ** 63]
        count = 0
        for user in User.select().where(User.id.in_(pks)):
            auth.unlock(user, current_user)
            count += 1
        flash(f'已解除 {count} 个账号的登录限制', 'success')

"""Back-office views of notifications (issue 12): the outbox with failures and resend, the editable
message templates, and the enterprise sign-up approval queue. Rules live in backoffice.notify and
backoffice.intake.enterprises."""
import io

from flask import abort, flash, redirect, request, send_file
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from wtforms import validators as wv

from backoffice import storage
from backoffice.intake import enterprises
from backoffice.notify import outbox, templates
from backoffice.roles import ACCEPTOR, ADMIN, SUPERVISOR
from backoffice.urls import parse_id
from backoffice.validators import ValidationError, mask_id_number
from backoffice.workflow.states import WorkflowError
from models import EnterpriseSignup, now

from .base import SecureModelView


def _choices(mapping):
    return lambda view, context, model, name: mapping.get(getattr(model, name), getattr(model, name))


class NotificationView(SecureModelView):
    """Every notification; administrators filter the failed SMS and put them back in the queue."""
    read_roles = (ADMIN, SUPERVISOR)
    write_roles = ()                 # rows change only by sending; administrators may resend
    create_roles = ()
    resend_roles = (ADMIN,)
    column_list = ('created_at', 'channel', 'template_key', 'person', 'enterprise', 'mobile', 'state', 'attempts',
                   'next_attempt_at', 'last_error', 'sent_at', 'read_at')
    column_details_list = column_list + ('text', 'needs_action', 'application', 'claimed_at')
    column_labels = {'channel': '渠道', 'template_key': '消息类型', 'person': '接收人', 'enterprise': '接收企业',
                     'mobile': '手机号码', 'state': '发送状态', 'attempts': '尝试次数', 'next_attempt_at': '下次尝试',
                     'last_error': '最近错误', 'sent_at': '发送时间', 'read_at': '阅读时间', 'text': '内容',
                     'needs_action': '需办理', 'claimed_at': '发送开始'}
    column_filters = ('state', 'channel', 'template_key', 'created_at')
    column_default_sort = ('id', True)
    column_formatters = {'state': _choices(outbox.DELIVERY_STATES), 'channel': _choices(outbox.CHANNELS),
                         'template_key': lambda v, c, m, n: templates.DEFAULTS[m.template_key].label
                         if m.template_key in templates.DEFAULTS else m.template_key}
    column_formatters_detail = column_formatters
    simple_list_pager = True

    @action('resend', '重新发送', '确定将所选的发送失败或等待重试的短信重新放入发送队列吗？')
    def action_resend(self, ids):
        if current_user.role not in self.resend_roles:
            abort(403)
        pks = [pk for pk in (parse_id(i) for i in ids) if pk is not None]
        count = outbox.resend(pks)
        flash(f'已将 {count} 条短信重新放入发送队列' if count else '所选消息中没有发送失败或等待重试的短信',
              'success' if count else 'warning')

    def is_action_allowed(self, name):
        from flask import has_request_context
        if name == 'resend' and has_request_context():       # outside a request: the route policy asks
            return current_user.is_authenticated and current_user.role in self.resend_roles
        return super().is_action_allowed(name)


class NotificationTemplateView(SecureModelView):
    """The message texts: administrators edit them; an unknown placeholder is refused at the field."""
    read_roles = (ADMIN,)
    write_roles = (ADMIN,)
    create_roles = ()
    column_list = ('label', 'key', 'needs_action', 'text', 'updated_at')
    column_labels = {'label': '消息类型', 'key': '模板代码', 'needs_action': '需办理（总是发短信）', 'text': '模板内容',
                     'updated_at': '修改时间'}
    form_columns = ('text',)
    form_args = {'text': {'label': '模板内容', 'validators': [wv.InputRequired('请填写模板内容')]}}
    form_widget_args = {'text': {'rows': 5}}

    def get_list(self, *args, **kwargs):
        templates.ensure_defaults()          # the default text of every message kind, editable from here on
        return super().get_list(*args, **kwargs)

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if obj is not None:
            form.text.description = templates.help_text(obj.key)
        return form

    def on_model_change(self, form, model, is_created):
        try:
            model.text = templates.validate(model.key, model.text)
        except templates.TemplateError as exc:
            raise ValidationError(exc.message, 'text') from None
        model.updated_at = now()


class EnterpriseSignupView(SecureModelView):
    """企业实名认证审核: approve (the enterprise and its administrator's account) or refuse with a reason."""
    read_roles = (ADMIN, ACCEPTOR)
    write_roles = ()
    create_roles = ()
    column_list = ('created_at', 'kind', 'name', 'uscc', 'legal_rep', 'province', 'mobile', 'state', 'reason',
                   'decided_at')
    column_labels = {'mobile': '联系手机', 'state': '审核状态', 'reason': '不予通过原因', 'decided_at': '审核时间',
                     'legal_rep_id_number': '法定代表人身份证号', 'kind': '类型', 'username': '管理员用户名', 'licence_type': '营业执照类型'}
    column_details_list = ('created_at', 'name', 'uscc', 'legal_rep', 'legal_rep_id_number', 'province', 'address',
                           'mobile', 'username', 'licence_type', 'state', 'reason', 'decided_by', 'decided_at')
    column_filters = ('state', 'kind', 'created_at')
    column_searchable_list = ('name', 'uscc')
    column_default_sort = ('id', True)
    column_formatters = {'state': _choices(enterprises.SIGNUP_STATES), 'kind': _choices(enterprises.SIGNUP_KINDS),
                         'legal_rep_id_number': lambda v, c, m, n: mask_id_number(m.legal_rep_id_number)}
    column_formatters_detail = column_formatters
    column_extra_row_actions = [EndpointLinkRowAction('fa fa-check', '.decide_view', title='审核')]

    def _row(self):
        pk = parse_id(request.values.get('id'))
        row = EnterpriseSignup.get_or_none(EnterpriseSignup.id == pk) if pk is not None else None
        if row is None:
            abort(404)
        return row

    @expose('/decide/', methods=('GET', 'POST'))
    def decide_view(self):
        row = self._row()
        error = None
        if request.method == 'POST':
            try:
                if request.form.get('decision') == 'approve':
                    enterprises.approve(row.id, current_user)
                    flash(f'已通过企业信息变更：{row.name}' if row.kind == 'change' else
                          f'已通过：{row.name}，已开通企业管理员账号“{row.username}”', 'success')
                else:
                    enterprises.refuse(row.id, current_user, request.form.get('reason', ''))
                    flash(f'已不予通过：{row.name}', 'success')
                return redirect(self.get_url('.index_view'))
            except WorkflowError as exc:
                error = '；'.join(exc.messages)
        return self.render('admin/enterprise_signup_decide.html', row=row, error=error,
                           mask=mask_id_number, states=enterprises.SIGNUP_STATES)

    @expose('/licence/')
    def licence_view(self):
        row = self._row()
        try:
            data = storage.uploads().get_bytes(row.licence_path)
        except (OSError, KeyError, LookupError):
            abort(404)
        ext = row.licence_path.rsplit('.', 1)[-1]
        return send_file(io.BytesIO(data), mimetype=row.licence_type, as_attachment=True,
                         download_name=f'licence-{row.uscc}.{ext}')

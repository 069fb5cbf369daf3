"""Back office of the open API: API clients (create, rotate the secret, deactivate) and the read log."""
from flask import abort, flash, g
from flask_admin import expose
from flask_admin.actions import action
from wtforms import SelectField, SelectMultipleField
from wtforms import validators as wv

from backoffice import audit
from backoffice.api import clients, readlog
from backoffice.api.scopes import SCOPES
from backoffice.roles import ADMIN, SUPERVISOR
from backoffice.validators import ValidationError
from flask_admin.contrib.peewee.filters import BasePeeweeFilter
from models import ApiClient, ApiReadLog
from flask_login import current_user

from .base import SecureModelView


class ApiClientView(SecureModelView):
    read_roles = (ADMIN,)
    write_roles = (ADMIN,)
    column_list = ('name', 'client_id', 'kind', 'scopes', 'province', 'enterprise', 'active', 'created_at',
                   'rotated_at')
    column_labels = {'name': '客户端名称', 'client_id': '客户端标识（client_id）', 'kind': '类型', 'scopes': '权限范围',
                     'province': '所属省份', 'enterprise': '关联企业', 'active': '启用', 'created_at': '创建时间',
                     'rotated_at': '密钥更换时间', 'scope_list': '权限范围'}
    column_formatters = {'kind': lambda v, c, m, n: clients.KINDS.get(m.kind, m.kind)}
    column_details_exclude_list = ('secret_hash', 'generation')
    column_searchable_list = ('name', 'client_id')
    column_filters = ('active', 'kind')
    form_columns = ('name', 'kind', 'scope_list', 'province', 'enterprise', 'active')
    form_overrides = {'kind': SelectField}
    form_extra_fields = {'scope_list': SelectMultipleField('权限范围', choices=list(SCOPES.items()))}
    form_args = {'name': {'validators': [wv.InputRequired('请填写客户端名称')]},
                 'kind': {'choices': list(clients.KINDS.items())}}
    form_ajax_refs = {'enterprise': {'fields': ('name',), 'page_size': 10}}

    def on_form_prefill(self, form, id):
        row = ApiClient.get_or_none(ApiClient.id == id)
        if row is not None:
            form.scope_list.data = sorted(row.scope_set)

    def on_model_change(self, form, model, is_created):
        chosen = [s for s in (form.scope_list.data or []) if s in SCOPES]
        errors = clients.check(model.kind, chosen, model.province_id, model.enterprise_id)
        if errors:
            field, message = next(iter(errors.items()))
            raise ValidationError(message, 'scope_list' if field == 'scopes' else field)
        model.scopes = ' '.join(sorted(chosen))
        if is_created:
            secret = clients.new_secret()
            model.client_id = clients.new_client_id()
            model.secret_hash = clients.hash_secret(secret)
            model.generation = 1
            g.api_new_secret = secret

    @expose('/new/', methods=('GET', 'POST'))
    def create_view(self):
        response = super().create_view()
        secret = g.pop('api_new_secret', None)
        if secret is None:
            return response
        client = ApiClient.select().order_by(ApiClient.id.desc()).first()
        return self.render('admin/api_client_secret.html', client=client, secret=secret, created=True)

    @action('rotate', '更换密钥', '更换后旧密钥及其签发的访问令牌立即失效。确定为所选客户端生成新密钥吗？')
    def action_rotate(self, ids):
        if not self.can_edit:
            abort(403)
        pks = [int(i) for i in ids if str(i).isdigit() and int(i) < 2 ** 63]
        if len(pks) != 1:
            flash('请只勾选一个客户端更换密钥', 'error')
            return None
        client = ApiClient.get_or_none(ApiClient.id == pks[0])
        if client is None:
            abort(404)
        from models import database
        with database.atomic():
            secret = clients.rotate(client)
            audit.record('rotate_secret', object_type='api_client', object_id=client.id, actor=current_user.id,
                         actor_role=current_user.role, comment=f'API 客户端：更换密钥（{client.client_id}）')
        return self.render('admin/api_client_secret.html', client=ApiClient.get_by_id(client.id), secret=secret,
                           created=False)

    @action('deactivate', '停用', '停用后该客户端不能再取得或使用访问令牌。确定停用所选客户端吗？')
    def action_deactivate(self, ids):
        if not self.can_edit:
            abort(403)
        pks = [int(i) for i in ids if str(i).isdigit() and int(i) < 2 ** 63]
        from models import database
        count = 0
        with database.atomic():
            for client in ApiClient.select().where(ApiClient.id.in_(pks) & (ApiClient.active == True)):  # noqa: E712
                clients.deactivate(client)
                audit.record('deactivate', object_type='api_client', object_id=client.id, actor=current_user.id,
                             actor_role=current_user.role, comment=f'API 客户端：停用（{client.client_id}）')
                count += 1
        flash(f'已停用 {count} 个客户端', 'success')


class _ReadPersonFilter(BasePeeweeFilter):
    """人员编号: point reads of the person and the feed pages that delivered the person's registrations."""

    def __init__(self):
        super().__init__(ApiReadLog.person_id, '人员编号（含变更数据流）')

    def validate(self, value):
        return str(value).strip().isdigit() and int(value) < 2 ** 63

    def apply(self, query, value):
        return query.where(readlog.read_person(int(value)))

    def operation(self):
        return '等于'


class ApiReadLogView(SecureModelView):
    read_roles = (SUPERVISOR, ADMIN)
    column_list = ('created_at', 'client', 'resource', 'query', 'person_id')
    column_labels = {'created_at': '读取时间', 'client': 'API 客户端', 'resource': '读取内容', 'query': '查询内容',
                     'person_id': '人员编号'}
    column_formatters = {'resource': lambda v, c, m, n: {
        'person': '注册人员查询', 'registration_list': '注册记录列表', 'registration_feed': '注册变更数据流',
        'application': '申请状态查询', 'certificate': '证书核验'}.get(m.resource, m.resource)}
    column_filters = ('created_at', 'resource', _ReadPersonFilter())
    column_default_sort = ('id', True)
    simple_list_pager = True

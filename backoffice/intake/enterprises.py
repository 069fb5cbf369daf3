"""Enterprise self-service (issue 12): sign-up with 实名认证, the registry's approval, the
enterprise administrator's HR accounts, and batch 上报 from the inbox.

Sign-up: the fields are checked (USCC by python-stdnum, one account per USCC, the legal
representative through the identity provider, the contact mobile by SMS code, the business licence
checked by content and size), then an EnterpriseSignup row waits for the registry. Until it is
approved no verified Enterprise exists for it, so applicants are not offered it (FAQ 5). Approval
creates (or verifies) the Enterprise and the enterprise administrator's account; the administrator
then creates HR accounts. Every workflow action is audited with the acting user.
"""
import hashlib

from models import Enterprise, EnterpriseSignup, Province, User, database, now

from backoffice import audit, storage
from backoffice.auth import hash_password, password_problem
from backoffice.intake import identity, uploads
from backoffice.roles import ENTERPRISE
from backoffice.validators import ValidationError, validate_mobile, validate_uscc
from backoffice.workflow.states import WorkflowError

LICENCE_MAX_BYTES = 5 * 1024 * 1024
FIELDS = ('uscc', 'name', 'legal_rep', 'legal_rep_id_number', 'province', 'address', 'mobile', 'username', 'code')
SIGNUP_STATES = {'pending': '待审核', 'approved': '已通过', 'refused': '未通过'}
SIGNUP_KINDS = {'signup': '企业注册', 'change': '企业信息变更'}


class SignupError(Exception):
    def __init__(self, errors):
        super().__init__('；'.join(errors.values()))
        self.errors = errors                 # {field: Chinese message}


def _taken(code):
    """A Chinese message when the USCC already has an account or a sign-up waiting, else None."""
    if EnterpriseSignup.select().where((EnterpriseSignup.uscc == code)
                                       & EnterpriseSignup.state.in_(('pending', 'approved'))).exists():
        return '该统一社会信用代码已注册企业账号（或正在审核中），请直接登录，或联系本单位的企业管理员'
    ent = Enterprise.get_or_none(Enterprise.uscc == code)
    if ent is not None and User.select().where(User.enterprise == ent).exists():
        return '该统一社会信用代码已注册企业账号，请直接登录，或联系本单位的企业管理员'
    return None


def check_form(form, licence=None, password=None, password2=None, for_code=False):
    """Field checks that need no SMS: {field: message} (empty when everything is right)."""
    errors = {}
    try:
        code = validate_uscc(form.get('uscc'))
        taken = _taken(code)
        if taken:
            errors['uscc'] = taken
    except ValidationError as exc:
        errors['uscc'] = exc.message
    if for_code:
        return errors
    if not Province.get_or_none(Province.code == (form.get('province') or '')):
        errors['province'] = '请选择企业所在省份'
    errors.update(_data_errors(form, licence))
    username = (form.get('username') or '').strip()
    if not username:
        errors['username'] = '请填写企业管理员的登录用户名'
    elif len(username) > 50:
        errors['username'] = '用户名过长'
    elif _username_taken(username):
        errors['username'] = '该用户名已被使用'
    problem = password_problem(password or '')
    if problem:
        errors['password'] = problem
    elif password != password2:
        errors['password2'] = '两次输入的密码不一致'
    return errors


def _username_taken(username):
    return bool(User.get_or_none(User.username == username) or EnterpriseSignup.select().where(
        (EnterpriseSignup.username == username) & (EnterpriseSignup.state == 'pending')
        & (EnterpriseSignup.kind == 'signup')).exists())


def _data_errors(form, licence):
    """Name, address and the business licence (checked by content and size): {field: message}."""
    errors = {}
    if not (form.get('name') or '').strip():
        errors['name'] = '请填写企业名称（与营业执照一致）'
    elif len(form['name'].strip()) > 200:
        errors['name'] = '企业名称过长'
    if not (form.get('address') or '').strip():
        errors['address'] = '请填写企业地址'
    elif len(form['address'].strip()) > 200:
        errors['address'] = '企业地址过长'
    if licence is None or not licence[1]:
        errors['licence'] = '请上传营业执照（JPG、PNG 图片或 PDF 文件）'
    elif len(licence[1]) > LICENCE_MAX_BYTES:
        errors['licence'] = f'营业执照文件过大（{len(licence[1]) / 1024 / 1024:.1f} MB），不能超过 5 MB'
    else:
        try:
            uploads._check('licence', licence[1])
        except uploads.UploadError as exc:
            errors['licence'] = '营业执照' + exc.message
    return errors


def send_code(form, client=None):
    """Step 1: USCC not taken, legal representative checked, SMS code sent. Raises SignupError."""
    errors = check_form(form, for_code=True)
    if errors:
        raise SignupError(errors)
    try:
        identity.provider().enterprise_start(form.get('uscc'), form.get('legal_rep'), form.get('legal_rep_id_number'),
                                             form.get('mobile'), client=client)
    except identity.IdentityError as exc:
        raise SignupError({exc.field or 'form': exc.message}) from None


def sign_up(form, licence, password, password2):
    """Step 2: every check, then the EnterpriseSignup row and the stored licence. Raises SignupError."""
    errors = check_form(form, licence, password, password2)
    if errors:
        raise SignupError(errors)
    try:
        code, legal_rep, number, mobile = identity.provider().enterprise_confirm(
            form.get('uscc'), form.get('legal_rep'), form.get('legal_rep_id_number'), form.get('mobile'),
            form.get('code'))
    except identity.IdentityError as exc:
        raise SignupError({exc.field or 'form': exc.message}) from None
    key, content_type = _store_licence(code, licence[1])
    with database.atomic():
        if _taken(code):                 # a second sign-up raced this one
            raise SignupError({'uscc': _taken(code)})
        row = EnterpriseSignup.create(
            uscc=code, name=form['name'].strip(), legal_rep=legal_rep, legal_rep_id_number=number,
            province=Province.get(Province.code == form['province']), address=form['address'].strip(),
            mobile=mobile, username=form['username'].strip(), password_hash=hash_password(password),
            licence_path=key, licence_type=content_type, created_at=now())
        audit.record('enterprise_signup', object_type='enterprise_signup', object_id=row.id, actor=None,
                     actor_role='anonymous', comment=f'企业自助注册：{row.name}（{code}）')
    return row


def _store_licence(code, data):
    content_type, ext, _result = uploads._check('licence', data)
    key = f'enterprise-signup/{code}-{hashlib.sha256(data).hexdigest()[:16]}.{ext}'
    storage.uploads().put_bytes(key, data, content_type)
    return key, content_type


# --- a change of the enterprise's data: 实名认证 again, then the registry decides ---------------

CHANGE_FIELDS = ('name', 'legal_rep', 'legal_rep_id_number', 'address', 'mobile', 'code')


def pending_change(enterprise_id):
    return EnterpriseSignup.get_or_none((EnterpriseSignup.enterprise == enterprise_id)
                                        & (EnterpriseSignup.kind == 'change') & (EnterpriseSignup.state == 'pending'))


def change_send_code(admin, form, client=None):
    """Step 1 of a change: the legal representative and the contact mobile, SMS code sent."""
    ent = Enterprise.get_by_id(admin.enterprise_id)
    try:
        identity.provider().enterprise_start(ent.uscc, form.get('legal_rep'), form.get('legal_rep_id_number'),
                                             form.get('mobile'), client=client, known_check=False)
    except identity.IdentityError as exc:
        raise SignupError({exc.field or 'form': exc.message}) from None


def request_change(admin, form, licence):
    """Step 2: the new data with a new licence, waiting for the registry (kind 'change'). Raises SignupError."""
    ent = Enterprise.get_by_id(admin.enterprise_id)
    errors = _data_errors(form, licence)
    if pending_change(ent.id) is not None:
        errors['form'] = '本单位已有一项企业信息变更正在审核，请等待审核结果'
    if errors:
        raise SignupError(errors)
    try:
        code, legal_rep, number, mobile = identity.provider().enterprise_confirm(
            ent.uscc, form.get('legal_rep'), form.get('legal_rep_id_number'), form.get('mobile'), form.get('code'),
            known_check=False)
    except identity.IdentityError as exc:
        raise SignupError({exc.field or 'form': exc.message}) from None
    key, content_type = _store_licence(code, licence[1])
    with database.atomic():
        row = EnterpriseSignup.create(
            kind='change', uscc=code, name=form['name'].strip(), legal_rep=legal_rep, legal_rep_id_number=number,
            province=ent.province_id, address=form['address'].strip(), mobile=mobile, username=admin.username,
            password_hash='', licence_path=key, licence_type=content_type, enterprise=ent.id, admin_user=admin.id,
            created_at=now())
        audit.record('enterprise_change_request', object_type='enterprise_signup', object_id=row.id, actor=admin.id,
                     actor_role=admin.role, comment=f'企业信息变更申请：{ent.name} → {row.name}')
    return row


def _apply_change(row, actor):
    """The approved change: the enterprise's data; a new name starts the 变更注册 of its registrations."""
    from backoffice.workflow import lifecycle
    ent = Enterprise.get_by_id(row.enterprise_id)
    old_name = ent.name
    Enterprise.update(name=row.name, legal_rep=row.legal_rep, address=row.address, verified=True,
                      verified_at=now()).where(Enterprise.id == ent.id).execute()
    updated = (EnterpriseSignup.update(state='approved', decided_by=actor.id, decided_at=now())
               .where((EnterpriseSignup.id == row.id) & (EnterpriseSignup.state == 'pending')).execute())
    if updated != 1:
        raise WorkflowError('该企业信息变更刚刚已被其他人处理', 'conflict')
    audit.record('enterprise_change', object_type='enterprise', object_id=ent.id, actor=actor.id,
                 actor_role=actor.role, comment=f'企业信息变更（实名认证通过）：名称 {old_name} → {row.name}；'
                                                f'法定代表人 {ent.legal_rep} → {row.legal_rep}')
    ent = Enterprise.get_by_id(ent.id)
    if ent.name != old_name:
        lifecycle.enterprise_renamed(ent, old_name, actor)
    return ent


def approve(signup_id, actor):
    """The registry approves: the Enterprise (created or verified) and its administrator's account."""
    with database.atomic():
        row = EnterpriseSignup.get_or_none(EnterpriseSignup.id == signup_id)
        if row is None or row.state != 'pending':
            raise WorkflowError('该企业注册申请不是待审核状态', 'state')
        if row.kind == 'change':
            return _apply_change(row, actor)
        if User.get_or_none(User.username == row.username):
            raise WorkflowError(f'用户名“{row.username}”已被其他账号使用，请不予通过并告知企业重新注册', 'rule')
        ent = Enterprise.get_or_none(Enterprise.uscc == row.uscc)
        if ent is None:
            ent = Enterprise.create(uscc=row.uscc, name=row.name, legal_rep=row.legal_rep, province=row.province_id,
                                    address=row.address, verified=True, verified_at=now())
        else:
            Enterprise.update(verified=True, verified_at=now()).where(Enterprise.id == ent.id).execute()
        user = User.create(username=row.username, name=f'{row.name}管理员'[:50], password_hash=row.password_hash,
                           role=ENTERPRISE, enterprise=ent, mobile=row.mobile)
        updated = (EnterpriseSignup.update(state='approved', enterprise=ent, admin_user=user, decided_by=actor.id,
                                           decided_at=now())
                   .where((EnterpriseSignup.id == row.id) & (EnterpriseSignup.state == 'pending')).execute())
        if updated != 1:
            raise WorkflowError('该企业注册申请刚刚已被其他人处理', 'conflict')
        audit.record('enterprise_approve', object_type='enterprise_signup', object_id=row.id, actor=actor.id,
                     actor_role=actor.role, from_state='pending', to_state='approved',
                     comment=f'企业实名认证通过：{row.name}（{row.uscc}）')
    return ent


def refuse(signup_id, actor, reason):
    reason = (reason or '').strip()
    if not reason:
        raise WorkflowError('请填写不予通过的原因', 'rule')
    with database.atomic():
        updated = (EnterpriseSignup.update(state='refused', reason=reason[:300], decided_by=actor.id, decided_at=now())
                   .where((EnterpriseSignup.id == signup_id) & (EnterpriseSignup.state == 'pending')).execute())
        if updated != 1:
            raise WorkflowError('该企业注册申请不是待审核状态', 'state')
        audit.record('enterprise_refuse', object_type='enterprise_signup', object_id=signup_id, actor=actor.id,
                     actor_role=actor.role, from_state='pending', to_state='refused', comment=reason[:300])


def is_enterprise_admin(user):
    return bool(user and getattr(user, 'role', None) == ENTERPRISE and EnterpriseSignup.select().where(
        (EnterpriseSignup.admin_user == user.id) & (EnterpriseSignup.state == 'approved')).exists())


def enterprise_users(enterprise_id):
    return list(User.select().where((User.enterprise == enterprise_id) & (User.role == ENTERPRISE)).order_by(User.id))


def create_hr_user(admin, username, name, mobile, password, password2):
    """The enterprise administrator creates an HR account for the same enterprise. Raises SignupError."""
    errors = {}
    username, name = (username or '').strip(), (name or '').strip()
    if not username:
        errors['username'] = '请填写用户名'
    elif len(username) > 50:
        errors['username'] = '用户名过长'
    elif _username_taken(username):
        errors['username'] = '该用户名已被使用'
    if not name:
        errors['name'] = '请填写姓名'
    elif len(name) > 50:
        errors['name'] = '姓名过长'
    try:
        mobile = validate_mobile(mobile)
    except ValidationError as exc:
        errors['mobile'] = exc.message
    problem = password_problem(password or '')
    if problem:
        errors['password'] = problem
    elif password != password2:
        errors['password2'] = '两次输入的密码不一致'
    if errors:
        raise SignupError(errors)
    with database.atomic():
        user = User.create(username=username, name=name, password_hash=hash_password(password), role=ENTERPRISE,
                           enterprise=admin.enterprise_id, mobile=mobile)
        audit.record('create', object_type='user', object_id=user.id, actor=admin.id, actor_role=admin.role,
                     comment=f'企业管理员新建人事账号：{name}（{username}）')
    return user


def report_many(app_ids, actor):
    """Batch 上报: each application through the workflow's perform, one by one.
    Returns (done numbers, [(number, reason)])."""
    from models import Application
    from backoffice.workflow import transitions
    done, failed = [], []
    ids = sorted({int(i) for i in app_ids})
    apps = {a.id: a for a in Application.select().where(Application.id.in_(ids or [0]))}
    for app_id in ids:
        app = apps.get(app_id)
        if app is None:
            failed.append((f'#{app_id}', '申请不存在'))
            continue
        try:
            transitions.perform(app, 'report', actor)
            done.append(app.number)
        except WorkflowError as exc:
            failed.append((app.number, '；'.join(exc.messages)))
    return done, failed

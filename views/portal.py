"""The applicant portal (个人版): sign-up, the six business types, uploads, SMS, progress, photo tool."""
import io

from flask import (Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file,
                   url_for)
from flask_login import current_user

from backoffice.intake import applications as svc
from backoffice import access
from backoffice.intake import identity, photo, sms, uploads
from backoffice.workflow import rules, transitions, states
from backoffice.validators import mask_mobile
from backoffice.auth import hash_password, password_problem, roles_required, start_session
from backoffice import limits
from backoffice.limits import client_key, limit
from backoffice.roles import ADMIN, APPLICANT
from models import (EDUCATIONS, MATERIAL_KINDS, Application, CancellationReason, Person, Qualification, SmsMessage,
                    User, database)

from .guard import fetch_or_abort

bp = Blueprint('portal', __name__, url_prefix='/portal')
applicant_only = roles_required(APPLICANT)


def _own(app_id):
    # someone else's application: 403, never shown
    return fetch_or_abort(Application, Application.id == app_id, access.owns_application)


# --- sign-up ------------------------------------------------------------------

SIGNUP_FIELDS = ('name', 'id_number', 'cert_number', 'mobile', 'username', 'code')


@bp.route('/signup', methods=['GET', 'POST'])
@limit('RATELIMIT_SIGNUP', methods=['POST'])          # per client, every attempt; per ID number in identity
def signup():
    provider = identity.provider()
    form = {k: request.form.get(k, '').strip() for k in SIGNUP_FIELDS}
    errors = {}
    if request.method == 'POST':
        step = request.form.get('step')
        try:
            if step == 'code':
                provider.start(form['name'], form['id_number'], form['cert_number'], form['mobile'],
                               client=client_key())
                flash('验证码已发送到您的手机' + ('（演示环境：短信写入发件箱，由系统管理员查看）'
                                          if sms.demo_outbox_enabled() else ''), 'info')
            else:
                password, password2 = request.form.get('password', ''), request.form.get('password2', '')
                # checked before the identity so that a typo does not use up the SMS code
                problem = password_problem(password)
                if problem:
                    errors['password'] = problem
                elif password != password2:
                    errors['password2'] = '两次输入的密码不一致'
                if not errors:
                    name, number, mobile = provider.confirm(form['name'], form['id_number'], form['cert_number'],
                                                            form['mobile'], form['code'])
                    user = _create_applicant(name, number, mobile, form['username'], password, errors)
                    if user is not None:
                        start_session(user)
                        flash('账号注册成功，已完成实名核验', 'success')
                        return redirect(url_for('portal.home'))
        except identity.IdentityError as exc:
            errors[exc.field or 'form'] = exc.message
    return render_template('portal/signup.html', form=form, errors=errors, provider=provider,
                           demo_outbox=sms.demo_outbox_enabled()), (400 if errors else 200)


def _create_applicant(name, number, mobile, username, password, errors):
    """After the identity is confirmed: the account (and the person record when new)."""
    username = username or number
    if User.get_or_none(User.username == username):
        errors['username'] = '该用户名已被使用'
    person = Person.get_or_none(Person.id_number == number)
    if person is not None and User.get_or_none(User.person == person):
        errors['id_number'] = '该身份证号已注册账号，请直接登录'
    if errors:
        return None
    from backoffice.validators import id_number_facts
    with database.atomic():
        if person is None:
            birth, gender = id_number_facts(number)
            person = Person.create(id_number=number, name=name, birth_date=birth, gender=gender, mobile=mobile)
        Qualification.update(person=person).where((Qualification.holder_id_number == number)
                                                  & Qualification.person.is_null()).execute()
        return User.create(username=username, name=name, password_hash=hash_password(password), role=APPLICANT,
                           person=person, mobile=mobile)


def sms_outbox():
    """Demo only (SMS_DEMO_OUTBOX, never in production): the outbox, for administrators."""
    if not sms.demo_outbox_enabled():
        abort(404)
    return _sms_outbox_page()


@bp.record
def _register_sms_outbox(state):
    # the page exists only in an app started with the demo setting on (ProductionConfig: never)
    if state.app.config.get('SMS_DEMO_OUTBOX'):
        state.add_url_rule('/sms-outbox', 'sms_outbox', sms_outbox)


@roles_required(ADMIN)
def _sms_outbox_page():
    mobile = request.args.get('mobile', '').strip()
    rows = SmsMessage.select().order_by(SmsMessage.id.desc())
    if mobile:
        rows = rows.where(SmsMessage.mobile == mobile)
    return render_template('portal/sms_outbox.html', rows=rows.limit(50), mobile=mobile)


# --- home and the business types ----------------------------------------------------

@bp.route('/')
@applicant_only
def home():
    person = Person.get_by_id(current_user.person_id)
    return render_template('portal/home.html', person=person, types=states.BUSINESS_TYPES,
                           reg=rules.active_registration(person), open_apps=list(svc.open_applications(person)),
                           quals=svc.qualifications_of(person))


@bp.route('/apply/<business_type>', methods=['GET', 'POST'])
@applicant_only
def notice(business_type):
    if business_type not in states.APPLICANT_TYPES:
        abort(404)
    text, materials = svc.NOTICES[business_type]
    error = None
    if request.method == 'POST':
        if request.form.get('agree') != 'y':
            error = '请阅读并勾选“注册须知”后再点击下一步' if business_type != 'cancellation' else \
                '请确认您具备注销条件并勾选后再点击下一步'
        else:
            try:
                app = svc.start(Person.get_by_id(current_user.person_id), business_type)
            except svc.FormErrors as exc:
                error = '；'.join(exc.errors.values())
            else:
                return redirect(url_for('portal.edit', app_id=app.id))
    return render_template('portal/notice.html', business_type=business_type, label=states.BUSINESS_TYPES[business_type],
                           text=text, materials=materials, error=error)


def _form_context(app, errors=None):
    app = Application.get_by_id(app.id)
    person = Person.get_by_id(app.person_id)
    kinds = {
        'initial': ('photo', 'signature', 'contract', 'continuing_education', 'other'),
        'reregister': ('photo', 'signature', 'contract', 'continuing_education', 'other'),
        'renewal': ('photo', 'signature', 'continuing_education', 'contract', 'other'),
        'addition': ('photo', 'signature', 'other'),
        'info_change': ('photo', 'id_front', 'id_back', 'change_proof'),
        'cancellation': (),
    }[app.business_type]
    return dict(app=app, person=person, errors=errors or {}, label=states.BUSINESS_TYPES[app.business_type],
                allowed=svc.allowed_specialties(app), chosen={s.id for s in rules.chosen_specialties(app)},
                reasons=list(CancellationReason.select().order_by(CancellationReason.sort)),
                picked={r.reason_id for r in app.cancel_reasons}, educations=EDUCATIONS,
                commitment=svc.commitment_text(app), materials=svc.materials_of(app), kinds=kinds,
                kind_labels=MATERIAL_KINDS, editable=app.state in svc.EDITABLE, states=states.STATES,
                needs_enterprise=app.business_type in svc.NEEDS_ENTERPRISE,
                needs_specialties=app.business_type in svc.NEEDS_SPECIALTIES,
                needs_commitment=app.business_type in svc.NEEDS_COMMITMENT)


@bp.route('/application/<int:app_id>', methods=['GET', 'POST'])
@applicant_only
def edit(app_id):
    app = _own(app_id)
    errors = {}
    if request.method == 'POST':
        action = request.form.get('action', 'save')
        try:
            svc.save(app, request.form, current_user)
        except svc.FormErrors as exc:
            errors.update(exc.errors)
        except states.WorkflowError:
            abort(403)
        if action == 'upload' and not errors:
            file = request.files.get('file')
            kind = request.form.get('kind', '')
            if kind == 'photo':                 # photos are checked by the costly photo tool
                limits.check('RATELIMIT_PHOTO', client_key())
            try:
                svc.upload(app, kind, file.filename if file else '', file.read() if file else b'', current_user)
                flash(f'已上传：{MATERIAL_KINDS.get(kind, kind)}', 'success')
            except uploads.UploadError as exc:
                # a kind with no upload box here (the generated commitment, an unknown kind): at the top
                errors['upload_' + kind if kind in uploads.APPLICANT_KINDS else 'form'] = exc.message
        elif action == 'submit' and not errors:
            try:
                svc.submit(Application.get_by_id(app.id), current_user, request.form.get('code', ''))
            except svc.FormErrors as exc:
                errors.update(exc.errors)
            except states.WorkflowError as exc:
                if exc.kind == 'permission':
                    abort(403)
                errors['rules'] = exc.messages
            else:
                return redirect(url_for('portal.submitted', app_id=app.id))
        elif action == 'save' and not errors:
            flash('草稿已保存', 'success')
        if not errors:
            return redirect(url_for('portal.edit', app_id=app.id))
    return render_template('portal/form.html', **_form_context(app, errors)), (400 if errors else 200)


@bp.route('/enterprises')
@applicant_only
def enterprises():
    """Suggestions for the 聘用企业 box: only enterprises that finished 实名认证 (FAQ 5)."""
    term = request.args.get('q', '')
    items = [{'uscc': e.uscc, 'name': e.name, 'legal_rep': e.legal_rep, 'province': e.province.name,
              'city': e.city, 'address': e.address} for e in svc.suggest_enterprises(term)]
    hint = ''
    if not items and term.strip():
        from models import Enterprise
        pending = Enterprise.get_or_none((Enterprise.name == term.strip()) | (Enterprise.uscc == term.strip().upper()))
        hint = svc.enterprise_problem(pending) if pending is not None else '请确认企业名称：没有找到匹配的已实名认证企业'
    return jsonify(items=items, hint=hint)


@bp.route('/application/<int:app_id>/sms', methods=['POST'])
@applicant_only
def send_code(app_id):
    _own(app_id)
    try:
        wait = sms.send_code(current_user.mobile, 'submit', client=client_key())
    except sms.SmsError as exc:
        status = 502 if exc.message == sms.SEND_FAILED else 429
        resp = jsonify(ok=False, message=exc.message)
        if exc.retry_after:
            resp.headers['Retry-After'] = str(exc.retry_after)
        return resp, status
    return jsonify(ok=True, message=f'验证码已发送至 {mask_mobile(current_user.mobile)}', wait=wait)


@bp.route('/application/<int:app_id>/submitted')
@applicant_only
def submitted(app_id):
    app = _own(app_id)
    return render_template('portal/submitted.html', app=app, message=svc.SUCCESS_MESSAGE)


@bp.route('/application/<int:app_id>/abandon', methods=['POST'])
@applicant_only
def abandon(app_id):
    app = _own(app_id)
    try:
        transitions.perform(app, 'abandon', current_user)
        flash('申请已放弃', 'info')
    except states.WorkflowError as exc:
        flash(str(exc), 'error')
    return redirect(url_for('portal.progress'))


@bp.route('/application/<int:app_id>/forced-cancel', methods=['POST'])
@applicant_only
def forced_cancel(app_id):
    """强制注销: the enterprise let the confirmation period pass; the holder asks the registry."""
    app = _own(app_id)
    file = request.files.get('file')
    try:
        svc.request_forced_cancel(app, current_user, file.filename if file else '', file.read() if file else b'',
                                  request.form.get('comment', ''))
    except uploads.UploadError as exc:
        flash(f'{exc.message}（申请 {app.number}）', 'error')
    except states.WorkflowError as exc:
        if exc.kind == 'permission':
            abort(403)
        for message in exc.messages:
            flash(f'{message}（申请 {app.number}）', 'error')
    else:
        flash(f'已向注册机构申请强制注销（申请 {app.number}），请等待受理', 'success')
    return redirect(url_for('portal.progress'))


@bp.route('/progress')
@applicant_only
def progress():
    from backoffice.issuing import certificates
    rows, seen = [], set()
    for app in (Application.select().where(Application.person == current_user.person_id)
                .order_by(Application.id.desc())):
        cert = None                 # (registration, its certificate versions) on the newest row of each registration
        if app.state in ('announced', 'approved') and app.registration_id and app.registration_id not in seen:
            seen.add(app.registration_id)
            cert = (app.registration, certificates.versions(app.registration_id))
        rows.append((app, svc.timeline(app), svc.waiting_for(app), cert))
    offers = {app.id: svc.forced_cancel_offer(app) for app, *_rest in rows}
    return render_template('portal/progress.html', rows=rows, types=states.BUSINESS_TYPES, states=states.STATES,
                           forced=offers)


# --- photo tool -----------------------------------------------------------------

@bp.route('/photo-tool', methods=['GET', 'POST'])
@limit('RATELIMIT_PHOTO', methods=['POST'])
def photo_tool():
    """照片处理工具 (open to everyone, like the downloadable tool of the real system); its cost is
    bounded in backoffice.intake.photo (reduced decoding, pixel caps, concurrent slots)."""
    report, error, status = None, None, 200
    if request.method == 'POST':
        file = request.files.get('file')
        data = file.read() if file else b''
        if not data:
            error = '请选择照片文件'
        elif request.form.get('action') == 'fix':
            try:
                fixed, result = photo.fix_photo(data)
            except photo.Busy as exc:
                error, status = exc.message, 503
            except photo.ImageRejected as exc:
                error = exc.message
            else:
                if not result.ok:
                    error = '处理后仍不符合要求：' + result.message
                else:
                    return send_file(io.BytesIO(fixed), mimetype='image/jpeg', as_attachment=True,
                                     download_name='一寸白底免冠照_处理后.jpg')
        else:
            try:
                report = photo.check_photo(data)
            except photo.Busy as exc:
                error, status = exc.message, 503
    return render_template('portal/photo_tool.html', report=report, error=error), status

"""The applicant portal (个人版): sign-up, the six business types, uploads, SMS, progress, photo tool."""
import io

from flask import (Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file,
                   session, url_for)
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
    offers = svc.offered_types(person)
    return render_template('portal/home.html', person=person, types=states.BUSINESS_TYPES,
                           offered=[t for t, refusal in offers if refusal is None],
                           refused=[(t, refusal) for t, refusal in offers if refusal is not None],
                           reg=rules.active_registration(person), open_apps=list(svc.open_applications(person)),
                           quals=svc.qualifications_of(person))


@bp.route('/apply/<business_type>', methods=['GET', 'POST'])
@applicant_only
def notice(business_type):
    if business_type not in states.APPLICANT_TYPES:
        abort(404)
    text, materials = svc.NOTICES[business_type]
    error = None
    person = Person.get_by_id(current_user.person_id)
    refusal = svc.start_refusal(person, business_type)
    if refusal:               # not offered on the home page, and refused here too (GET and POST)
        return render_template('portal/notice.html', business_type=business_type,
                               label=states.BUSINESS_TYPES[business_type], text=text, materials=materials,
                               error=refusal, refused=True), 403
    if request.method == 'POST':
        if request.form.get('agree') != 'y':
            error = '请阅读并勾选“注册须知”后再点击下一步' if business_type != 'cancellation' else \
                '请确认您具备注销条件并勾选后再点击下一步'
        else:
            try:
                app = svc.start(person, business_type)
            except svc.FormErrors as exc:
                error = '；'.join(exc.errors.values())
            else:
                return redirect(url_for('portal.edit', app_id=app.id))
    return render_template('portal/notice.html', business_type=business_type, label=states.BUSINESS_TYPES[business_type],
                           text=text, materials=materials, error=error, refused=False)


# where the summary of errors links to: the id of each field's input on its step
ANCHORS = {'enterprise': 'enterprise-search', 'specialties': 'specialties', 'reasons': 'reasons'}
TRIED = 'portal_submit_tried'          # session: applications whose 提交 was tried (show what is missing)


def _anchor(field):
    return 'file-' + field[len('upload_'):] if field.startswith('upload_') else ANCHORS.get(field, field)


def _tried(app):
    return app.id in session.get(TRIED, [])


def _mark_tried(app):
    tried = [i for i in session.get(TRIED, []) if i != app.id][-19:]
    session[TRIED] = tried + [app.id]


def _form_context(app, step=None, errors=None):
    app = Application.get_by_id(app.id)
    person = Person.get_by_id(app.person_id)
    steps = svc.form_steps(app)
    keys = [k for k, _t in steps]
    step = step if step in keys else keys[0]
    errors = dict(errors or {})
    editable = app.state in svc.EDITABLE
    if editable and _tried(app) and not errors:       # after a tried 提交: what is still missing, at its field
        fields, general = svc.field_problems(app)
        errors.update(fields)
        if general:
            errors['rules'] = general
    summary = []                                       # (message, link or None), in the order of the steps
    field_errors = {f: m for f, m in errors.items() if f not in ('rules', 'form')}
    order = {k: i for i, k in enumerate(keys)}
    for field, message in sorted(field_errors.items(), key=lambda fm: order.get(svc.step_of(fm[0]), len(keys))):
        target = svc.step_of(field)
        if target not in order:
            summary.append((message, None))
            continue
        href = ('' if target == step else url_for('portal.edit', app_id=app.id, step=target)) + '#' + _anchor(field)
        summary.append((message, href))
    index = keys.index(step)
    reqs = svc.requirements(app)
    incomplete = {r['step'] for r in reqs if r['problem'] and r['step']}
    return dict(app=app, person=person, errors=errors, summary=summary, label=states.BUSINESS_TYPES[app.business_type],
                allowed=svc.allowed_specialties(app), chosen={s.id for s in rules.chosen_specialties(app)},
                reasons=list(CancellationReason.select().order_by(CancellationReason.sort)),
                picked={r.reason_id for r in app.cancel_reasons}, educations=EDUCATIONS,
                commitment=svc.commitment_text(app), materials=svc.materials_of(app), kinds=svc.upload_kinds(app),
                kind_labels=MATERIAL_KINDS, editable=editable, states=states.STATES,
                needs_enterprise=app.business_type in svc.NEEDS_ENTERPRISE,
                needs_specialties=app.business_type in svc.NEEDS_SPECIALTIES,
                needs_commitment=app.business_type in svc.NEEDS_COMMITMENT,
                steps=steps, step=step, step_index=index, prev_step=keys[index - 1] if index else None,
                next_step=keys[index + 1] if index + 1 < len(keys) else None,
                requirements=reqs, incomplete=incomplete, required=svc.required_fields(app), anchor=_anchor)


def _upload_files(app, kind, errors):
    """Store the file of the chosen kind (and any other file chosen on the same form): the no-script
    path of the 申报材料 step, and files chosen but not yet uploaded when the user moves to another
    step (kind None). Each failure goes to its own field."""
    kinds = svc.upload_kinds(app)
    todo = []
    for k in kinds:
        f = request.files.get('file_' + k)
        if f is not None and f.filename and k != kind:
            todo.append((k, f))
    if kind is not None:
        todo.insert(0, (kind, request.files.get('file') or request.files.get('file_' + kind)))
    done = []
    for k, f in todo:
        if k == 'photo':                    # photos are checked by the costly photo tool
            limits.check('RATELIMIT_PHOTO', client_key())
        try:
            svc.upload(app, k, f.filename if f else '', f.read() if f else b'', current_user)
            done.append(MATERIAL_KINDS.get(k, k))
        except uploads.UploadError as exc:
            # a kind with no upload box here (the generated commitment, an unknown kind): at the top
            errors['upload_' + k if k in uploads.APPLICANT_KINDS else 'form'] = exc.message
    return done


@bp.route('/application/<int:app_id>', methods=['GET', 'POST'])
@applicant_only
def edit(app_id):
    """The step-by-step form. Every POST first saves what the step's inputs hold (a server-side
    draft), then moves between steps, stores an upload, or submits."""
    app = _own(app_id)
    if request.method == 'GET':
        return render_template('portal/form.html', **_form_context(app, request.args.get('step')))
    errors = {}
    step = request.form.get('step')
    goto = request.form.get('goto')
    action = request.form.get('action') or ('upload' if request.form.get('upload') else 'goto' if goto else 'save')
    keys = [k for k, _t in svc.form_steps(app)]
    try:
        svc.save(app, request.form, current_user)
    except svc.FormErrors as exc:
        errors.update(exc.errors)
    except states.WorkflowError:
        abort(403)
    if action == 'upload' and not errors:
        kind = request.form.get('kind') or request.form.get('upload', '')
        done = _upload_files(app, kind, errors)
        if done:
            flash('已上传：' + '、'.join(done), 'success')
        step = step or 'materials'
    elif not errors and any(f.filename for f in request.files.values()):
        done = _upload_files(app, None, errors)        # chosen on the 申报材料 step, not uploaded yet
        if done:
            flash('已上传：' + '、'.join(done), 'success')
        if errors:
            step = step or 'materials'
    if action == 'submit' and not errors:
        _mark_tried(app)
        fresh = Application.get_by_id(app.id)
        problems, general = svc.field_problems(fresh)
        code = request.form.get('code', '').strip()
        if not code:
            problems['code'] = '请输入短信验证码'
        if problems or general:
            errors.update(problems)
            if general:
                errors['rules'] = general
            step = 'submit'
        else:
            try:
                svc.submit(fresh, current_user, code)
            except svc.FormErrors as exc:
                errors.update(exc.errors)
            except states.WorkflowError as exc:
                if exc.kind == 'permission':
                    abort(403)
                errors['rules'] = exc.messages
            else:
                session[TRIED] = [i for i in session.get(TRIED, []) if i != app.id]
                return redirect(url_for('portal.submitted', app_id=app.id))
            step = 'submit'
    elif action == 'save' and not errors:
        flash('草稿已保存', 'success')
    if errors:
        if step not in keys:            # a post of the whole form: show the step of the first problem
            first = next((svc.step_of(f) for f in errors if svc.step_of(f) in keys), None)
            step = first or (keys[0] if step not in keys else step)
        return render_template('portal/form.html', **_form_context(app, step, errors)), 400
    target = step if step in keys else None
    if action == 'next' and step in keys and keys.index(step) + 1 < len(keys):
        target = keys[keys.index(step) + 1]
    elif action == 'prev' and step in keys and keys.index(step) > 0:
        target = keys[keys.index(step) - 1]
    elif action == 'goto' and goto in keys:
        target = goto
    return redirect(url_for('portal.edit', app_id=app.id, step=target) if target else
                    url_for('portal.edit', app_id=app.id))


@bp.route('/application/<int:app_id>/upload', methods=['POST'])
@applicant_only
def upload(app_id):
    """Asynchronous upload (views/static/js/portal_form.js): JSON, the page stays as it is.
    Any form input sent along is saved as a draft first, so nothing typed is lost either way."""
    app = _own(app_id)
    errors = {}
    try:
        svc.save(app, request.form, current_user)
    except svc.FormErrors as exc:
        errors.update(exc.errors)
    except states.WorkflowError:
        abort(403)
    kind = request.form.get('kind', '')
    file = request.files.get('file') or request.files.get('file_' + kind)
    if kind == 'photo':
        limits.check('RATELIMIT_PHOTO', client_key())
    try:
        material = svc.upload(app, kind, file.filename if file else '', file.read() if file else b'', current_user)
    except uploads.UploadError as exc:
        field = 'upload_' + kind if kind in uploads.APPLICANT_KINDS else 'form'
        errors[field] = exc.message
        return jsonify(ok=False, kind=kind, field=field, message=exc.message, errors=errors), 400
    label = MATERIAL_KINDS.get(kind, kind)
    return jsonify(ok=True, kind=kind, message=f'已上传：{label}', errors=errors,
                   material={'id': material.id, 'name': material.original_name, 'check': material.check_result,
                             'url': url_for('files.material', material_id=material.id)})


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
    apps = svc.of_person(current_user.person_id)
    steps = svc.timelines(apps, person_id=current_user.person_id)     # every timeline in one query
    for app in apps:
        cert = None                 # (registration, its certificate versions) on the newest row of each registration
        if app.state in ('announced', 'approved') and app.registration_id and app.registration_id not in seen:
            seen.add(app.registration_id)
            cert = (app.registration, certificates.versions(app.registration_id))
        rows.append((app, steps[app.id], svc.waiting_for(app), cert))
    offers = {app.id: svc.forced_cancel_offer(app) for app, *_rest in rows}
    bars = {app.id: svc.progress_steps(app) for app, *_rest in rows}
    return render_template('portal/progress.html', rows=rows, types=states.BUSINESS_TYPES, states=states.STATES,
                           forced=offers, bars=bars)


# --- photo tool -----------------------------------------------------------------

PHOTO_SESSION = 'photo_tool'          # session: the token of the photo the tool keeps (backoffice.intake.photo)


def _data_url(data):
    import base64
    return 'data:image/jpeg;base64,' + base64.b64encode(data).decode('ascii')


@bp.route('/photo-tool', methods=['GET', 'POST'])
@limit('RATELIMIT_PHOTO', methods=['POST'])
def photo_tool():
    """照片处理工具 (open to everyone, like the downloadable tool of the real system); its cost is
    bounded in backoffice.intake.photo (reduced decoding, pixel caps, concurrent slots).
    The chosen photo is kept for a short while (photo.stash_put), so 审核 then 处理 needs it chosen once;
    after 处理 the page shows the photo before and after, and 保存 downloads the result."""
    report, error, status, fixed_ok = None, None, 200, None
    kept = session.get(PHOTO_SESSION) or {}
    original = fixed = None
    if request.method == 'POST':
        action = request.form.get('action', 'check')
        file = request.files.get('file')
        data = file.read() if file else b''
        if action == 'clear':
            if kept.get('token'):
                photo.stash_drop(kept['token'])
            session.pop(PHOTO_SESSION, None)
            return redirect(url_for('portal.photo_tool'))
        if data:                                   # a new photo: keep it, forget the previous one
            if kept.get('token'):
                photo.stash_drop(kept['token'])
            if len(data) > photo.MAX_BYTES:
                error, kept = f'文件过大（{len(data) // 1024 // 1024} MB），不能超过 {photo.MAX_BYTES // 1024 // 1024} MB', {}
                session.pop(PHOTO_SESSION, None)
            else:
                kept = {'token': photo.stash_put(data), 'name': (file.filename or '照片.jpg')[-100:]}
                session[PHOTO_SESSION] = kept
        elif kept.get('token'):
            data = photo.stash_get(kept['token']) or b''
            if not data:
                session.pop(PHOTO_SESSION, None)
                kept = {}
        if error:
            pass
        elif not data:
            error = '请选择照片文件'
        elif action == 'fix':
            try:
                result_bytes, result = photo.fix_photo(data)
            except photo.Busy as exc:
                error, status = exc.message, 503
            except photo.ImageRejected as exc:
                error = exc.message
            else:
                if not result.ok:
                    error = '处理后仍不符合要求：' + result.message
                else:                               # a success replaces every earlier message
                    photo.stash_put(result_bytes, kept['token'], 'fixed')
                    fixed_ok, fixed = result, result_bytes
        else:
            try:
                report = photo.check_photo(data)
            except photo.Busy as exc:
                error, status = exc.message, 503
        if data and status == 200:
            try:
                original = photo.preview_jpeg(data)
            except (photo.ImageRejected, photo.Busy):
                original = None
    elif kept.get('token'):
        if photo.stash_get(kept['token']) is None:
            session.pop(PHOTO_SESSION, None)
            kept = {}
    return render_template('portal/photo_tool.html', report=report, error=error, fixed_ok=fixed_ok, kept=kept,
                           original=_data_url(original) if original else None,
                           fixed=_data_url(fixed) if fixed else None), status


@bp.route('/photo-tool/download')
@limit('RATELIMIT_PUBLIC_PAGES')
def photo_tool_download():
    """保存照片: the processed photo the tool keeps for this browser."""
    kept = session.get(PHOTO_SESSION) or {}
    data = photo.stash_get(kept.get('token'), 'fixed') if kept.get('token') else None
    if not data:
        flash('没有可保存的处理后照片，请重新选择照片并点击“处理照片”', 'error')
        return redirect(url_for('portal.photo_tool'))
    return send_file(io.BytesIO(data), mimetype='image/jpeg', as_attachment=True,
                     download_name='一寸白底免冠照_处理后.jpg')

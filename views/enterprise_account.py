"""Enterprise self-service (issue 12): sign-up with 实名认证 (anonymous, rate limited), and the
enterprise administrator's HR accounts. Rules live in backoffice.intake.enterprises."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from backoffice.auth import roles_required
from backoffice.intake import enterprises as svc
from backoffice.intake import identity, sms
from backoffice.limits import client_key, limit
from backoffice.roles import ENTERPRISE
from models import Enterprise, Province

bp = Blueprint('enterprise_account', __name__, url_prefix='/enterprise-account')


@bp.route('/signup', methods=['GET', 'POST'])
@limit('RATELIMIT_ENTERPRISE_SIGNUP', methods=['POST'])        # per client; SMS limits per number in intake.sms
def signup():
    form = {k: request.form.get(k, '').strip() for k in svc.FIELDS}
    errors, done = {}, None
    if request.method == 'POST':
        try:
            if request.form.get('step') == 'code':
                svc.send_code(form, client=client_key())
                flash('验证码已发送到联系手机' + ('（演示环境：短信写入发件箱，由系统管理员查看）'
                                          if sms.demo_outbox_enabled() else ''), 'info')
            else:
                upload = request.files.get('licence')
                licence = (upload.filename, upload.read(svc.LICENCE_MAX_BYTES + 1)) if upload else None
                done = svc.sign_up(form, licence, request.form.get('password', ''), request.form.get('password2', ''))
        except svc.SignupError as exc:
            errors = exc.errors
    if done is not None:
        return render_template('enterprise_account/submitted.html', row=done)
    return render_template('enterprise_account/signup.html', form=form, errors=errors,
                           provinces=list(Province.select().order_by(Province.code)),
                           checks=identity.provider().enterprise_checks,
                           demo_outbox=sms.demo_outbox_enabled()), (400 if errors else 200)


@bp.route('/users', methods=['GET', 'POST'])
@roles_required(ENTERPRISE)
def users():
    is_admin = svc.is_enterprise_admin(current_user)
    if request.method == 'POST' and not is_admin:
        abort(403)
    form = {k: request.form.get(k, '').strip() for k in ('username', 'name', 'mobile')}
    errors = {}
    if request.method == 'POST':
        try:
            user = svc.create_hr_user(current_user, form['username'], form['name'], form['mobile'],
                                      request.form.get('password', ''), request.form.get('password2', ''))
            flash(f'已新建人事账号：{user.name}（{user.username}）', 'success')
            return redirect(url_for('enterprise_account.users'))
        except svc.SignupError as exc:
            errors = exc.errors
    return render_template('enterprise_account/users.html', form=form, errors=errors,
                           ent=Enterprise.get_by_id(current_user.enterprise_id),
                           rows=svc.enterprise_users(current_user.enterprise_id), is_admin=is_admin), \
        (400 if errors else 200)


@bp.route('/change', methods=['GET', 'POST'])
@roles_required(ENTERPRISE)
def change():
    """A change of the enterprise's data: 实名认证 again (legal representative, mobile by SMS, licence),
    then the registry decides; a new name starts the 变更注册 of the enterprise's registrations."""
    is_admin = svc.is_enterprise_admin(current_user)
    if request.method == 'POST' and not is_admin:
        abort(403)
    ent = Enterprise.get_by_id(current_user.enterprise_id)
    form = {k: request.form.get(k, '').strip() for k in svc.CHANGE_FIELDS}
    if request.method == 'GET':
        form.update(name=ent.name, legal_rep=ent.legal_rep, address=ent.address)
    errors = {}
    if request.method == 'POST':
        try:
            if request.form.get('step') == 'code':
                svc.change_send_code(current_user, form, client=client_key())
                flash('验证码已发送到联系手机', 'info')
            else:
                upload = request.files.get('licence')
                licence = (upload.filename, upload.read(svc.LICENCE_MAX_BYTES + 1)) if upload else None
                svc.request_change(current_user, form, licence)
                flash('企业信息变更已提交，等待注册机构审核；审核通过前仍使用原登记信息', 'success')
                return redirect(url_for('enterprise_account.change'))
        except svc.SignupError as exc:
            errors = exc.errors
    return render_template('enterprise_account/change.html', ent=ent, form=form, errors=errors, is_admin=is_admin,
                           pending=svc.pending_change(ent.id)), (400 if errors else 200)

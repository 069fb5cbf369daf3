"""Login and logout for every role."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms import validators as wv

from backoffice import auth
from backoffice.limits import limit
from backoffice.redirects import safe_next
from backoffice.roles import STAFF_ROLES

bp = Blueprint('auth', __name__)


class LoginForm(FlaskForm):
    username = StringField('用户名', validators=[wv.InputRequired('请输入用户名')])
    password = PasswordField('密码', validators=[wv.InputRequired('请输入密码')])


def home_for(user):
    if user.role in STAFF_ROLES:
        return url_for('admin.index')
    if user.role == 'enterprise':
        return url_for('company.home')
    if user.role == 'applicant':
        return url_for('portal.home')
    return url_for('public.index')


@bp.route('/login', methods=['GET', 'POST'])
@limit('RATELIMIT_LOGIN', methods=['POST'])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user, error = auth.authenticate(form.username.data, form.password.data)
        if user is None:
            form.password.errors.append(error)
        else:
            auth.start_session(user)
            flash(f'欢迎，{user.name}', 'success')
            return redirect(safe_next(request.args.get('next')) or home_for(user))
    return render_template('login.html', form=form)


class PasswordForm(FlaskForm):
    current = PasswordField('当前密码', validators=[wv.InputRequired('请输入当前密码')])
    new = PasswordField('新密码', validators=[wv.InputRequired('请输入新密码')])
    confirm = PasswordField('再次输入新密码', validators=[wv.InputRequired('请再次输入新密码')])


@bp.route('/account/password', methods=['GET', 'POST'])
@login_required
@limit('RATELIMIT_LOGIN', methods=['POST'])
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        errors = auth.change_password(current_user._get_current_object(), form.current.data, form.new.data,
                                      form.confirm.data)
        for name, message in errors.items():
            form[name].errors.append(message)
        if not errors:
            flash('密码已修改，您在其他设备上的登录已全部退出', 'success')
            return redirect(home_for(current_user))
    return render_template('password.html', form=form)


@bp.route('/logout', methods=['POST'])
@login_required
def logout():
    auth.logout()            # ends this and every other session of the user
    flash('您已安全退出', 'info')
    return redirect(url_for('auth.login'))

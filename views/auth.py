"""Login and logout for every role."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms import validators as wv

from backoffice.auth import authenticate
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


def _safe_next(target):
    return target if target and target.startswith('/') and not target.startswith('//') else None


@bp.route('/login', methods=['GET', 'POST'])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user, error = authenticate(form.username.data, form.password.data)
        if user is None:
            form.password.errors.append(error)
        else:
            login_user(user)
            flash(f'欢迎，{user.name}', 'success')
            return redirect(_safe_next(request.args.get('next')) or home_for(user))
    return render_template('login.html', form=form)


@bp.route('/logout', methods=['POST'])
@login_required
def logout():
    logout_user()
    flash('您已安全退出', 'info')
    return redirect(url_for('auth.login'))

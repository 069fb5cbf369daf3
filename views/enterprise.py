"""The enterprise portal: confirm and report (上报), return, withdraw, confirm 注销, see its constructors."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from backoffice import access
from backoffice.workflow import rules, transitions, states
from backoffice.intake import applications as svc
from backoffice.auth import roles_required
from backoffice.roles import ENTERPRISE
from models import MATERIAL_KINDS, Application, Enterprise

from .guard import fetch_or_abort

bp = Blueprint('company', __name__, url_prefix='/enterprise')
enterprise_only = roles_required(ENTERPRISE)


def _own(app_id):
    return fetch_or_abort(Application, Application.id == app_id, access.can_read_application)


@bp.route('/')
@enterprise_only
def home():
    ent = Enterprise.get_by_id(current_user.enterprise_id)
    return render_template('enterprise/home.html', ent=ent, inbox=list(svc.enterprise_inbox(ent)),
                           history=list(svc.enterprise_history(ent)), types=states.BUSINESS_TYPES,
                           states=states.STATES)


def _render_application(app, errors=None, form=None, done=None):
    ent = Enterprise.get_by_id(current_user.enterprise_id)
    next_row = None
    if done:                        # 办理下一件: the oldest other item of the inbox
        next_row = svc.enterprise_inbox(ent).where(Application.id != app.id).first()
    return render_template('enterprise/application.html', app=app, person=app.person,
                           specialties=rules.chosen_specialties(app), materials=svc.materials_of(app),
                           kinds=MATERIAL_KINDS, actions=transitions.available(app, current_user),
                           timeline=svc.timeline(app), types=states.BUSINESS_TYPES, states=states.STATES,
                           reasons=[r.reason.text for r in app.cancel_reasons], errors=errors, form=form or {},
                           done=done, next_row=next_row, action_label=transitions.action_label)


@bp.route('/application/<int:app_id>')
@enterprise_only
def application(app_id):
    return _render_application(_own(app_id), done=request.args.get('done'))


@bp.route('/application/<int:app_id>/act', methods=['POST'])
@enterprise_only
def act(app_id):
    """上报 / 退回 / 撤回 / 确认注销 through the workflow. A refusal is answered on the same page, the
    退回原因 message at its field and the typed text kept; every message names the application."""
    app = _own(app_id)
    name = request.form.get('transition', '')
    form = {'transition': name, 'comment': request.form.get('comment', '')}
    try:
        done = transitions.perform(app, name, current_user, comment=form['comment'])
    except states.WorkflowError as exc:
        if exc.kind == 'permission':
            abort(403)
        if exc.fields:              # a message that belongs to a field: at it, with the typed text
            return _render_application(Application.get_by_id(app.id), errors=exc, form=form)
        for message in exc.messages:
            flash(f'申请 {app.number}：{message}', 'error')
        return redirect(url_for('company.application', app_id=app.id))
    flash(f'申请 {done.number}：已{transitions.action_label(name, done.business_type)}'
          f'（当前状态：{states.STATES[done.state]}）', 'success')
    return redirect(url_for('company.application', app_id=done.id, done=name))


@bp.route('/report-batch', methods=['POST'])
@enterprise_only
def report_batch():
    """Batch 上报: the selected inbox rows, each through the workflow; the rows refused are listed."""
    from backoffice.intake import enterprises
    ids = [int(i) for i in request.form.getlist('app_id') if i.isdigit() and int(i) < 2 ** 63]
    if not ids:
        flash('请先勾选要上报的业务', 'error')
        return redirect(url_for('company.home'))
    done, failed = enterprises.report_many(ids, current_user)
    if done:
        flash(f'已上报 {len(done)} 件：' + '、'.join(done), 'success')
    for number, reason in failed:
        flash(f'申请 {number} 未能上报：{reason}', 'error')
    return redirect(url_for('company.home'))


@bp.route('/staff')
@enterprise_only
def staff():
    ent = Enterprise.get_by_id(current_user.enterprise_id)
    return render_template('enterprise/staff.html', ent=ent, rows=svc.enterprise_staff(ent))

"""The message centre of the applicant and enterprise portals: in-app notifications, mark read,
and the applicant's SMS preference. The unread count is offered to every template (navigation)."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from backoffice.auth import roles_required
from backoffice.notify import outbox
from backoffice.roles import APPLICANT, ENTERPRISE
from models import Notification

bp = Blueprint('messages', __name__, url_prefix='/messages')
portal_users = roles_required(APPLICANT, ENTERPRISE)
PAGE = 50


@bp.app_context_processor
def _unread():
    def unread_messages():
        if not current_user.is_authenticated or current_user.role not in (APPLICANT, ENTERPRISE):
            return 0
        return outbox.unread_count(current_user)
    return {'unread_messages': unread_messages}


@bp.route('/')
@portal_users
def index():
    try:
        page = max(1, min(int(request.args.get('page', 1)), 10_000))
    except ValueError:
        page = 1
    query = outbox.inbox_query(current_user)
    rows = list(query.order_by(Notification.id.desc()).offset((page - 1) * PAGE).limit(PAGE + 1))
    return render_template('messages/index.html', rows=rows[:PAGE], page=page, more=len(rows) > PAGE,
                           unread=outbox.unread_count(current_user),
                           sms_info=outbox.sms_info_enabled(current_user) if current_user.role == APPLICANT else None)


@bp.route('/read', methods=['POST'])
@portal_users
def read():
    if request.form.get('all'):
        count = outbox.mark_read(current_user)
    else:
        ids = [int(i) for i in request.form.getlist('id') if i.isdigit() and int(i) < 2 ** 63]
        count = outbox.mark_read(current_user, ids)
    flash(f'已将 {count} 条消息标为已读', 'success')
    return redirect(url_for('messages.index'))


@bp.route('/preferences', methods=['POST'])
@roles_required(APPLICANT)
def preferences():
    enabled = request.form.get('sms_info') == '1'
    outbox.set_sms_info(current_user, enabled)
    flash('已开启通知类短信' if enabled else '已关闭通知类短信（需要您办理的事项仍会发送短信）', 'success')
    return redirect(url_for('messages.index'))

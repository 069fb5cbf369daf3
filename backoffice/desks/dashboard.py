"""Small counts for the back-office home page, by role."""
import datetime

import peewee as pw

from models import Application, Registration

from backoffice.roles import ACCEPTOR, JOINT_REVIEWER, PROVINCIAL, REVIEWER
from backoffice.workflow.states import STATES


def home_counts(user):
    """[(label, count, state)] of what waits, for the user's role."""
    rows = dict(Application.select(Application.state, pw.fn.COUNT(Application.id))
                .group_by(Application.state).tuples())
    if user.role == JOINT_REVIEWER:          # only their own specialties' requests (workflow.joint_review)
        from backoffice.workflow import joint_review
        return [('待会审', joint_review.queue(user).count(), None),
                ('已超期未返回', joint_review.queue(user, overdue_only=True).count(), None)]
    if user.role == ACCEPTOR:
        keys = ('reported', 'correction')
    elif user.role == REVIEWER:
        keys = ('accepted', 'approved')
    elif user.role == PROVINCIAL:
        active = Registration.select().where((Registration.state == 'active')
                                             & (Registration.province == user.province_id)).count()
        return [('本省有效注册', active, None)]
    else:
        keys = ('submitted', 'reported', 'accepted', 'approved', 'refused', 'announced')
    counts = [(STATES[k], rows.get(k, 0), k) for k in keys]
    overdue = Application.select().where((Application.state == 'accepted')
                                         & (Application.deadline < datetime.date.today())).count()
    if user.role in (REVIEWER,) or user.role not in (ACCEPTOR,):
        counts.append(('已超期（审查中）', overdue, None))
    return counts

"""Small counts for the back-office home page, by role.

Every figure but the joint reviewer's comes from the summary counters (backoffice.workflow.summaries),
kept up to date by each change: a few indexed reads of a small table, whatever the registry's size.
Each entry is (label, count, state to link to or None, unit or '').
"""
import datetime

from backoffice.roles import ACCEPTOR, JOINT_REVIEWER, PROVINCIAL, REVIEWER
from backoffice.workflow import summaries
from backoffice.workflow.states import STATES


def overdue_under_review(today=None, province=None):
    """Applications under review (accepted) whose deadline has passed."""
    return summaries.overdue(today or datetime.date.today(), province)


def to_print(province):
    """待打印: valid certificates of the province's registrations not printed yet."""
    return summaries.total('to_print', province=province)


def home_counts(user, today=None):
    """[(label, count, state, unit)] of what waits, for the user's role."""
    if user.role == JOINT_REVIEWER:          # only their own specialties' requests (workflow.joint_review)
        from backoffice.workflow import joint_review
        return [('待会审', joint_review.queue(user).count(), None, ''),
                ('已超期未返回', joint_review.queue(user, overdue_only=True).count(), None, '')]
    if user.role == PROVINCIAL:
        return [('本省有效注册', summaries.total('reg_active', province=user.province_id), None, ''),
                ('待打印', to_print(user.province_id), None, '本')]
    if user.role == ACCEPTOR:
        keys = ('reported', 'correction')
    elif user.role == REVIEWER:
        keys = ('accepted', 'approved')
    else:
        keys = ('submitted', 'reported', 'accepted', 'approved', 'refused', 'announced')
    rows = {state: n for (state, _k2), n in summaries.totals('app_state').items()}
    counts = [(STATES[k], rows.get(k, 0), k, '') for k in keys]
    if user.role != ACCEPTOR:
        counts.append(('已超期（审查中）', overdue_under_review(today), None, ''))
    return counts

"""Joint review (会审): the opinion of another ministry on the specialties that need one.

For an accepted application with joint-review specialties (Specialty.joint_review) the reviewer
sends one request per such specialty (`send`); each JointOpinion is due JOINT_REVIEW_WORKING_DAYS
working days later. A 会审人员 (role joint_reviewer), limited to the specialties linked to the
account (JointReviewerSpecialty), records agree or disagree with a reason (`record_opinion`).
The decision on the application waits until every opinion is in or its clock has run out
(`decision_blocker`, the guard `rules.joint_review_complete`).
"""
import datetime

from flask import current_app, has_app_context

from peewee import JOIN

from models import (ApplicationSpecialty, JointOpinion, JointReviewerSpecialty, Specialty, User, database, now)

from backoffice import audit
from backoffice.db import Prepared, joined
from backoffice.roles import JOINT_REVIEWER, REVIEWER
from backoffice.workflow.calendar import add_working_days, working_days_between
from backoffice.workflow.states import WorkflowError

OPINIONS = {'agree': '同意', 'disagree': '不同意'}
PENDING, OVERDUE = 'pending', 'overdue'
STATUS_LABELS = {PENDING: '待会审', OVERDUE: '已超期未返回', **OPINIONS}


class OpinionError(WorkflowError):
    """A refused opinion; `field` names the form field the message belongs to."""

    def __init__(self, message, field=None, kind='rule'):
        super().__init__(message, kind)
        self.field = field


def _config(key, default):
    return current_app.config.get(key, default) if has_app_context() else default


def working_days(app):
    key = 'RENEWAL_JOINT_REVIEW_WORKING_DAYS' if app.business_type == 'renewal' else 'JOINT_REVIEW_WORKING_DAYS'
    return _config(key, 10)


def joint_specialties(app):
    """The application's specialties that need a joint review, in display order."""
    return list(Specialty.select().join(ApplicationSpecialty)
                .where((ApplicationSpecialty.application == app) & (Specialty.joint_review == True))  # noqa: E712
                .order_by(Specialty.sort))


# read on every application page (rules.Facts): composed once (db.Prepared)
_OPINIONS = Prepared(lambda app_id: JointOpinion.select(JointOpinion, Specialty, User).join(Specialty)
                     .switch(JointOpinion).join(User, JOIN.LEFT_OUTER, on=(JointOpinion.reviewer == User.id))
                     .where(JointOpinion.application == app_id).order_by(Specialty.sort, JointOpinion.id))


def opinions(app):
    """The opinions of app (an instance or an id) in specialty order, each with its specialty and
    reviewer (one query)."""
    out = []
    for row in _OPINIONS.rows(getattr(app, 'id', app)):
        opinion, spec, reviewer = joined(row, JointOpinion, Specialty, User)
        opinion.__rel__['specialty'] = spec
        if reviewer is not None:
            opinion.__rel__['reviewer'] = reviewer
        out.append(opinion)
    return out


# `reads` below: an object whose joint_specialties() and opinions() answer for app once per page or
# check (rules.Facts); without it each function reads them itself.
def _specs(app, reads):
    return reads.joint_specialties() if reads is not None else joint_specialties(app)


def _opinions(app, reads):
    return reads.opinions() if reads is not None else opinions(app)


def status(opinion, today=None):
    """pending / overdue (the clock ran out without an opinion) / agree / disagree."""
    if opinion.opinion:
        return opinion.opinion
    today = today or datetime.date.today()
    return OVERDUE if today > opinion.due_on else PENDING


def days_left(opinion, today=None):
    """Working days left until the due date (0 on the due date, negative once overdue)."""
    return working_days_between(today or datetime.date.today(), opinion.due_on, _config('HOLIDAYS', []))


def send_problem(app, reads=None):
    """Why the joint review cannot be requested now (a Chinese message), or None."""
    if app.state != 'accepted':
        return '只有已受理（审查中）的申请才能送会审'
    if not _specs(app, reads):
        return '该申请没有需要会审的专业'
    if (bool(reads.opinions()) if reads is not None
            else JointOpinion.select().where(JointOpinion.application == app).exists()):
        return '该申请已送会审，不能重复发送'
    return None


def send(app, actor, today=None):
    """送会审: one JointOpinion per joint-review specialty, due N working days after today; audited."""
    if actor is None or getattr(actor, 'role', None) != REVIEWER:
        raise WorkflowError('只有审查人员可以送会审', 'permission')
    today = today or datetime.date.today()
    with database.atomic():
        from models import Application
        app = Application.get_by_id(app.id if hasattr(app, 'id') else int(app))
        problem = send_problem(app)
        if problem:
            raise WorkflowError(problem, 'state')
        due = add_working_days(today, working_days(app), _config('HOLIDAYS', []))
        specs = joint_specialties(app)
        stamp = now()
        JointOpinion.insert_many([{'application': app.id, 'specialty': s.id, 'requested_at': stamp,
                                   'requested_by': actor.id, 'due_on': due} for s in specs]).execute()
        audit.record('joint_review_request', application=app.id, object_type='application', object_id=app.id,
                     actor=actor, actor_role=actor.role, from_state=app.state, to_state=app.state,
                     comment=f'送会审：{"、".join(s.name for s in specs)}；会审期限 {due}')
    return opinions(app)


def reviewer_specialty_ids(user):
    return [sid for (sid,) in JointReviewerSpecialty.select(JointReviewerSpecialty.specialty)
            .where(JointReviewerSpecialty.user == user).tuples()]


def set_reviewer_specialties(user, specialty_ids, actor):
    """Replace the joint-review specialties of a 会审人员 account (the administrator's edit); audited."""
    wanted = sorted({int(i) for i in specialty_ids or ()})
    valid = [sid for (sid,) in Specialty.select(Specialty.id).where(
        Specialty.id.in_(wanted) & (Specialty.joint_review == True)).tuples()] if wanted else []  # noqa: E712
    old = sorted(reviewer_specialty_ids(user))
    if sorted(valid) == old:
        return
    with database.atomic():
        JointReviewerSpecialty.delete().where(JointReviewerSpecialty.user == user).execute()
        if valid:
            JointReviewerSpecialty.insert_many([{'user': user.id, 'specialty': s} for s in valid]).execute()
        names = {s.id: s.name for s in Specialty.select().where(Specialty.id.in_(old + valid))} if old or valid else {}
        audit.record('joint_specialties', object_type='user', object_id=user.id, actor=actor,
                     actor_role=getattr(actor, 'role', None),
                     changes=[{'field': 'joint_specialties', 'label': '会审专业',
                               'old': '、'.join(names[i] for i in old), 'new': '、'.join(names[i] for i in valid)}])


def queue(user, today=None, overdue_only=False):
    """The 会审人员's pending requests, for their specialties only, oldest first."""
    today = today or datetime.date.today()
    query = (JointOpinion.select().where((JointOpinion.opinion == '')
                                          & JointOpinion.specialty.in_(reviewer_specialty_ids(user) or [0])))
    if overdue_only:
        query = query.where(JointOpinion.due_on < today)
    return query.order_by(JointOpinion.requested_at, JointOpinion.id)


def record_opinion(opinion_id, actor, opinion, reason='', today=None):
    """A 会审人员 records agree, or disagree with a reason, on a pending request of their specialty."""
    if actor is None or getattr(actor, 'role', None) != JOINT_REVIEWER:
        raise OpinionError('只有会审人员可以填写会审意见', kind='permission')
    reason = (reason or '').strip()
    if opinion not in OPINIONS:
        raise OpinionError('请选择会审意见：同意或不同意', 'opinion')
    if opinion == 'disagree' and not reason:
        raise OpinionError('不同意的，请填写理由', 'reason')
    if len(reason) > 2000:
        raise OpinionError('理由不能超过2000字', 'reason')
    with database.atomic():
        row = JointOpinion.get_or_none(JointOpinion.id == opinion_id)
        if row is None or row.specialty_id not in reviewer_specialty_ids(actor):
            raise OpinionError('会审请求不存在或不属于您负责的专业', kind='permission')
        updated = (JointOpinion.update(opinion=opinion, reason=reason, reviewer=actor.id, decided_at=now())
                   .where((JointOpinion.id == row.id) & (JointOpinion.opinion == '')).execute())
        if updated != 1:
            raise OpinionError('该会审请求已有意见，请刷新页面查看', kind='conflict')
        audit.record('joint_opinion', application=row.application_id, object_type='joint_opinion',
                     object_id=row.id, actor=actor, actor_role=actor.role,
                     comment=f'{row.specialty.name}：{OPINIONS[opinion]}' + (f'；理由：{reason}' if reason else ''))
    return JointOpinion.get_by_id(row.id)


def decision_blocker(app, today=None, reads=None):
    """Why the decision on app must wait for the joint review (a Chinese message), or None."""
    if app.state != 'accepted':
        return None
    specs = _specs(app, reads)
    if not specs:
        return None
    rows = _opinions(app, reads)
    if not rows:
        return (f'本申请涉及需会审的专业（{"、".join(s.name for s in specs)}），'
                '须先“送会审”，待会审意见返回或会审期限届满后方可作出决定')
    today = today or datetime.date.today()
    waiting = [r for r in rows if status(r, today) == PENDING]
    if waiting:
        due = max(r.due_on for r in waiting)
        return (f'会审意见尚未返回：{"、".join(r.specialty.name for r in waiting)}（会审期限 {due}），'
                '待意见返回或期限届满后方可作出决定')
    return None


def summary(app, user, today=None, reads=None):
    """What the application page shows: the opinions, whether this user may send, what blocks a decision.
    No specialty needing a joint review: nothing to show, and the opinions are not read."""
    today = today or datetime.date.today()
    needed = bool(_specs(app, reads))
    rows = _opinions(app, reads) if needed else []
    return {
        'needed': needed,
        'rows': [(r, status(r, today), days_left(r, today)) for r in rows],
        'labels': STATUS_LABELS,
        'can_send': getattr(user, 'role', None) == REVIEWER and send_problem(app, reads) is None,
        'blocker': decision_blocker(app, today, reads),
    }

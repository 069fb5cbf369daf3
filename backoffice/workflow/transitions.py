"""The one workflow: every state change of an application goes through perform().

TRANSITIONS is the single declarative table: for each business type, which
transition leads from which states to which state, which roles may fire it,
and which rules (backoffice.workflow.rules) must hold. Screens, batch actions, commands
and tests all call perform(); nothing else writes Application.state.
"""
import dataclasses
import datetime
from typing import Callable, Optional

from models import (Application, User, database, now)

from backoffice import audit, metrics

from backoffice.workflow import effects, rules, summaries
from backoffice.notify import outbox
from backoffice.roles import ACCEPTOR, ADMIN, APPLICANT, ENTERPRISE, REVIEWER, ROLES
from backoffice.workflow.states import (APPLICANT_TYPES, BUSINESS_TYPES, REVIEWED, STATES, WITH_ENTERPRISE,
                                       WorkflowError)

@dataclasses.dataclass(frozen=True)
class Transition:
    name: str
    label: str
    types: tuple
    sources: tuple
    target: str
    roles: tuple
    guards: tuple = ()
    effect: Optional[Callable] = None
    stamp: Optional[str | tuple] = None  # Application date column(s) set to now
    bulk_effect: Optional[Callable] = None   # same effect for many contexts at once (perform_many)
    comment_label: str = '意见'

    @property
    def stamps(self):
        """The Application date columns this transition sets to now (none, one or more)."""
        if not self.stamp:
            return ()
        return (self.stamp,) if isinstance(self.stamp, str) else tuple(self.stamp)


@dataclasses.dataclass
class TransitionContext:
    app: Application
    actor: User
    transition: Transition
    comment: str
    data: dict
    today: datetime.date
    facts: Optional[rules.Facts] = None      # the rules' reads of this application, each made once

    def __post_init__(self):
        if self.facts is None:
            self.facts = rules.Facts(self.app)


# Rules checked when an applicant submits (or resubmits after 补正 / 退回).
_R = rules
SUBMIT_RULES = {
    'initial': (_R.not_banned, _R.specialties_chosen, _R.qualified_for_specialties, _R.identity_matches_qualification,
                _R.no_active_registration, _R.no_other_open_application, _R.enterprise_verified,
                _R.contract_dates_valid, _R.under_age_limit, _R.no_external_conflict,
                _R.within_window_or_continuing_education, _R.required_materials('photo', 'signature'),
                _R.commitment_accepted),
    'addition': (_R.not_banned, _R.has_active_registration, _R.specialties_chosen, _R.qualified_for_specialties,
                 _R.identity_matches_qualification, _R.addition_specialties_new,
                 _R.no_other_open_application, _R.under_age_limit,
                 _R.required_materials('photo', 'signature'), _R.commitment_accepted),
    'renewal': (_R.not_banned, _R.has_active_registration, _R.specialties_chosen, _R.renewal_window,
                _R.no_other_open_application, _R.enterprise_verified, _R.same_enterprise_as_registration,
                _R.contract_dates_valid, _R.under_age_limit, _R.no_external_conflict,
                _R.required_materials('photo', 'signature', 'continuing_education'),
                _R.commitment_accepted),
    'cancellation': (_R.has_active_registration, _R.identity_matches_qualification,
                     _R.no_other_open_application, _R.cancel_reasons_chosen),
    'reregister': (_R.not_banned, _R.specialties_chosen, _R.qualified_for_specialties, _R.identity_matches_qualification,
                   _R.no_active_registration, _R.no_other_open_application, _R.enterprise_verified,
                   _R.contract_dates_valid, _R.under_age_limit, _R.no_external_conflict,
                   _R.within_window_or_continuing_education, _R.required_materials('photo', 'signature'),
                   _R.commitment_accepted),
    'info_change': (_R.info_change_valid, _R.commitment_accepted),
}
# Rules a reviewer's approval re-checks: the world may have changed since submission.
# Each also waits for the joint review (会审) when a specialty needs one (rules.joint_review_complete).
DECISION_RULES = {
    'initial': (_R.not_the_acceptor, _R.no_active_registration, _R.under_age_limit, _R.no_external_conflict,
                _R.joint_review_complete),
    'reregister': (_R.not_the_acceptor, _R.no_active_registration, _R.under_age_limit,
                   _R.no_external_conflict, _R.joint_review_complete),
    'addition': (_R.not_the_acceptor, _R.has_active_registration, _R.addition_specialties_new,
                 _R.under_age_limit, _R.joint_review_complete),
    'renewal': (_R.not_the_acceptor, _R.has_active_registration, _R.under_age_limit,
                _R.no_external_conflict, _R.joint_review_complete),
    'info_change': (_R.not_the_acceptor, _R.info_change_valid, _R.joint_review_complete),
}


def _by_type(name, label, rule_table, sources, target, roles, **kw):
    return [Transition(name, label, (t,), sources, target, roles, guards=rule_table[t], **kw)
            for t in rule_table]


TRANSITIONS = [
    # applicant
    *_by_type('submit', '提交', {t: SUBMIT_RULES[t] for t in WITH_ENTERPRISE + ('cancellation',)},
              ('draft', 'returned'), 'submitted', (APPLICANT,), stamp='submitted_at'),
    # 增项 and 信息修改 reach the registry when submitted: that is their 上报 too (the 待受理 queue's order)
    *_by_type('submit', '提交', {t: SUBMIT_RULES[t] for t in ('addition', 'info_change')},
              ('draft',), 'reported', (APPLICANT,), stamp=('submitted_at', 'reported_at'),
              effect=effects.start_acceptance_clock),
    *_by_type('resubmit', '补正后提交', {t: SUBMIT_RULES[t] for t in REVIEWED},
              ('correction',), 'reported', (APPLICANT,), stamp='submitted_at', effect=effects.start_acceptance_clock),
    Transition('abandon', '放弃申请', APPLICANT_TYPES, ('draft', 'returned', 'correction'), 'withdrawn', (APPLICANT,)),
    # enterprise (never sees 增项 or 信息修改: FAQ 13)
    Transition('report', '上报', WITH_ENTERPRISE, ('submitted',), 'reported', (ENTERPRISE,),
               guards=(_R.enterprise_verified,), stamp='reported_at', effect=effects.start_acceptance_clock),
    Transition('confirm_cancel', '确认注销', ('cancellation',), ('submitted',), 'approved', (ENTERPRISE,),
               stamp='reported_at', effect=effects.cancel_registration),
    Transition('return', '退回', WITH_ENTERPRISE + ('cancellation',), ('submitted',), 'returned',
               (ENTERPRISE,), guards=(_R.comment_given,), effect=effects.record_return_reason,
               comment_label='退回原因'),
    Transition('withdraw', '撤回', WITH_ENTERPRISE + ('cancellation',), ('submitted',), 'withdrawn',
               (ENTERPRISE,)),
    # 强制注销: the enterprise let the confirmation period pass; the holder asks the registry with proof
    Transition('request_forced_cancel', '申请强制注销', ('cancellation',), ('submitted',), 'reported', (APPLICANT,),
               guards=(_R.enterprise_confirmation_overdue, _R.has_active_registration,
                       _R.required_materials('contract_end_proof')), stamp='reported_at',
               effect=effects.start_acceptance_clock),
    # registry: acceptance
    Transition('accept', '受理', REVIEWED + ('cancellation',), ('reported',), 'accepted', (ACCEPTOR,),
               effect=effects.start_review_clock, stamp='accepted_at'),
    Transition('request_correction', '要求补正', REVIEWED, ('reported',), 'correction', (ACCEPTOR,),
               guards=(_R.comment_given,), effect=effects.record_correction_note,
               comment_label='补正内容（一次列出全部需补正的材料）'),
    # registry: decision
    *_by_type('approve', '准予注册', {t: DECISION_RULES[t] for t in WITH_ENTERPRISE + ('addition',)},
              ('accepted',), 'approved', (REVIEWER,), stamp='decided_at', effect=effects.record_decider),
    Transition('approve', '准予变更', ('info_change',), ('accepted',), 'completed', (REVIEWER,),
               guards=DECISION_RULES['info_change'], stamp='decided_at', effect=effects.apply_info_change),
    Transition('refuse', '不予注册', REVIEWED, ('accepted',), 'refused', (REVIEWER,),
               guards=(_R.not_the_acceptor, _R.refusal_grounds_given, _R.joint_review_complete), stamp='decided_at',
               effect=effects.record_refusal),
    Transition('approve', '准予强制注销', ('cancellation',), ('accepted',), 'approved', (REVIEWER,),
               guards=(_R.not_the_acceptor, _R.has_active_registration), stamp='decided_at',
               effect=effects.decide_forced_cancellation),
    Transition('refuse', '不予强制注销', ('cancellation',), ('accepted',), 'refused', (REVIEWER,),
               guards=(_R.not_the_acceptor, _R.comment_given), stamp='decided_at', effect=effects.record_refusal,
               comment_label='不予强制注销的理由'),
    # registry: 依法注销 (Art. 17), started and decided by the registry, in effect at once
    Transition('registry_cancel', '依法注销', ('cancellation',), ('draft',), 'approved', (REVIEWER, ADMIN),
               guards=(_R.registry_initiated, _R.has_active_registration, _R.cancel_reasons_chosen,
                       _R.comment_given),
               effect=effects.decide_registry_cancellation, stamp='decided_at', comment_label='注销决定说明'),
    # registry: 变更注册 (Art. 13) when the enterprise's name changes; validity unchanged, a new certificate
    Transition('registry_change', '变更注册', ('change',), ('draft',), 'approved', (ADMIN, ACCEPTOR, REVIEWER),
               guards=(_R.registry_initiated, _R.has_active_registration), effect=effects.apply_enterprise_change,
               stamp='decided_at', comment_label='变更内容'),
    # publishing an announcement makes the decision take effect
    Transition('announce', '公告生效', WITH_ENTERPRISE + ('addition', 'cancellation', 'change'), ('approved',),
               'announced', (REVIEWER, ADMIN), guards=(_R.still_applicable,),
               effect=effects.take_effect, bulk_effect=effects.take_effect_many,
               stamp='announced_at'),
]

# Display label of each transition name (the first declaration's label).
ACTION_LABELS = {}
for _t in TRANSITIONS:
    ACTION_LABELS.setdefault(_t.name, _t.label)
ACTION_LABELS.update(joint_review_request='送会审', joint_opinion='会审意见')   # workflow.joint_review

_INDEX = {}
for _t in TRANSITIONS:
    for _bt in _t.types:
        key = (_t.name, _bt)
        assert key not in _INDEX, f'duplicate transition {key}'
        _INDEX[key] = _t


def get_transition(name, business_type):
    return _INDEX.get((name, business_type))


def transitions_for(business_type):
    return [t for t in TRANSITIONS if business_type in t.types]


def _check_actor(app, actor, t):
    """Role, ownership and state: who may fire t on app, from where."""
    if actor is None or not getattr(actor, 'is_authenticated', False):
        raise WorkflowError('请先登录', 'permission')
    if actor.role not in t.roles:
        raise WorkflowError(f'{ROLES.get(actor.role, actor.role)}无权执行“{t.label}”操作', 'permission')
    if actor.role == APPLICANT and actor.person_id != app.person_id:
        raise WorkflowError('只能办理本人的申请', 'permission')
    if actor.role == ENTERPRISE and (app.enterprise_id is None or actor.enterprise_id != app.enterprise_id):
        raise WorkflowError('该申请不属于贵单位', 'permission')
    if app.state not in t.sources:
        raise WorkflowError(
            f'该申请当前状态为“{STATES.get(app.state, app.state)}”，不能执行“{t.label}”操作', 'state')


def available(app, actor):
    """Transitions actor may try on app now (rules are checked only when performed)."""
    out = []
    for t in transitions_for(app.business_type):
        try:
            _check_actor(app, actor, t)
        except WorkflowError:
            continue
        out.append(t)
    return out


def check(app, actor, name, comment='', today=None, skip_bulk_guards=False, **data):
    """Run every check of a transition without changing anything; returns (Transition, context).

    skip_bulk_guards leaves out the guards that have a .bulk form (perform_many runs those once
    for all its applications).
    """
    t = get_transition(name, app.business_type)
    if t is None:
        raise WorkflowError(f'{BUSINESS_TYPES.get(app.business_type, "该业务")}没有“{name}”操作', 'unknown')
    _check_actor(app, actor, t)
    ctx = TransitionContext(app, actor, t, comment or '', data, today or datetime.date.today())
    guards = [g for g in t.guards if not (skip_bulk_guards and hasattr(g, 'bulk'))]
    problems, fields = [], {}
    for g in guards:
        msg = g(ctx)
        if msg:
            problems.append(msg)
            if getattr(g, 'field', None):
                fields.setdefault(g.field, []).append(msg)
    if problems:
        raise WorkflowError(problems, 'rule', fields)
    _check_override(ctx)
    return t, ctx


# --- the automatic checks at 受理 and 准予 ----------------------------------------------
#
# The page of an application shows every automatic check (rule_report). A transition listed here
# goes on while one of those checks fails only with an explicit reason (OVERRIDE_FIELD in the
# data), and that reason and the failed checks go into the audit event of the transition. The
# checks that are guards of the transition itself are never overridden: they refuse outright.
OVERRIDABLE = ('accept', 'approve')
OVERRIDE_FIELD = 'override_reason'


def failed_checks(app, actor, name, today=None, facts=None, results=None):
    """[(label, message)] of the automatic checks that fail now and that transition `name` would have
    to override (empty when name is not in OVERRIDABLE or every check passes).

    facts: the application's reads to share (rules.Facts); results: {rule name: message} of checks
    already run now (what review() passes, so that no check runs twice)."""
    t = get_transition(name, app.business_type)
    if t is None or name not in OVERRIDABLE:
        return []
    hard = {g.__name__ for g in t.guards}
    report_rules = [r for r in _report_rules(app) if r.__name__ not in hard]
    if results is None:
        ctx = TransitionContext(app, actor, t, '', {}, today or datetime.date.today(), facts)
        results = {r.__name__: r(ctx) for r in report_rules}
    return [(rules.label(r), results[r.__name__]) for r in report_rules if results[r.__name__]]


def _check_override(ctx):
    """A failed automatic check needs an explicit reason; the view never decides this."""
    failed = failed_checks(ctx.app, ctx.actor, ctx.transition.name, ctx.today, facts=ctx.facts)
    ctx.data['overridden'] = [label for label, _msg in failed]
    if not failed:
        return
    reason = (ctx.data.get(OVERRIDE_FIELD) or '').strip()
    if not reason:
        msg = (f'自动核查有 {len(failed)} 项未通过（{"、".join(label for label, _m in failed)}）：'
               f'如确需{ctx.transition.label}，请填写继续办理的理由，该理由记入审计日志')
        raise WorkflowError([msg], 'override', {OVERRIDE_FIELD: [msg]})


def audit_comment(ctx):
    """The audit event's comment: the decision's own comment, plus the overridden checks and the reason."""
    comment = ctx.comment or ''
    if ctx.data.get('overridden'):
        note = (f'【未通过的自动核查：{"、".join(ctx.data["overridden"])}；'
                f'继续办理的理由：{(ctx.data.get(OVERRIDE_FIELD) or "").strip()}】')
        comment = f'{comment} {note}' if comment else note
    return comment


def action_label(name, business_type=None):
    """The label of a transition as its business type names it (an 信息修改's approve is 准予变更)."""
    t = get_transition(name, business_type) if business_type else None
    return t.label if t is not None else ACTION_LABELS.get(name, name)


def perform(application, name, actor, comment='', today=None, **data):
    """Fire transition `name` on an application, as `actor`, in one transaction.

    Re-reads the application inside the transaction, checks role, state and
    rules, moves the state with a guarded UPDATE (so of two people acting at
    once exactly one wins), runs the transition's effect and writes the audit
    event, all or nothing. Returns the refreshed application.
    """
    app_id = application.id if isinstance(application, Application) else int(application)
    with database.atomic():
        app = Application.get_or_none(Application.id == app_id)
        if app is None:
            raise WorkflowError('申请不存在', 'unknown')
        t, ctx = check(app, actor, name, comment, today, **data)
        counted = summaries.Tracker(apps=[app.id], persons=[app.person_id])     # the home and dashboard counters
        values = {Application.state: t.target, Application.version: Application.version + 1}
        for column in t.stamps:
            values[getattr(Application, column)] = now()
        updated = (Application.update(values)
                   .where((Application.id == app.id) & (Application.state == app.state)
                          & (Application.version == app.version)).execute())
        if updated != 1:
            raise WorkflowError('该申请刚刚已被其他人处理，请刷新页面查看最新状态', 'conflict')
        from_state = app.state
        app.state, app.version = t.target, app.version + 1
        if t.effect is not None:
            t.effect(ctx)
        outbox.on_transition(ctx)           # the notifications, in this transaction (backoffice.notify)
        counted.finish()
        audit.record(t.name, application=app.id, object_type='application', object_id=app.id, actor=actor,
                     actor_role=actor.role, from_state=from_state, to_state=t.target, comment=audit_comment(ctx))
    metrics.transition(t.name)
    return Application.get_by_id(app_id)


def perform_many(application_ids, name, actor, comment='', today=None, **data):
    """Fire transition `name` on many applications in one transaction, all or nothing.

    The same table, checks and audit as perform(), batched: one read, one guarded UPDATE per
    source state (its row count must match, or someone else acted first), the transition's
    bulk effect when it declares one, and the audit events in one insert. Used for publishing
    an announcement of thousands of decisions. Returns the number of applications changed.
    """
    ids = sorted({int(i) for i in application_ids})
    today = today or datetime.date.today()
    with database.atomic():
        apps = []
        for k in range(0, len(ids), 900):
            apps += list(Application.select().where(Application.id.in_(ids[k:k + 900])))
        if len(apps) != len(ids):
            raise WorkflowError('部分申请不存在', 'unknown')
        contexts = []
        for app in apps:
            try:
                contexts.append(check(app, actor, name, comment, today, skip_bulk_guards=True, **data)[1])
            except WorkflowError as exc:
                raise WorkflowError([f'申请 {app.number}：{m}' for m in exc.messages], exc.kind) from None
        groups = {}
        for ctx in contexts:
            groups.setdefault((ctx.app.state, ctx.transition), []).append(ctx)
        problems = []
        for (source, t), group in groups.items():
            for guard in t.guards:
                if hasattr(guard, 'bulk'):
                    by_app = guard.bulk(group)
                    problems += [f'申请 {c.app.number}：{by_app[c.app.id]}' for c in group if by_app.get(c.app.id)]
        if problems:
            raise WorkflowError(problems, 'rule')
        counted = summaries.Tracker(apps=ids, persons={a.person_id for a in apps})   # home and dashboard counters
        stamp_time = now()
        for (source, t), group in groups.items():
            values = {Application.state: t.target, Application.version: Application.version + 1}
            for column in t.stamps:
                values[getattr(Application, column)] = stamp_time
            group_ids = [c.app.id for c in group]
            for k in range(0, len(group_ids), 900):
                chunk = group_ids[k:k + 900]
                updated = (Application.update(values)
                           .where(Application.id.in_(chunk) & (Application.state == source)).execute())
                if updated != len(chunk):
                    raise WorkflowError('部分申请刚刚已被其他人处理，请刷新页面查看最新状态', 'conflict')
        events = []
        for (source, t), group in groups.items():
            for ctx in group:
                ctx.app.state = t.target
                events.append({'application': ctx.app.id, 'object_type': 'application', 'object_id': ctx.app.id,
                               'action': t.name, 'actor': actor.id, 'actor_role': actor.role,
                               'from_state': source, 'to_state': t.target, 'comment': comment or '',
                               'created_at': stamp_time})
            if t.bulk_effect is not None:
                t.bulk_effect(group)
            elif t.effect is not None:
                for ctx in group:
                    t.effect(ctx)
        outbox.on_transitions(contexts)     # the notifications, in this transaction (backoffice.notify)
        counted.finish()
        audit.record_many(events)
    for (_source, t), group in groups.items():
        metrics.transition(t.name, len(group))
    return len(apps)


def rule_report(app, actor, today=None, facts=None):
    """Every automatic check for this application, run now: [(label, message or None)].

    What the reviewer sees before deciding: the submission rules of the business type and
    the rules a decision re-checks, each passed (None) or failed (the message).
    """
    return [(rules.label(rule), msg) for rule, msg in _run_report(app, actor, today, facts)]


def _run_report(app, actor, today=None, facts=None):
    t = get_transition('approve', app.business_type) or get_transition('submit', app.business_type)
    ctx = TransitionContext(app, actor, t, '', {}, today or datetime.date.today(), facts)
    return [(rule, rule(ctx)) for rule in _report_rules(app)]


def review(app, actor, names, today=None, facts=None):
    """What the application page shows before a decision, each check run once:
    (rule_report, {name: failed_checks} for the transitions `names` that are OVERRIDABLE)."""
    ran = _run_report(app, actor, today, facts)
    results = {rule.__name__: msg for rule, msg in ran}
    overrides = {name: failed_checks(app, actor, name, today, results=results)
                 for name in names if name in OVERRIDABLE}
    return [(rules.label(rule), msg) for rule, msg in ran], overrides


def _report_rules(app):
    """The rules of rule_report, each once: submission rules, then the rules a decision re-checks."""
    seen, out = set(), []
    rules_ = list(SUBMIT_RULES.get(app.business_type, ())) + list(DECISION_RULES.get(app.business_type, ()))
    for rule in rules_:
        if rule.__name__ in seen or rule.__name__ in ('not_the_acceptor', 'comment_given'):
            continue
        seen.add(rule.__name__)
        out.append(rule)
    return out

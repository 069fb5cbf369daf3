"""Guard rules (domain §2-§5). Each takes a TransitionContext and returns None when the
rule holds, or a Chinese message saying what is wrong and what to do."""

import datetime

import peewee

from models import (Application, ApplicationRefusalGround, ApplicationSpecialty, Enterprise, ExternalRegistration,
                    Material, Qualification, RegisteredSpecialty, Registration, RefusalGround, Sanction, Specialty)
from models import MATERIAL_KINDS

from backoffice.db import Prepared, joined, loaded
from backoffice.validators import ValidationError, age_on, validate_id_number
from backoffice.workflow import joint_review
from backoffice.workflow.calendar import add_working_days, add_years
from backoffice.workflow.states import BUSINESS_TYPES, SANCTIONS, STATES

MAX_AGE = 65
RENEWAL_MIN_DAYS = 30
QUALIFICATION_WINDOW_YEARS = 3
OPEN_STATES = ('draft', 'submitted', 'returned', 'reported', 'correction', 'accepted', 'approved')


# --- helpers -------------------------------------------------------------

def chosen_specialties(app):
    return list(Specialty.select().join(ApplicationSpecialty)
                .where(ApplicationSpecialty.application == app).order_by(Specialty.sort))


def person_qualifications(person):
    """Qualification records of a person: linked ones and those recorded under the ID number."""
    return list(Qualification.select().where(
        (Qualification.person == person) | (Qualification.holder_id_number == person.id_number)))


def active_registration(person):
    return Registration.get_or_none((Registration.person == person) & (Registration.state == 'active'))


def material_kinds(app):
    return {m.kind for m in Material.select(Material.kind).where(Material.application == app)}


# Facts' reads, composed once (db.Prepared): composing them cost about as much as running them
_CHOSEN_SPECIALTIES = Prepared(lambda app_id: Specialty.select(Specialty, ApplicationSpecialty.id.alias('chosen_as'))
                               .join(ApplicationSpecialty).where(ApplicationSpecialty.application == app_id)
                               .order_by(Specialty.sort))
_QUALIFICATIONS = Prepared(lambda person_id, id_number: Qualification.select(Qualification, Specialty).join(Specialty)
                           .where((Qualification.person == person_id) | (Qualification.holder_id_number == id_number))
                           .order_by(Qualification.id), arity=2)
_MATERIALS = Prepared(lambda app_id: Material.select().where(Material.application == app_id).order_by(Material.id))


def _active_registration_query(person_id):
    """The person's active registration, with its enterprise's id and name, one row per active specialty."""
    return (Registration.select(Registration, Enterprise.id, Enterprise.name, RegisteredSpecialty)
            .join(Enterprise)
            .switch(Registration)
            .join(RegisteredSpecialty, peewee.JOIN.LEFT_OUTER,
                  on=((RegisteredSpecialty.registration == Registration.id)
                      & (RegisteredSpecialty.state == 'active')))
            .where((Registration.person == person_id) & (Registration.state == 'active'))
            .order_by(Registration.id, RegisteredSpecialty.id))


_ACTIVE_REGISTRATION = Prepared(_active_registration_query)


def _refusal_grounds_query(app_id):
    chosen = ApplicationRefusalGround.alias()
    return (RefusalGround.select(RefusalGround, chosen.id.alias('chosen_id'))
            .join(chosen, peewee.JOIN.LEFT_OUTER, on=((chosen.ground == RefusalGround.id) & (chosen.application == app_id)))
            .order_by(RefusalGround.id, chosen.id))


_REFUSAL_GROUNDS = Prepared(_refusal_grounds_query)


class Facts:
    """What the rules (and the application page) read about one application, each read at most once.

    A TransitionContext carries one: the rules of one check, one report or one page share its reads
    instead of each asking the database again. It lives no longer than that context, so it never
    holds a read across a change."""

    def __init__(self, app):
        self.app = app
        self._cache = {}

    def _once(self, key, load):
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    def _specialty_rows(self):
        out = []
        for row in _CHOSEN_SPECIALTIES.rows(self.app.id):
            spec, = joined(row[:-1], Specialty)
            spec.chosen_as = row[-1]
            out.append(spec)
        return out

    def specialties(self):
        """The chosen specialties in display order (chosen_specialties)."""
        return self._once('specialties', self._specialty_rows)

    def specialties_as_chosen(self):
        """The chosen specialties in the order they were chosen."""
        return sorted(self.specialties(), key=lambda s: s.chosen_as)

    def joint_specialties(self):
        """The chosen specialties that need a joint review (joint_review.joint_specialties)."""
        return [s for s in self.specialties() if s.joint_review]

    def qualifications(self):
        """person_qualifications of the applicant, each with its specialty."""
        person = self.app.person

        def load():
            out = []
            for row in _QUALIFICATIONS.rows(person.id, person.id_number):
                qual, spec = joined(row, Qualification, Specialty)
                qual.__rel__['specialty'] = spec
                out.append(qual)
            return out
        return self._once('qualifications', load)

    def materials(self):
        return self._once('materials', lambda: _MATERIALS.instances(Material, self.app.id))

    def material_kinds(self):
        return {m.kind for m in self.materials()}

    def _registration(self):
        """(active registration with its enterprise's id and name, or None; {specialty id: its active
        RegisteredSpecialty}) in one query (a person has at most one active registration)."""
        def load():
            rows = _ACTIVE_REGISTRATION.rows(self.app.person_id)
            if not rows:
                return None, {}
            n = len(Registration._meta.sorted_fields)
            reg, = joined(rows[0][:n], Registration)
            reg.__rel__['enterprise'] = loaded(Enterprise, id=rows[0][n], name=rows[0][n + 1])
            active = {}
            for row in rows:
                rs, = joined(row[n + 2:], RegisteredSpecialty)
                if row[0] == reg.id and rs is not None and rs.id is not None:
                    active[rs.specialty_id] = rs
            return reg, active
        return self._once('registration', load)

    def active_registration(self):
        """active_registration of the applicant, with its enterprise's id and name."""
        return self._registration()[0]

    def active_specialties(self):
        """{specialty id: RegisteredSpecialty} of the active registration's active specialties."""
        return self._registration()[1]

    def opinions(self):
        """The joint-review opinions (joint_review.opinions)."""
        return self._once('opinions', lambda: joint_review.opinions(self.app))

    def refusal_grounds(self):
        """(every refusal ground, the grounds recorded on this application in the order recorded), one read."""
        def load():
            rows = []
            for row in _REFUSAL_GROUNDS.rows(self.app.id):
                ground, = joined(row[:-1], RefusalGround)
                ground.chosen_id = row[-1]
                rows.append(ground)
            grounds = []
            for g in rows:
                if not grounds or grounds[-1].id != g.id:
                    grounds.append(g)
            return grounds, sorted((g for g in rows if g.chosen_id is not None), key=lambda g: g.chosen_id)
        return self._once('refusal_grounds', load)


# --- rules ---------------------------------------------------------------

def specialties_chosen(ctx):
    if not ctx.facts.specialties():
        return '请至少选择一个注册专业'


def qualified_for_specialties(ctx):
    held = {q.specialty_id for q in ctx.facts.qualifications()}
    missing = [s.name for s in ctx.facts.specialties() if s.id not in held]
    if missing:
        return f'资格库中没有您的以下专业资格，不能申请注册：{"、".join(missing)}'


def identity_matches_qualification(ctx):
    """FAQ 8: the real-name identity must match the 资格库 record."""
    person = ctx.app.person
    chosen = {s.id for s in ctx.facts.specialties()}
    for q in ctx.facts.qualifications():
        if chosen and q.specialty_id not in chosen:
            continue
        if q.holder_name != person.name or q.holder_id_number != person.id_number:
            return ('您的实名信息（姓名、身份证号）与资格库不一致，'
                    '请先办理“信息修改或材料补充”后再申请')


def within_window_or_continuing_education(ctx):
    """Apply within 3 years of the certificate's issue, or prove continuing education."""
    chosen = {s.id for s in ctx.facts.specialties()}
    limit = add_years(ctx.today, -QUALIFICATION_WINDOW_YEARS)
    late = [q for q in ctx.facts.qualifications()
            if q.specialty_id in chosen and q.issue_date < limit]
    if late and 'continuing_education' not in ctx.facts.material_kinds():
        return ('资格证书签发已超过3年，须上传继续教育证明：'
                + '、'.join(q.specialty.name for q in late))


def no_active_registration(ctx):
    reg = ctx.facts.active_registration()
    if reg is not None:
        return (f'您已在“{reg.enterprise.name}”注册（注册编号 {reg.number}），'
                '一人只能在一个单位注册；变更单位须先办理注销，再申请重新注册')


def has_active_registration(ctx):
    if ctx.facts.active_registration() is None:
        return '您目前没有有效的注册，不能办理此项业务'


def enterprise_verified(ctx):
    ent = ctx.app.enterprise
    if ent is None:
        return '请选择聘用企业'
    if not ent.verified:
        return f'请确认企业名称：“{ent.name}”尚未完成企业实名认证，完成后方可申报'


def same_enterprise_as_registration(ctx):
    reg = ctx.facts.active_registration()
    if reg is not None and ctx.app.enterprise_id != reg.enterprise_id:
        return f'延续注册的聘用企业须为当前注册单位“{reg.enterprise.name}”；变更单位请先注销再重新注册'


def contract_dates_valid(ctx):
    start, end = ctx.app.contract_start, ctx.app.contract_end
    if start is None or end is None:
        return '请填写劳动合同开始日期和结束日期'
    if end <= start:
        return '劳动合同结束日期应晚于开始日期'
    if end <= ctx.today:
        return '劳动合同已到期，请上传续签后的劳动合同并更新日期'


def commitment_accepted(ctx):
    if not ctx.app.commitment_accepted:
        return '请阅读个人承诺并勾选“本人作出上述承诺”'


def under_age_limit(ctx):
    if age_on(ctx.app.person.birth_date, ctx.today) >= MAX_AGE:
        return (f'申请人年龄已满{MAX_AGE}周岁，依据《注册建造师管理规定》第十五条第（十）项'
                f'（年龄超过65周岁）不予注册')


def _renewal_earliest_days():
    from flask import current_app, has_app_context
    return current_app.config.get('RENEWAL_EARLIEST_DAYS', 90) if has_app_context() else 90


def renewal_window(ctx):
    if ctx.facts.active_registration() is None:
        return None
    registered = ctx.facts.active_specialties()
    problems = []
    for s in ctx.facts.specialties():
        rs = registered.get(s.id)
        if rs is None:
            problems.append(f'{s.name}未注册，不能延续')
        elif rs.valid_until < ctx.today:
            problems.append(f'{s.name}已于{rs.valid_until}过期，请申请重新注册')
        elif (rs.valid_until - ctx.today).days < RENEWAL_MIN_DAYS:
            problems.append(f'{s.name}将于{rs.valid_until}到期，延续注册须在到期30日前申请')
        elif (rs.valid_until - ctx.today).days > _renewal_earliest_days():
            opens = rs.valid_until - datetime.timedelta(days=_renewal_earliest_days())
            problems.append(f'{s.name}有效期至{rs.valid_until}，延续注册自{opens}起方可申请'
                            f'（到期前{_renewal_earliest_days()}日内）')
    if problems:
        return '；'.join(problems)


def addition_specialties_new(ctx):
    if ctx.facts.active_registration() is None:
        return None
    registered = ctx.facts.active_specialties()
    again = [s.name for s in ctx.facts.specialties() if s.id in registered]
    if again:
        return f'以下专业已经注册，不能增项：{"、".join(again)}'


def _external_conflict_query(with_enterprise):
    def build(id_number, uscc=None):
        which = (ExternalRegistration.id_number == id_number) & (ExternalRegistration.active == True)  # noqa: E712
        if with_enterprise:
            which &= ExternalRegistration.enterprise_uscc != uscc
        return (ExternalRegistration.select(ExternalRegistration.id, ExternalRegistration.category,  # what the message names
                                            ExternalRegistration.reg_number, ExternalRegistration.enterprise_name)
                .where(which).order_by(ExternalRegistration.id).limit(1))
    return build


# the guards every application page checks (transitions.review): composed once (db.Prepared)
_EXTERNAL_CONFLICT = {True: Prepared(_external_conflict_query(True), arity=2),
                      False: Prepared(_external_conflict_query(False))}


def no_external_conflict(ctx):
    """FAQ 9: a registration at another enterprise (二级建造师, another profession) blocks this one;
    one at the same enterprise (same USCC) does not."""
    ent = ctx.app.enterprise
    id_number = ctx.app.person.id_number
    found = (_EXTERNAL_CONFLICT[True].rows(id_number, ent.uscc) if ent is not None
             else _EXTERNAL_CONFLICT[False].rows(id_number))
    if found:
        _id, category, reg_number, enterprise_name = found[0]
        where = f'在“{enterprise_name}”' if enterprise_name else ''
        return (f'全国建筑市场监管公共服务平台显示您已{where}注册为{category}'
                f'（{reg_number}），不能在两个或者两个以上单位注册')


_OTHER_OPEN_APPLICATION = Prepared(lambda person_id, app_id: Application.select(
    Application.id, Application.number, Application.business_type, Application.state).where(  # what the message names
    (Application.person == person_id) & (Application.id != app_id)
    & (Application.state.in_(OPEN_STATES)) & (Application.state != 'draft')
    & (Application.business_type != 'info_change')
    # a confirmed 注销 has already taken effect; it only waits to be listed in an announcement
    & ~((Application.business_type == 'cancellation') & (Application.state == 'approved')))
    .order_by(Application.id).limit(1), arity=2)


def no_other_open_application(ctx):
    found = _OTHER_OPEN_APPLICATION.rows(ctx.app.person_id, ctx.app.id)
    if found:
        _id, number, business_type, state = found[0]
        return (f'您有正在办理的{BUSINESS_TYPES[business_type]}申请（{number}，'
                f'{STATES[state]}），办结后才能提交新的申请')


def still_applicable(ctx):
    """At announcement: the registration the decision changes is still in the state it expects.
    A 注销 took effect when it was confirmed (or decided); the announcement lists it for information."""
    if ctx.app.business_type in ('cancellation', 'change'):      # in effect already; listed for information
        return None
    if ctx.app.business_type in ('initial', 'reregister'):
        return no_active_registration(ctx)
    return has_active_registration(ctx)


def _still_applicable_bulk(contexts):
    """still_applicable for many contexts with one query: {application id: message}."""
    pids = [c.app.person_id for c in contexts]
    active = set()
    for k in range(0, len(pids), 900):
        active |= {pid for (pid,) in Registration.select(Registration.person).where(
            Registration.person.in_(pids[k:k + 900]) & (Registration.state == 'active')).tuples()}
    out = {}
    for c in contexts:
        if c.app.business_type in ('cancellation', 'change'):
            continue
        fresh = c.app.business_type in ('initial', 'reregister')
        if fresh == (c.app.person_id in active):
            out[c.app.id] = still_applicable(c)          # the single form words the message
    return out


still_applicable.bulk = _still_applicable_bulk


def cancel_reasons_chosen(ctx):
    if not ctx.app.cancel_reasons.count():
        return '请勾选注销原因'


def required_materials(*kinds):
    def rule(ctx):
        have = ctx.facts.material_kinds()
        missing = [MATERIAL_KINDS[k] for k in kinds if k not in have]
        if missing:
            return f'请上传申报材料：{"、".join(missing)}'
    rule.__name__ = 'required_materials_' + '_'.join(kinds)
    rule.__doc__ = '申报材料齐全：' + '、'.join(MATERIAL_KINDS[k] for k in kinds)
    return rule


def info_change_valid(ctx):
    app = ctx.app
    if not (app.new_name or app.new_id_number):
        return None     # basic fields only: no explanation and no material needed
    problems = []
    if not app.change_explanation.strip():
        problems.append('修改姓名或身份证号须填写情况说明')
    if app.new_id_number:
        try:
            validate_id_number(app.new_id_number)
        except ValidationError as exc:
            problems.append(f'新身份证号码：{exc.message}')
    have = ctx.facts.material_kinds()
    for kind in ('id_front', 'id_back', 'change_proof'):
        if kind not in have:
            problems.append(f'请上传{MATERIAL_KINDS[kind]}')
    if problems:
        return '；'.join(problems)


def not_the_acceptor(ctx):
    """Separation of duties: who accepted may not review."""
    if ctx.app.accepted_by_id is not None and ctx.app.accepted_by_id == ctx.actor.id:
        return '受理人与审查人不能为同一人，请由其他审查人员办理'


def forced_cancel_due(app):
    """The day from which the holder may ask for a 强制注销: CANCEL_CONFIRM_WORKING_DAYS working days
    after the 注销 was submitted to the enterprise (None while it was never submitted)."""
    from flask import current_app, has_app_context
    if app.submitted_at is None:
        return None
    cfg = current_app.config if has_app_context() else {}
    days = cfg.get('CANCEL_CONFIRM_WORKING_DAYS', 10)
    return add_working_days(app.submitted_at.date(), days, cfg.get('HOLIDAYS', []))


def enterprise_confirmation_overdue(ctx):
    due = forced_cancel_due(ctx.app)
    if due is None or ctx.today < due:
        return (f'企业确认注销的期限尚未届满（{due or "提交后"}起仍未确认的，可申请强制注销），'
                '请先联系聘用企业确认')


_ACTIVE_SANCTION = Prepared(lambda person_id, today: Sanction.select().where(
    (Sanction.person == person_id) & (Sanction.starts_on <= today) & (Sanction.ends_on >= today))
    .order_by(Sanction.ends_on.desc()).limit(1), arity=2)


def active_sanction(person, today):
    """The person's (an instance or an id) ban running on `today`, or None; the one ending last."""
    if isinstance(today, datetime.datetime):          # compared as a day, as the columns are dates
        today = today.date()
    found = _ACTIVE_SANCTION.instances(Sanction, getattr(person, 'id', person), today)
    return found[0] if found else None


def not_banned(ctx):
    """Art. 33/34: no new application while a ban runs."""
    ban = active_sanction(ctx.app.person, ctx.today)
    if ban is not None:
        return (f'因{SANCTIONS[ban.kind][1]}，自{ban.starts_on}至{ban.ends_on}不得申请注册；'
                f'请于{ban.ends_on + datetime.timedelta(days=1)}以后再申请')


def registry_initiated(ctx):
    if ctx.app.initiated_by != 'registry':
        return f'只有注册机构发起的{BUSINESS_TYPES[ctx.app.business_type]}才能由注册机构直接决定'


def comment_given(ctx):
    if not (ctx.comment or '').strip():
        return f'请填写{ctx.transition.comment_label}'


def refusal_grounds_given(ctx):
    ids = ctx.data.get('grounds') or []
    if not ids:
        return '不予注册须至少选择一项依据（《注册建造师管理规定》第十五条）'
    try:
        ids = [int(i) for i in ids]
    except (TypeError, ValueError):
        return '不予注册依据无效'
    if RefusalGround.select().where(RefusalGround.id.in_(ids)).count() != len(set(ids)):
        return '不予注册依据无效'


# The form field a rule's message belongs to (shown at that field on the decision forms).
comment_given.field = 'comment'
refusal_grounds_given.field = 'grounds'


def joint_review_complete(ctx):
    """会审: no decision before every requested opinion is in or its clock has run out."""
    return joint_review.decision_blocker(ctx.app, ctx.today, reads=ctx.facts)


RULE_LABELS = {
    'specialties_chosen': '已选择注册专业',
    'qualified_for_specialties': '资格库中具有所选专业的资格',
    'identity_matches_qualification': '实名信息与资格库一致',
    'within_window_or_continuing_education': '资格证书签发3年内，或已提供继续教育证明',
    'no_active_registration': '无其他有效注册（一人一单位）',
    'has_active_registration': '具有有效注册',
    'enterprise_verified': '聘用企业已完成实名认证',
    'same_enterprise_as_registration': '聘用企业为当前注册单位',
    'contract_dates_valid': '劳动合同日期有效',
    'commitment_accepted': '已作出个人承诺',
    'under_age_limit': '年龄未满65周岁',
    'renewal_window': '延续注册在到期30日前申请',
    'addition_specialties_new': '增项专业尚未注册',
    'no_external_conflict': '全国平台无其他单位注册（二级建造师、其他执业资格）',
    'no_other_open_application': '无其他正在办理的申请',
    'cancel_reasons_chosen': '已选择注销原因',
    'info_change_valid': '信息修改说明和证明材料齐全',
    'not_the_acceptor': '审查人不是受理人',
    'comment_given': '已填写意见',
    'refusal_grounds_given': '已选择不予注册依据',
    'still_applicable': '公告时注册状态仍符合决定',
    'registry_initiated': '由注册机构依法发起',
    'enterprise_confirmation_overdue': '企业逾期未确认注销',
    'not_banned': '不在禁止申请期内（第三十三、三十四条）',
    'joint_review_complete': '会审意见已返回或会审期限届满',
}


def label(rule):
    return RULE_LABELS.get(rule.__name__) or (rule.__doc__ or rule.__name__).strip().split('\n')[0]

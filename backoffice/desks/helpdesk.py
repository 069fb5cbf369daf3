"""Helpdesk (客服): find a person by ID number, 注册编号 or name with exact, indexed lookups; answer
"where is my application?" in one glance. Read-only; every lookup is logged."""
import datetime
import functools
import re

import peewee as pw

from models.base import now
from models import (Application, ApplicationRefusalGround, AuditEvent, Enterprise, ExternalRegistration, LookupLog,
                    Person, Province, Qualification, RefusalGround, RegisteredSpecialty, Registration, Sanction,
                    Specialty, User)

from backoffice.db import Prepared, is_postgres, joined
from backoffice.db import loaded as _loaded
from backoffice.intake import applications
from backoffice.workflow import rules, states, transitions
from backoffice.workflow.calendar import working_days_between
from backoffice.validators import ValidationError, mask_id_number, mask_mobile, validate_id_number

ID_LIKE = re.compile(r'^\d{17}[\dXx]$')
REG_LIKE = re.compile(r'^[\u4e00-\u9fff]1\d{11}(\(\d{2}\))?$')
MAX_NAME_MATCHES = 20


class LookupError_(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


# The lookups and the log's row, composed once (db.Prepared: peewee composing the SQL cost more than running it)
_BY_REG_NUMBER = Prepared(lambda number: Person.select().join(Registration).where(Registration.number == number)
                          .distinct())
_BY_NAME = Prepared(lambda name: Person.select().where(Person.name == name).order_by(Person.id)
                    .limit(MAX_NAME_MATCHES))
_LOG = Prepared(lambda user_id, query, kind, person_id, results, at: LookupLog.insert(
    user=user_id, query=query, kind=kind, person_id=person_id, results=results, created_at=at), arity=6)


def _people_with_facts(number, today=None, log=None):
    """[Person] with this ID number, the person carrying the rows of their facts (for person_summary).
    log: (user, logged query) to write the lookup log's row for this lookup. On PostgreSQL the row is
    written by the same statement (a data-modifying WITH): one round trip fewer on every lookup."""
    today = today or datetime.date.today()
    if log is not None and is_postgres():
        rows = _PERSON_WITH_FACTS_LOGGED.rows(number, today, today, log[0].id, log[1], now())
    else:
        rows = _PERSON_WITH_FACTS.rows(number, today, today)
        if log is not None:
            # the id number is unique: one person (their id leads each row) or none
            _log(log[0], log[1], 'id_number', 1 if rows else 0, rows[0][0] if rows else None)
    if not rows:
        return []
    width = len(Person._meta.sorted_fields)
    [person] = joined(rows[0][:width], Person)
    person.__dict__['_helpdesk_facts'] = (today, [row[width:] for row in rows])
    return [person]


def _log(user, query, kind, results, person_id):
    _LOG.rows(user.id, query, kind, person_id, results, now())


def find(user, query):
    """(kind, [Person]) for a query; logs the lookup. Raises LookupError_ with a Chinese message."""
    q = re.sub(r'\s+', '', query or '')
    if not q:
        raise LookupError_('请输入身份证号、注册编号或姓名')
    if ID_LIKE.match(q):
        try:
            number = validate_id_number(q)
        except ValidationError as exc:
            raise LookupError_(exc.message) from None
        # logged by the lookup itself
        return 'id_number', _people_with_facts(number, log=(user, mask_id_number(number)))
    if REG_LIKE.match(q):
        number = q[:13]
        kind = 'reg_number'
        people = _BY_REG_NUMBER.instances(Person, number)
        logged = number
    elif re.search(r'\d', q):
        raise LookupError_('请输入18位身份证号（末位可为X）、注册编号（如 京111050700001）或姓名')
    elif len(q) > 30:
        raise LookupError_('姓名过长')
    else:
        kind = 'name'
        people = _BY_NAME.instances(Person, q)
        logged = q
    _log(user, logged, kind, len(people), people[0].id if len(people) == 1 else None)
    return kind, people


def log_view(user, person):
    _log(user, mask_id_number(person.id_number), 'person', 1, person.id)


# --- the person page: a fixed number of queries, composed once (db.Prepared) -------------------
#
# A lookup by ID number runs (besides the user's own row): the person with their facts, the lookup
# log's INSERT (on PostgreSQL in the same statement), then the applications with the qualifications,
# and one more only when the latest application was refused (its grounds).
# tests/test_helpdesk_speed.py counts them.

# 'active' written into the SQL, not bound: SQLite re-prepares a statement on every execution
# when a bound value could choose a partial index (registration_one_active_per_person), which
# cost this query ten times its run time.
_ACTIVE = pw.SQL("'active'")


def _facts_query(person_id, ban_from, ban_until, person_columns=(), where=None):
    """One row per active specialty of the person's active registration (one row when there is none),
    each carrying the person's one-of facts: the active registration with its enterprise and
    province, the mobile of their account, the latest lapsed registration, an active registration
    on the national platform and a running sanction (workflow.rules.active_sanction).
    person_columns lead each row when given; `where` replaces the condition on the person's id."""
    account = User.alias()
    lapsed, lapsed_pick = Registration.alias(), Registration.alias()
    other, other_pick = ExternalRegistration.alias(), ExternalRegistration.alias()
    ban, ban_pick = Sanction.alias(), Sanction.alias()
    account_mobile = (account.select(account.mobile).where((account.person == Person.id) & (account.mobile != ''))
                      .limit(1))
    # the person's registrations, the latest lapsed one first: read on the person's index (a
    # condition on the state would let SQLite's planner walk every lapsed registration instead);
    # the row is kept only when it is a lapsed one
    latest_lapsed = (lapsed_pick.select(lapsed_pick.id).where(lapsed_pick.person == Person.id)
                     .order_by((lapsed_pick.state == 'lapsed').desc(), lapsed_pick.lapsed_on.desc()).limit(1))
    other_active = (other_pick.select(other_pick.id)
                    .where((other_pick.id_number == Person.id_number) & (other_pick.active == True))  # noqa: E712
                    .order_by(other_pick.id).limit(1))
    running_ban = (ban_pick.select(ban_pick.id)
                   .where((ban_pick.person == Person.id) & (ban_pick.starts_on <= ban_from)
                          & (ban_pick.ends_on >= ban_until))
                   .order_by(ban_pick.ends_on.desc()).limit(1))
    return (Person.select(*person_columns, account_mobile.alias('account_mobile'),
                          Registration.id, Registration.number, Registration.seal_check,
                          Enterprise.id, Enterprise.name, Province.id, Province.name,
                          Specialty.name, RegisteredSpecialty.valid_until,
                          lapsed.state, lapsed.number, lapsed.lapsed_on, lapsed.end_reason,
                          other.category, other.enterprise_name,
                          ban.kind, ban.starts_on, ban.ends_on)
            .join(Registration, pw.JOIN.LEFT_OUTER,
                  on=((Registration.person == Person.id) & (Registration.state == _ACTIVE)))
            .join(Enterprise, pw.JOIN.LEFT_OUTER, on=(Enterprise.id == Registration.enterprise))
            .switch(Registration).join(Province, pw.JOIN.LEFT_OUTER, on=(Province.id == Registration.province))
            .switch(Registration).join(RegisteredSpecialty, pw.JOIN.LEFT_OUTER,
                                       on=((RegisteredSpecialty.registration == Registration.id)
                                           & (RegisteredSpecialty.state == 'active')))
            .join(Specialty, pw.JOIN.LEFT_OUTER, on=(Specialty.id == RegisteredSpecialty.specialty))
            .switch(Person).join(lapsed, pw.JOIN.LEFT_OUTER, on=(lapsed.id == latest_lapsed))
            .switch(Person).join(other, pw.JOIN.LEFT_OUTER, on=(other.id == other_active))
            .switch(Person).join(ban, pw.JOIN.LEFT_OUTER, on=(ban.id == running_ban))
            .where(Person.id == person_id if where is None else where)
            .order_by(Specialty.sort))


def _applications_query(person_id):
    """The person's applications, newest first, each with its enterprise and its audit events in
    order (one row per event; one row with no event)."""
    return (Application.select(Application.id, Application.number, Application.business_type, Application.state,
                               Application.deadline, Application.created_at, Application.return_reason,
                               Application.correction_note, Enterprise.id, Enterprise.name, AuditEvent.id,
                               AuditEvent.created_at, AuditEvent.actor_role, AuditEvent.action, AuditEvent.comment)
            .join(Enterprise, pw.JOIN.LEFT_OUTER, on=(Enterprise.id == Application.enterprise))
            .switch(Application).join(AuditEvent, pw.JOIN.LEFT_OUTER, on=(AuditEvent.application == Application.id))
            .where(Application.person == person_id)
            .order_by(Application.id.desc(), AuditEvent.id))


def _qualifications_query(person_id, id_number):
    """applications.qualifications_of(person) with each specialty's name (the certificate's
    management number is the sign-up factor: not read, never shown)."""
    return (Qualification.select(Qualification.id, Qualification.holder_name, Qualification.holder_id_number,
                                 Qualification.issue_date, Specialty.id, Specialty.name)
            .join(Specialty, on=(Specialty.id == Qualification.specialty))
            .where((Qualification.person == person_id) | (Qualification.holder_id_number == id_number)))


def _grounds_query(application_id):
    return (RefusalGround.select(RefusalGround.text)
            .join(ApplicationRefusalGround, on=(ApplicationRefusalGround.ground == RefusalGround.id))
            .where(ApplicationRefusalGround.application == application_id))


_FACTS = Prepared(_facts_query, arity=3)
# a lookup by ID number reads the person with their facts: one statement for both (the person page
# follows at once); the person's columns lead each row
_PERSON_WITH_FACTS = Prepared(lambda number, ban_from, ban_until: _facts_query(
    None, ban_from, ban_until, person_columns=Person._meta.sorted_fields, where=(Person.id_number == number)), arity=3)


def _lookup_logged(number, ban_from, ban_until, user_id, logged, at):
    """_PERSON_WITH_FACTS with the lookup log's row written by the same statement (PostgreSQL: a
    data-modifying WITH runs once, whatever the query reads of it): the person is counted by the
    INSERT's own SELECT, as find() logs it (the number of matches, the person's id when one)."""
    person = Person.alias()
    entry = LookupLog.insert_from(
        person.select(pw.Cast(user_id, 'integer'), pw.Cast(logged, 'text'), pw.Value('id_number'),
                      pw.fn.MIN(person.id), pw.fn.COUNT(person.id), pw.Cast(at, 'timestamp'))
        .where(person.id_number == number),
        fields=[LookupLog.user, LookupLog.query, LookupLog.kind, LookupLog.person_id, LookupLog.results,
                LookupLog.created_at]).returning(LookupLog.id)
    return (_facts_query(None, ban_from, ban_until, person_columns=Person._meta.sorted_fields,
                         where=(Person.id_number == number))
            .with_cte(entry.cte('lookup_logged')))


_PERSON_WITH_FACTS_LOGGED = Prepared(_lookup_logged, arity=6)
_APP_WIDTH = len(_applications_query(0).selected_columns)
_QUALIFICATION_WIDTH = len(_qualifications_query(0, '').selected_columns)


def _history_query(person_id, id_number):
    """The applications with their timelines (_applications_query) and the qualifications
    (_qualifications_query) in one statement: one round trip fewer on every person page. Each row
    is (part, key, key, the application's columns, the qualification's columns): part 1 an
    application's row (qualification columns NULL), part 2 a qualification's (application columns
    NULL); the keys keep each part in its own order (applications newest first, each timeline in
    order; qualifications by id)."""
    null = pw.SQL('NULL')
    apps = _applications_query(person_id)
    apps = apps.order_by().select(pw.SQL('1'), pw.SQL('0') - Application.id, AuditEvent.id, *apps.selected_columns,
                                  *[null] * _QUALIFICATION_WIDTH)
    quals = _qualifications_query(person_id, id_number)
    quals = quals.select(pw.SQL('2'), Qualification.id, null, *[null] * _APP_WIDTH, *quals.selected_columns)
    return (apps + quals).order_by(pw.SQL('1'), pw.SQL('2'), pw.SQL('3'))


_HISTORY = Prepared(_history_query, arity=2)
_GROUNDS = Prepared(_grounds_query)

# working days left to a deadline: the same two dates give the same count (the official schedule is
# fixed, no HOLIDAYS are passed), and counting them day by day is the summary's dearest step
_working_days = functools.lru_cache(maxsize=1024)(working_days_between)

def _facts(person, today):
    """(registration or None, [(specialty, valid until, days left)], account mobile, lapsed
    registration or None, external registration or None, sanction or None)."""
    read = person.__dict__.get('_helpdesk_facts')
    rows = read[1] if read is not None and read[0] == today else _FACTS.rows(person.id, today, today)
    (mobile, reg_id, number, seal_check, ent_id, ent_name, prov_id, prov_name, _name, _until, lapsed_state,
     lapsed_number, lapsed_on, end_reason, other_category, other_enterprise, ban_kind, ban_from, ban_until) = rows[0]
    reg = None
    if reg_id is not None:
        reg = _loaded(Registration, id=reg_id, person=person.id, number=number, seal_check=seal_check, state='active',
                   enterprise=_loaded(Enterprise, id=ent_id, name=ent_name),
                   province=_loaded(Province, id=prov_id, name=prov_name))
    specs = []
    for row in rows:
        if row[8] is not None:
            until = RegisteredSpecialty.valid_until.python_value(row[9])
            specs.append((row[8], until, (until - today).days))
    lapsed = None
    if lapsed_state == 'lapsed':
        lapsed = _loaded(Registration, person=person.id, number=lapsed_number, state='lapsed',
                      lapsed_on=Registration.lapsed_on.python_value(lapsed_on), end_reason=end_reason)
    other = None
    if other_category is not None:
        other = _loaded(ExternalRegistration, id_number=person.id_number, category=other_category,
                     enterprise_name=other_enterprise, active=True)
    ban = None
    if ban_kind is not None:
        ban = _loaded(Sanction, person=person.id, kind=ban_kind, starts_on=Sanction.starts_on.python_value(ban_from),
                   ends_on=Sanction.ends_on.python_value(ban_until))
    return reg, specs, mobile, lapsed, other, ban


def _history(person):
    """(applications, qualifications) as _applications and _qualifications read them, in one statement."""
    apps, quals = [], []
    for row in _HISTORY.rows(person.id, person.id_number):
        if row[0] == 1:
            apps.append(row[3:3 + _APP_WIDTH])
        else:
            quals.append(row[3 + _APP_WIDTH:])
    return _applications(person, apps), _qualifications(person, quals)


def _applications(person, rows):
    """[(Application with its enterprise, timeline)] newest first; the timeline as
    applications.timelines() gives it."""
    out, app, steps = [], None, None
    for (app_id, number, business_type, state, deadline, created_at, return_reason, correction_note, ent_id,
         ent_name, event_id, event_at, role, action, comment) in rows:
        if app is None or app.id != app_id:
            app = _loaded(Application, id=app_id, number=number, business_type=business_type, state=state,
                       deadline=Application.deadline.python_value(deadline),
                       created_at=Application.created_at.python_value(created_at), person=person.id,
                       return_reason=return_reason, correction_note=correction_note,
                       enterprise=None if ent_id is None else _loaded(Enterprise, id=ent_id, name=ent_name))
            steps = [(app.created_at, '本人', '创建申请', '')]
            out.append((app, steps))
        if event_id is not None:
            steps.append((AuditEvent.created_at.python_value(event_at), applications.WHO.get(role, '注册机构'),
                          transitions.action_label(action, business_type), comment))
    return out


def _qualifications(person, rows):
    issued_on = Qualification.issue_date.python_value
    return [_loaded(Qualification, id=qid, holder_name=name, holder_id_number=id_number, person=person.id,
                 issue_date=issued_on(issued), specialty=_loaded(Specialty, id=spec_id, name=spec_name))
            for qid, name, id_number, issued, spec_id, spec_name in rows]


def person_summary(person, today=None):
    """Everything a caller may ask about, with ID number and mobile masked.

    Two queries whatever the person's history (a third for the grounds of a refusal), each
    composed once (tests/test_helpdesk_speed.py): the active registration with its enterprise,
    province and specialties and the person's one-of facts (read with the person by a lookup by ID
    number); the applications with their enterprises and every timeline, and the qualifications with
    their specialties. The rows are model instances holding the columns the page and the standard
    answers read."""
    today = today or datetime.date.today()
    reg, specs, account_mobile, lapsed, other, ban = _facts(person, today)
    apps = []
    history, quals = _history(person)
    for app, steps in history:
        holder, waiting, deadline = applications.waiting_for(app)
        left = _working_days(today, deadline) if deadline and app.state in ('reported', 'accepted') else None
        apps.append({'app': app, 'type': states.BUSINESS_TYPES[app.business_type],
                     'state': states.STATES[app.state], 'holder': holder, 'waiting': waiting,
                     'deadline': deadline, 'working_days_left': left, 'timeline': steps})
    return {
        'person': person, 'id_number': mask_id_number(person.id_number),
        # the mobile verified by SMS at sign-up (their account's), else the one on record
        'mobile': mask_mobile(account_mobile or person.mobile),
        'qualifications': quals, 'registration': reg, 'specialties': specs,
        'applications': apps,
        'answers': standard_answers(person, reg, specs, apps, today, quals, other=other, ban=ban, lapsed=lapsed),
    }


_ASK = object()      # standard_answers(): not given, read it


def standard_answers(person, reg, specs, apps, today, quals=None, other=_ASK, ban=_ASK, lapsed=_ASK):
    """The helpdesk's standard answers for the caller's situation, most pressing first.
    other / ban / lapsed: the active external registration, the running sanction and the latest
    lapsed registration (or None) when the caller has read them already (person_summary)."""
    answers = []
    quals = applications.qualifications_of(person) if quals is None else quals
    if any(q.holder_name != person.name or q.holder_id_number != person.id_number for q in quals):
        answers.append('实名信息（姓名、身份证号）与资格库不一致：请申请人办理“信息修改或材料补充”，'
                       '填写正确的姓名、身份证号和情况说明，并上传身份证正反面及证明材料（常见问题8）。')
    if other is _ASK:
        other = ExternalRegistration.get_or_none((ExternalRegistration.id_number == person.id_number)
                                                 & (ExternalRegistration.active == True))  # noqa: E712
    if other is not None:
        answers.append(f'全国建筑市场监管公共服务平台显示其另有{other.category}注册（{other.enterprise_name}）。'
                       '须待该注册注销并同步到平台后，才能申请一级建造师注册（常见问题9）。')
    for item in apps:
        app = item['app']
        if app.state == 'submitted':
            answers.append(f'{item["type"]}申请 {app.number} 已提交，企业尚未上报：请联系聘用企业'
                           f'“{app.enterprise.name if app.enterprise else ""}”登录系统确认上报。企业上报前可由企业撤回。')
        elif app.state == 'returned':
            answers.append(f'{item["type"]}申请 {app.number} 被企业退回（原因：{app.return_reason}），请申请人修改后重新提交。')
        elif app.state == 'correction':
            answers.append(f'{item["type"]}申请 {app.number} 需要补正：{app.correction_note}。请申请人补正后重新提交。')
        elif app.state == 'reported':
            answers.append(f'{item["type"]}申请 {app.number} 已上报，等待注册机构受理。')
        elif app.state == 'accepted':
            if item['deadline'] and item['deadline'] < today:
                answers.append(f'{item["type"]}申请 {app.number} 审查已超过办理期限（{item["deadline"]}），'
                               '请登记催办并转注册机构。')
            else:
                answers.append(f'{item["type"]}申请 {app.number} 正在审查，办理期限至 {item["deadline"]}'
                               f'（还有 {item["working_days_left"]} 个工作日）。')
        elif app.state == 'approved' and app.business_type == 'cancellation':
            answers.append(f'注销申请 {app.number} 已由企业确认，注销已生效，将在下一期公告中列出；可申请重新注册。')
        elif app.state == 'approved':
            answers.append(f'{item["type"]}申请 {app.number} 已准予，待公告；公告后生效，届时可下载电子证书。')
        elif app.state == 'refused' and item is apps[0]:
            grounds = [text for text, in _GROUNDS.rows(app.id)]
            answers.append(f'{item["type"]}申请 {app.number} 不予注册，依据：{"；".join(grounds) or "见告知书"}。'
                           '申请人可在“最新业务办理进度”下载不予注册告知书。')
    for name, until, left in specs:
        if left < 0:
            answers.append(f'{name}专业已于 {until} 到期未延续，请申请重新注册。')
        elif left <= 90:
            answers.append(f'{name}专业将于 {until} 到期（剩 {left} 天），请在到期30日前申请延续注册。')
    if ban is _ASK:
        ban = rules.active_sanction(person, today)
    if ban is not None:
        answers.insert(0, f'处于禁止申请期：因{states.SANCTIONS[ban.kind][1]}，自{ban.starts_on}至{ban.ends_on}'
                          '不得申请注册，期满后方可再次申请。')
    if reg is None:
        if lapsed is _ASK:
            lapsed = (Registration.select().where((Registration.person == person) & (Registration.state == 'lapsed'))
                      .order_by(Registration.lapsed_on.desc()).first())
        if lapsed is not None:
            answers.append(f'注册（{lapsed.number}）已于 {lapsed.lapsed_on} 失效：'
                           f'{states.LAPSE_REASONS.get(lapsed.end_reason, lapsed.end_reason)}。证书已作废；'
                           '符合条件的可申请重新注册。')
    if reg is None and not any(a['app'].state not in states.FINAL_STATES for a in apps):
        answers.append('目前没有有效注册，也没有正在办理的业务：可申请初始注册（曾注销的申请重新注册）。')
    if not answers:
        answers.append('注册有效，没有正在办理的业务。')
    return answers

"""Helpdesk (客服): find a person by ID number, 注册编号 or name with exact, indexed lookups; answer
"where is my application?" in one glance. Read-only; every lookup is logged."""
import datetime
import re

import peewee as pw

from models import (Application, ApplicationRefusalGround, Enterprise, LookupLog, Person, Province, Qualification,
                    RefusalGround, RegisteredSpecialty, Registration, Specialty)

from backoffice.intake import applications
from backoffice.workflow import rules, states
from backoffice.workflow.calendar import working_days_between
from backoffice.validators import ValidationError, mask_id_number, mask_mobile, validate_id_number

ID_LIKE = re.compile(r'^\d{17}[\dXx]$')
REG_LIKE = re.compile(r'^[\u4e00-\u9fff]1\d{11}(\(\d{2}\))?$')
MAX_NAME_MATCHES = 20


class LookupError_(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


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
        kind, people = 'id_number', list(Person.select().where(Person.id_number == number))
        logged = mask_id_number(number)
    elif REG_LIKE.match(q):
        number = q[:13]
        kind = 'reg_number'
        people = list(Person.select().join(Registration).where(Registration.number == number).distinct())
        logged = number
    elif re.search(r'\d', q):
        raise LookupError_('请输入18位身份证号（末位可为X）、注册编号（如 京111050700001）或姓名')
    elif len(q) > 30:
        raise LookupError_('姓名过长')
    else:
        kind = 'name'
        people = list(Person.select().where(Person.name == q).order_by(Person.id).limit(MAX_NAME_MATCHES))
        logged = q
    LookupLog.create(user=user, query=logged, kind=kind, results=len(people),
                     person_id=people[0].id if len(people) == 1 else None)
    return kind, people


def log_view(user, person):
    LookupLog.create(user=user, query=mask_id_number(person.id_number), kind='person', person_id=person.id,
                     results=1)


def verified_mobile(person):
    """The mobile the person verified by SMS at sign-up (their account's), else the one on record."""
    from models import User
    account = User.select(User.mobile).where((User.person == person) & (User.mobile != '')).first()
    return account.mobile if account is not None and account.mobile else person.mobile


def _qualifications(person):
    """applications.qualifications_of(person) with each specialty joined (the page names it)."""
    return list(Qualification.select(Qualification, Specialty).join(Specialty).where(
        (Qualification.person == person) | (Qualification.holder_id_number == person.id_number)))


def person_summary(person, today=None):
    """Everything a caller may ask about, with ID number and mobile masked.

    A bounded number of queries whatever the person's history (tests/test_helpdesk_speed.py):
    the registration with its enterprise and province, the specialties, the applications with
    their enterprises, every timeline in one query, the qualifications with their specialties."""
    today = today or datetime.date.today()
    reg = (Registration.select(Registration, Enterprise, Province)
           .join(Enterprise, on=(Registration.enterprise == Enterprise.id))
           .switch(Registration).join(Province, on=(Registration.province == Province.id))
           .where((Registration.person == person) & (Registration.state == 'active')).first())
    specs = []
    if reg is not None:
        specs = [(rs.specialty.name, rs.valid_until, (rs.valid_until - today).days) for rs in
                 RegisteredSpecialty.select(RegisteredSpecialty, Specialty).join(Specialty)
                 .where((RegisteredSpecialty.registration == reg) & (RegisteredSpecialty.state == 'active'))
                 .order_by(Specialty.sort)]
    rows = list(Application.select(Application, Enterprise)
                .join(Enterprise, pw.JOIN.LEFT_OUTER, on=(Application.enterprise == Enterprise.id))
                .where(Application.person == person).order_by(Application.id.desc()))
    steps = applications.timelines(rows)
    apps = []
    for app in rows:
        holder, waiting, deadline = applications.waiting_for(app)
        left = working_days_between(today, deadline) if deadline and app.state in ('reported', 'accepted') else None
        apps.append({'app': app, 'type': states.BUSINESS_TYPES[app.business_type],
                     'state': states.STATES[app.state], 'holder': holder, 'waiting': waiting,
                     'deadline': deadline, 'working_days_left': left, 'timeline': steps[app.id]})
    quals = _qualifications(person)
    return {
        'person': person, 'id_number': mask_id_number(person.id_number), 'mobile': mask_mobile(verified_mobile(person)),
        'qualifications': quals, 'registration': reg, 'specialties': specs,
        'applications': apps, 'answers': standard_answers(person, reg, specs, apps, today, quals),
    }


def standard_answers(person, reg, specs, apps, today, quals=None):
    """The helpdesk's standard answers for the caller's situation, most pressing first."""
    answers = []
    quals = applications.qualifications_of(person) if quals is None else quals
    if any(q.holder_name != person.name or q.holder_id_number != person.id_number for q in quals):
        answers.append('实名信息（姓名、身份证号）与资格库不一致：请申请人办理“信息修改或材料补充”，'
                       '填写正确的姓名、身份证号和情况说明，并上传身份证正反面及证明材料（常见问题8）。')
    from models import ExternalRegistration
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
            grounds = [g.text for g in RefusalGround.select().join(ApplicationRefusalGround)
                       .where(ApplicationRefusalGround.application == app)]
            answers.append(f'{item["type"]}申请 {app.number} 不予注册，依据：{"；".join(grounds) or "见告知书"}。'
                           '申请人可在“最新业务办理进度”下载不予注册告知书。')
    for name, until, left in specs:
        if left < 0:
            answers.append(f'{name}专业已于 {until} 到期未延续，请申请重新注册。')
        elif left <= 90:
            answers.append(f'{name}专业将于 {until} 到期（剩 {left} 天），请在到期30日前申请延续注册。')
    ban = rules.active_sanction(person, today)
    if ban is not None:
        answers.insert(0, f'处于禁止申请期：因{states.SANCTIONS[ban.kind][1]}，自{ban.starts_on}至{ban.ends_on}'
                          '不得申请注册，期满后方可再次申请。')
    if reg is None:
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

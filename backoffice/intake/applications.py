"""The applicant's and the enterprise's side of an application: drafts, choices, submission,
progress. Every state change still goes through transitions.perform()."""
import datetime
import io



from models import (Application, ApplicationCancelReason, ApplicationSpecialty, AuditEvent, CancellationReason,
                    Enterprise, Material, Person, Qualification, RegisteredSpecialty, Registration, Specialty,
                    database)

from backoffice.workflow import numbering, rules, summaries, transitions, states
from backoffice.intake import sms, uploads
from backoffice.roles import APPLICANT, ENTERPRISE
from backoffice.workflow.rules import active_registration, person_qualifications
from backoffice.db import Prepared
from backoffice.validators import ValidationError, form_date, validate_uscc
from models import MATERIAL_KINDS as MATERIAL_KINDS_LABELS

EDITABLE = ('draft', 'returned', 'correction')
NEEDS_ENTERPRISE = ('initial', 'renewal', 'reregister')
NEEDS_SPECIALTIES = ('initial', 'addition', 'renewal', 'reregister')
NEEDS_COMMITMENT = ('initial', 'addition', 'renewal', 'reregister', 'info_change')

NOTICES = {
    'initial': ('申请人须取得一级建造师资格证书，受聘于一个已完成实名认证的建设工程相关单位，年龄未满65周岁；'
                '资格证书签发之日起超过3年申请的，须提供继续教育证明。企业确认并上报后，由注册机构受理审查。',
                '一寸白底免冠照（须经照片处理工具审核）、个人签名图片、劳动合同，必要时提供继续教育证明。'),
    'addition': ('已取得有效注册的人员可申请增加注册专业，所增专业须已取得相应资格。增项注册不需要企业上报。',
                 '一寸白底免冠照、个人签名图片。'),
    'renewal': ('注册有效期满需继续执业的，应在有效期届满30日前申请延续注册，并完成继续教育。',
                '一寸白底免冠照、个人签名图片、继续教育证明、劳动合同。'),
    'cancellation': ('有下列情形之一的，应申请注销注册：' + '；'.join([
        '聘用单位破产', '聘用单位被吊销营业执照', '聘用单位被吊销或者撤回资质证书', '已与聘用单位解除聘用合同关系',
        '注册有效期满且未延续注册', '年龄超过65周岁', '死亡或不具有完全民事行为能力', '其他导致注册失效的情形']) +
        '。企业确认后即办结，由注册机构公告。', ''),
    'reregister': ('注销注册或不予注册后，重新具备条件的，可申请重新注册。变更执业单位的，须先办理注销，再申请重新注册。',
                   '一寸白底免冠照、个人签名图片、劳动合同，必要时提供继续教育证明。'),
    'info_change': ('用于修改姓名、身份证号，也可修改民族、毕业院校、所学专业、学历、毕业时间。'
                    '只修改基本信息的，请勿在“修改信息”栏目填写任何内容，也不要上传附件材料；'
                    '修改姓名或身份证号的，须填写情况说明并重新上传身份证正反面及公安机关或人事考试部门出具的证明材料。',
                    '身份证人像面、国徽面，公安机关或人事考试部门出具的证明（仅修改姓名或身份证号时）。'),
}
SUCCESS_MESSAGE = '您所申请的事项已经提交成功！'


class FormErrors(Exception):
    """Field → Chinese message; what was valid has been saved."""

    def __init__(self, errors):
        super().__init__('；'.join(errors.values()))
        self.errors = errors


# --- choices ---------------------------------------------------------------

def allowed_specialties(app):
    """Specialties this applicant may choose for this application."""
    held = {q.specialty_id for q in person_qualifications(app.person)}
    reg = active_registration(app.person)
    registered = set()
    if reg is not None:
        registered = {rs.specialty_id for rs in RegisteredSpecialty.select().where(
            (RegisteredSpecialty.registration == reg) & (RegisteredSpecialty.state == 'active'))}
    if app.business_type == 'addition':
        ids = held - registered
    elif app.business_type == 'renewal':
        ids = registered
    else:
        ids = held
    return list(Specialty.select().where(Specialty.id.in_(list(ids))).order_by(Specialty.sort)) if ids else []


def suggest_enterprises(term, limit=10):
    """Verified enterprises whose name contains term, or whose USCC starts with it (FAQ 5)."""
    term = (term or '').strip()
    if len(term) < 2:
        return []
    query = Enterprise.select().where(Enterprise.verified == True)  # noqa: E712
    if term[:2].isdigit() and len(term) >= 4:
        query = query.where(Enterprise.uscc.startswith(term.upper()))
    else:
        query = query.where(Enterprise.name.contains(term))
    return list(query.order_by(Enterprise.name).limit(limit))


def enterprise_problem(ent):
    if ent is None:
        return '请确认企业名称：未找到该企业，请从下拉提示中选择'
    if not ent.verified:
        return f'请确认企业名称：“{ent.name}”尚未在建设行业执业资格管理信息系统完成企业实名认证，完成后方可选择'
    return None


def commitment_text(app):
    """The 个人承诺 names the chosen enterprise (FAQ 4)."""
    ent = app.enterprise.name if app.enterprise_id else '（请先选择聘用企业）'
    who = app.person.name
    if app.business_type == 'info_change':
        return (f'本人{who}承诺：所填写的信息修改内容及提交的证明材料真实、准确、完整，'
                '如有虚假，愿意承担相应的法律责任。')
    return (f'本人{who}承诺：本人与{ent}签订了劳动合同，受聘于该单位，且未同时在两个或者两个以上单位注册；'
            '本人所填写的信息及提交的材料真实、准确、完整；本人符合一级建造师注册条件，'
            '已达到继续教育要求。如有虚假，本人愿意承担相应的法律责任，并接受不予注册、撤销注册等处理。')


# --- drafts -----------------------------------------------------------------

def open_applications(person):
    return Application.select().where((Application.person == person)
                                      & Application.state.not_in(states.FINAL_STATES))


def start(person, business_type):
    """The applicant's current editable application of this type, or a new draft."""
    if business_type not in states.APPLICANT_TYPES:
        raise FormErrors({'business_type': '业务类型无效'})
    existing = (Application.select().where((Application.person == person)
                                           & (Application.business_type == business_type)
                                           & Application.state.in_(EDITABLE)).order_by(Application.id.desc()).first())
    if existing is not None:
        return existing
    reg = active_registration(person)
    refusal = start_refusal(person, business_type, reg or False)
    if refusal:
        raise FormErrors({'business_type': refusal})
    with database.atomic():
        app = Application.create(
            number=numbering.application_number(), business_type=business_type, person=person,
            enterprise=reg.enterprise if reg is not None and business_type != 'info_change' else None,
            registration=reg if business_type in ('addition', 'renewal', 'cancellation') else None)
        summaries.added(apps=[app.id])          # the home and dashboard counters
        return app


BASIC_FIELDS = ('ethnicity', 'school', 'major', 'education', 'graduation_date')


def save(app, data, actor):
    """Save what the applicant typed. Valid parts are kept even when other parts are wrong."""
    _require_owner(app, actor)
    if app.state not in EDITABLE:
        raise FormErrors({'form': f'申请当前状态为“{states.STATES[app.state]}”，不能修改'})
    errors = {}
    with database.atomic():
        person = Person.get_by_id(app.person_id)
        for field in BASIC_FIELDS:
            if field not in data:
                continue
            value = (data.get(field) or '').strip()
            if field == 'graduation_date':
                value = form_date(value, field, errors)
                if field in errors:
                    continue
            elif field == 'education':
                from models import EDUCATIONS
                if value not in dict(EDUCATIONS):
                    errors[field] = '请选择学历'
                    continue
            elif len(value) > 100:
                errors[field] = '内容过长'
                continue
            setattr(person, field, value)
        person.save()
        if app.business_type in NEEDS_ENTERPRISE and 'uscc' in data:
            uscc = (data.get('uscc') or '').strip()
            if uscc:
                try:
                    ent = Enterprise.get_or_none(Enterprise.uscc == validate_uscc(uscc))
                except ValidationError:
                    ent = None
                problem = enterprise_problem(ent)
                if problem:
                    errors['enterprise'] = problem
                else:
                    app.enterprise = ent
        if app.business_type in NEEDS_ENTERPRISE:
            for field in ('contract_start', 'contract_end'):
                if field in data:
                    value = form_date(data.get(field), field, errors)
                    if field not in errors:
                        setattr(app, field, value)
            if app.contract_start and app.contract_end and app.contract_end <= app.contract_start \
                    and 'contract_end' not in errors:
                errors['contract_end'] = '劳动合同结束日期应晚于开始日期'
        if app.business_type in NEEDS_SPECIALTIES and 'specialties_sent' in data:
            allowed = {s.id: s for s in allowed_specialties(app)}
            chosen = []
            for raw in data.getlist('specialties'):
                try:
                    sid = int(raw)
                except (TypeError, ValueError):
                    sid = None
                if sid not in allowed:
                    errors['specialties'] = '所选专业不在您可申请的专业范围内（须已取得该专业资格）'
                    break
                chosen.append(sid)
            else:
                ApplicationSpecialty.delete().where(ApplicationSpecialty.application == app).execute()
                for sid in dict.fromkeys(chosen):
                    ApplicationSpecialty.create(application=app, specialty=sid)
        if app.business_type == 'cancellation' and 'reasons_sent' in data:
            valid = {r.id for r in CancellationReason.select()}
            picked = []
            for raw in data.getlist('reasons'):
                if not raw.isdigit() or int(raw) not in valid:
                    errors['reasons'] = '注销原因无效'
                    break
                picked.append(int(raw))
            else:
                ApplicationCancelReason.delete().where(ApplicationCancelReason.application == app).execute()
                for rid in dict.fromkeys(picked):
                    ApplicationCancelReason.create(application=app, reason=rid)
        if app.business_type == 'info_change' and 'change_sent' in data:
            app.new_name = (data.get('new_name') or '').strip()[:50]
            new_id = (data.get('new_id_number') or '').strip().upper()
            if new_id:
                from backoffice.validators import validate_id_number
                try:
                    new_id = validate_id_number(new_id)
                except ValidationError as exc:
                    errors['new_id_number'] = exc.message
                    new_id = app.new_id_number
            app.new_id_number = new_id
            app.change_explanation = (data.get('change_explanation') or '').strip()[:2000]
        if app.business_type in NEEDS_COMMITMENT and 'commitment_sent' in data:
            app.commitment_accepted = data.get('commitment') in ('y', 'on', '1', 'true')
        counted = summaries.Tracker(apps=[app.id])      # the enterprise (so the province) may change
        app.save()
        counted.finish()
    if errors:
        raise FormErrors(errors)
    return app


def upload(app, kind, filename, data, actor):
    _require_owner(app, actor)
    if app.state not in EDITABLE:
        raise uploads.UploadError(f'申请当前状态为“{states.STATES[app.state]}”，不能上传材料', kind)
    if kind in uploads.MATERIAL_KINDS and kind not in uploads.APPLICANT_KINDS:   # the commitment PDF: generated
        raise uploads.UploadError('该材料由系统生成，不能自行上传', kind)
    return uploads.save_material(app, kind, filename, data)


def forced_cancel_offer(app, today=None):
    """For a 注销 the enterprise has not confirmed: (the day a 强制注销 may be asked for, whether
    that day has come); None for any other application."""
    if app.business_type != 'cancellation' or app.state != 'submitted' or app.initiated_by != 'applicant':
        return None
    due = rules.forced_cancel_due(app)
    return (due, due is not None and (today or datetime.date.today()) >= due) if due else None


def request_forced_cancel(app, actor, filename, data, comment=''):
    """强制注销: the proof that the labour contract has ended, then the transition to the registry,
    in one transaction (a refused request keeps nothing)."""
    _require_owner(app, actor)
    with database.atomic():
        if filename or data:
            uploads.save_material(app, 'contract_end_proof', filename, data)
        return transitions.perform(app, 'request_forced_cancel', actor, comment=comment)


def submit(app, actor, code):
    """SMS code, the signed commitment kept as a PDF, then the workflow's submit (or resubmit)."""
    _require_owner(app, actor)
    name = 'resubmit' if app.state == 'correction' else 'submit'
    transitions.check(app, actor, name)                      # every rule, before the code is used up
    try:
        sms.verify_code(actor.mobile or app.person.mobile, 'submit', code)
    except sms.SmsError as exc:
        raise FormErrors({'code': exc.message}) from None
    with database.atomic():
        if app.business_type in NEEDS_COMMITMENT:
            uploads.save_material(app, 'commitment', f'个人承诺书-{app.number}.pdf', commitment_pdf(app))
        return transitions.perform(app, name, actor)


def commitment_pdf(app):
    from reportlab.pdfgen import canvas as rl_canvas

    from print_templates.commitment import PAGE_SIZE, draw_commitment
    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=PAGE_SIZE)
    draw_commitment(c, {'title': '个人承诺书', 'number': app.number,
                        'business_type': states.BUSINESS_TYPES[app.business_type],
                        'text': commitment_text(app), 'name': app.person.name,
                        'date': datetime.date.today()})
    c.showPage()
    c.save()
    return buf.getvalue()


def _require_owner(app, actor):
    if actor is None or actor.role != APPLICANT or actor.person_id != app.person_id:
        raise states.WorkflowError('只能办理本人的申请', 'permission')




# --- progress ---------------------------------------------------------------

WHO = {APPLICANT: '本人', ENTERPRISE: '企业', 'acceptor': '注册机构', 'reviewer': '注册机构', 'admin': '注册机构'}


def timeline(app):
    """[(time, who, step, comment)] for every step, oldest first."""
    return timelines([app])[app.id]


def timelines(apps, person_id=None):
    """{application id: timeline(app)} for many applications in one query (the helpdesk's person page).
    person_id: `apps` are every application of that person (the applicant's progress page): the events
    are then read by the person, a query composed once."""
    out = {app.id: [(app.created_at, '本人', '创建申请', '')] for app in apps}
    if not out:
        return out
    types = {app.id: app.business_type for app in apps}
    if person_id is not None:
        rows = _EVENTS_OF_PERSON.rows(person_id)
    else:
        rows = _events(AuditEvent.application.in_(list(out))).tuples()
    at = AuditEvent.created_at.python_value
    for app_id, created_at, role, action, comment in rows:
        if app_id in out:
            out[app_id].append((at(created_at), WHO.get(role, '注册机构'),
                                transitions.action_label(action, types[app_id]), comment))
    return out


def _events(condition):
    return (AuditEvent.select(AuditEvent.application, AuditEvent.created_at, AuditEvent.actor_role,
                              AuditEvent.action, AuditEvent.comment)
            .where(condition).order_by(AuditEvent.id))


_EVENTS_OF_PERSON = Prepared(lambda person_id: _events(AuditEvent.application.in_(
    Application.select(Application.id).where(Application.person == person_id))))
_APPLICATIONS_OF_PERSON = Prepared(lambda person_id: Application.select().where(Application.person == person_id)
                                   .order_by(Application.id.desc()))


def of_person(person_id):
    """Every application of a person, newest first (the applicant's progress page)."""
    return _APPLICATIONS_OF_PERSON.instances(Application, person_id)


def waiting_for(app):
    """(who holds it now, what it waits for, deadline) in the applicant's words."""
    holder = states.HOLDER.get(app.state)
    text = {
        'draft': '待本人填写并提交', 'returned': '企业已退回，待本人修改后重新提交',
        'correction': '注册机构要求补正，待本人补正后重新提交', 'submitted': '待聘用企业确认上报',
        'reported': '待注册机构受理', 'accepted': '注册机构审查中', 'approved': '已准予注册，待公告',
    }.get(app.state, states.STATES[app.state])
    if app.business_type == 'cancellation' and app.state == 'approved':
        holder, text = None, '注销已生效，待公告（可申请重新注册）'
    # a deadline belongs to an application the registry still has to decide
    return holder, text, app.deadline if app.state in ('reported', 'correction', 'accepted') else None


# --- enterprise ---------------------------------------------------------------

ENTERPRISE_TYPES = NEEDS_ENTERPRISE + ('cancellation',)     # 增项 and 信息修改 never reach it (FAQ 13)


def enterprise_inbox(enterprise):
    return (Application.select().where((Application.enterprise == enterprise) & (Application.state == 'submitted')
                                       & Application.business_type.in_(ENTERPRISE_TYPES))
            .order_by(Application.submitted_at))


def enterprise_history(enterprise, limit=200):
    return (Application.select().where((Application.enterprise == enterprise)
                                       & Application.business_type.in_(ENTERPRISE_TYPES)
                                       & (Application.state != 'draft'))
            .order_by(Application.id.desc()).limit(limit))


def enterprise_staff(enterprise):
    """[(registration, [(specialty, valid_until, days left)])] of the enterprise's registered constructors."""
    today = datetime.date.today()
    out = []
    regs = (Registration.select(Registration, Person).join(Person)
            .where((Registration.enterprise == enterprise) & (Registration.state == 'active'))
            .order_by(Person.name))
    for reg in regs:
        specs = [(rs.specialty.name, rs.valid_until, (rs.valid_until - today).days) for rs in
                 RegisteredSpecialty.select(RegisteredSpecialty, Specialty).join(Specialty)
                 .where((RegisteredSpecialty.registration == reg) & (RegisteredSpecialty.state == 'active'))
                 .order_by(Specialty.sort)]
        out.append((reg, specs))
    return out


def qualifications_of(person):
    return list(Qualification.select().where(
        (Qualification.person == person) | (Qualification.holder_id_number == person.id_number)))


def materials_of(app):
    return list(Material.select().where(Material.application == app).order_by(Material.kind, Material.id))





# --- which business types a person may start --------------------------------

OFFER_ORDER = ('initial', 'addition', 'renewal', 'cancellation', 'reregister', 'info_change')
NEEDS_REGISTRATION = ('addition', 'renewal', 'cancellation')
NEEDS_NO_REGISTRATION = ('initial', 'reregister')


def start_refusal(person, business_type, reg=None):
    """Why this person may not start an application of this type (a Chinese sentence), or None.
    The same answer decides what the portal offers and what start() refuses."""
    if business_type not in states.APPLICANT_TYPES:
        return '业务类型无效'
    reg = active_registration(person) if reg is None else reg
    if business_type in NEEDS_REGISTRATION and not reg:
        return '您目前没有有效的注册，不能办理此项业务'
    if business_type in NEEDS_NO_REGISTRATION and reg:
        return f'您已在“{reg.enterprise.name}”注册，变更单位须先办理注销，再申请重新注册'
    return None


def offered_types(person):
    """[(business type, refusal or None)] in the portal's order; a type with a refusal is not offered."""
    reg = active_registration(person) or False
    return [(t, start_refusal(person, t, reg)) for t in OFFER_ORDER]


# --- the step-by-step form (the manual's 第一步…第七步) ------------------------

STEP_TITLES = {
    'basic': '基本信息', 'enterprise': '聘用企业信息', 'specialties': '选择注册专业', 'reasons': '注销原因',
    'change': '修改信息', 'commitment': '个人承诺', 'materials': '申报材料', 'submit': '短信验证码与提交',
}
UPLOAD_KINDS = {
    'initial': ('photo', 'signature', 'contract', 'continuing_education', 'other'),
    'reregister': ('photo', 'signature', 'contract', 'continuing_education', 'other'),
    'renewal': ('photo', 'signature', 'continuing_education', 'contract', 'other'),
    'addition': ('photo', 'signature', 'other'),
    'info_change': ('photo', 'id_front', 'id_back', 'change_proof'),
    'cancellation': (),
}
# the field each input of the form belongs to → its step
FIELD_STEPS = {
    'ethnicity': 'basic', 'school': 'basic', 'major': 'basic', 'education': 'basic', 'graduation_date': 'basic',
    'enterprise': 'enterprise', 'contract_start': 'enterprise', 'contract_end': 'enterprise',
    'specialties': 'specialties', 'reasons': 'reasons',
    'new_name': 'change', 'new_id_number': 'change', 'change_explanation': 'change',
    'commitment': 'commitment', 'code': 'submit',
}
# the field a failing submission rule is shown at (rules not listed here are conditions of
# eligibility, shown at the top of the form)
RULE_FIELDS = {
    'specialties_chosen': 'specialties', 'qualified_for_specialties': 'specialties',
    'addition_specialties_new': 'specialties', 'enterprise_verified': 'enterprise',
    'same_enterprise_as_registration': 'enterprise', 'contract_dates_valid': 'contract_end',
    'commitment_accepted': 'commitment', 'cancel_reasons_chosen': 'reasons',
    'within_window_or_continuing_education': 'upload_continuing_education',
    'info_change_valid': 'change_explanation',
}


def upload_kinds(app):
    return UPLOAD_KINDS.get(app.business_type, ())


def form_steps(app):
    """[(key, title)] of this application's form; 提交 is always the last step."""
    keys = ['basic']
    if app.business_type in NEEDS_ENTERPRISE:
        keys.append('enterprise')
    if app.business_type in NEEDS_SPECIALTIES:
        keys.append('specialties')
    if app.business_type == 'cancellation':
        keys.append('reasons')
    if app.business_type == 'info_change':
        keys.append('change')
    if app.business_type in NEEDS_COMMITMENT:
        keys.append('commitment')
    if upload_kinds(app):
        keys.append('materials')
    keys.append('submit')
    return [(k, STEP_TITLES[k]) for k in keys]


def step_of(field):
    return 'materials' if field.startswith('upload_') else FIELD_STEPS.get(field)


def _rule_kinds(rule):
    """The material kinds of a rules.required_materials(...) rule, read from its name."""
    rest, kinds = rule.__name__[len('required_materials_'):], []
    names = sorted(uploads.MATERIAL_KINDS, key=len, reverse=True)
    while rest:
        kind = next((k for k in names if rest == k or rest.startswith(k + '_')), None)
        if kind is None:
            break
        kinds.append(kind)
        rest = rest[len(kind) + 1:]
    return kinds


def _submit_rules(app):
    return transitions.SUBMIT_RULES.get(app.business_type, ())


def late_qualifications(app, today=None):
    """Qualifications this applicant may register whose certificate is older than the 3-year window:
    choosing them needs a continuing-education proof (known before any specialty is chosen)."""
    from backoffice.workflow.calendar import add_years
    limit = add_years(today or datetime.date.today(), -rules.QUALIFICATION_WINDOW_YEARS)
    allowed = {s.id for s in allowed_specialties(app)}
    return [q for q in person_qualifications(app.person) if q.specialty_id in allowed and q.issue_date < limit]


def requirements(app, today=None):
    """Every condition of submission for this business type, checked now, for the applicant to see
    up front: [dict(label, detail, problem, field, step)]; problem is None when the condition holds.
    The list is the workflow's own submission rules (transitions.SUBMIT_RULES)."""
    today = today or datetime.date.today()
    ctx = transitions.TransitionContext(app, None, transitions.get_transition('submit', app.business_type),
                                        '', {}, today)
    out = []
    for rule in _submit_rules(app):
        name = rule.__name__
        problem = rule(ctx)
        item = dict(label=rules.label(rule), detail='', problem=problem, field=RULE_FIELDS.get(name), step=None)
        if name.startswith('required_materials_'):
            kinds = _rule_kinds(rule)
            item['field'] = 'upload_' + kinds[0] if kinds else None
            item['kinds'] = kinds
        elif name == 'within_window_or_continuing_education':
            late = late_qualifications(app, today)
            if late:
                item['detail'] = ('您的以下专业资格证书签发已超过3年，申请这些专业须上传继续教育证明：'
                                  + '、'.join(f'{q.specialty.name}（{q.issue_date}签发）' for q in late))
        elif name == 'info_change_valid':
            item['detail'] = '修改姓名或身份证号的，须填写情况说明并上传身份证人像面、国徽面及证明材料'
        item['step'] = step_of(item['field']) if item['field'] else None
        out.append(item)
    return out


def field_problems(app, today=None):
    """Why this application cannot be submitted now: ({field: message}, [messages with no field]).
    Every rule is run; nothing stops at the first failure."""
    fields, general = {}, []
    for item in requirements(app, today):
        problem = item['problem']
        if not problem:
            continue
        name = item['field']
        if item.get('kinds'):
            have = rules.material_kinds(app)
            for kind in item['kinds']:
                if kind not in have:
                    fields.setdefault('upload_' + kind, f'请上传{MATERIAL_KINDS_LABELS[kind]}')
        elif name == 'change_explanation':          # one rule, several fields
            for part in problem.split('；'):
                target = 'change_explanation'
                if part.startswith('新身份证号码'):
                    target = 'new_id_number'
                for kind, text in MATERIAL_KINDS_LABELS.items():
                    if part == f'请上传{text}':
                        target = 'upload_' + kind
                fields[target] = (fields[target] + '；' + part) if target in fields else part
        elif name == 'contract_end' and app.contract_start is None:
            fields['contract_start'] = problem
        elif name:
            fields[name] = (fields[name] + '；' + problem) if name in fields else problem
        else:
            general.append(problem)
    return fields, general


def required_fields(app, today=None):
    """The inputs this business type always needs (marked as required on the form)."""
    out = {'code'}
    for rule in _submit_rules(app):
        name = rule.__name__
        if name.startswith('required_materials_'):
            out.update('upload_' + k for k in _rule_kinds(rule))
        elif name == 'contract_dates_valid':
            out.update(('contract_start', 'contract_end'))
        elif name == 'within_window_or_continuing_education':
            if late_qualifications(app, today):
                out.add('upload_continuing_education')
        elif name in RULE_FIELDS and name != 'info_change_valid':
            out.add(RULE_FIELDS[name])
    return out


# --- the progress step bar (like 国家政务服务平台) ------------------------------

PROGRESS_STEPS = ('申请', '企业上报', '受理', '审查', '公告', '发证')
_CURRENT = {'draft': 0, 'returned': 0, 'submitted': 1, 'reported': 2, 'correction': 2, 'accepted': 3,
            'approved': 4, 'announced': 5, 'completed': 5}


def progress_steps(app):
    """The step bar of one application: [dict(label, status, note)], status one of 'done', 'current',
    'todo', 'skipped' (the business type has no such step) or 'stopped' (ended there)."""
    skipped = set()
    if app.business_type not in states.WITH_ENTERPRISE + ('cancellation',):
        skipped.add(1)                                       # 增项, 信息修改: no enterprise (FAQ 13)
    if app.business_type == 'info_change':
        skipped.update((4, 5))                               # decided and done, no announcement
    if app.business_type == 'cancellation':
        skipped.add(5)                                       # nothing is issued
        if app.accepted_at is None and app.state in ('approved', 'announced', 'completed'):
            skipped.update((2, 3))                           # the enterprise's confirmation decides it
    notes = {i: '无需此环节' for i in skipped}
    if app.business_type == 'cancellation':
        notes.setdefault(1, '企业确认')
    state = app.state
    if state in ('refused', 'withdrawn'):
        if state == 'refused':
            at = 3
        elif app.accepted_at:
            at = 3
        elif app.reported_at:
            at = 2
        elif app.submitted_at:
            at = 1
        else:
            at = 0
        current, stopped = at, at
        notes[at] = '不予注册' if state == 'refused' else '已撤回'
    else:
        current, stopped = _CURRENT.get(state, 0), None
        if state == 'returned':
            notes[0] = '企业退回，待修改'
        elif state == 'correction':
            notes[2] = '待补正'
    finished = state in ('announced', 'completed')
    out = []
    for i, label in enumerate(PROGRESS_STEPS):
        if i in skipped:
            status = 'skipped'
        elif stopped is not None and i == stopped:
            status = 'stopped'
        elif i < current or (finished and i <= current):
            status = 'done'
        elif i == current and stopped is None:
            status = 'current'
        else:
            status = 'todo'
        out.append(dict(label=label, status=status, note=notes.get(i, '')))
    if finished:                                             # the last step reached is the current one
        last = max(i for i, s in enumerate(out) if s['status'] == 'done')
        out[last]['current'] = True
    for s in out:
        s.setdefault('current', s['status'] == 'current')
    return out

"""The applicant's and the enterprise's side of an application: drafts, choices, submission,
progress. Every state change still goes through transitions.perform()."""
import datetime
import io



from models import (Application, ApplicationCancelReason, ApplicationSpecialty, AuditEvent, CancellationReason,
                    Enterprise, Material, Person, Qualification, RegisteredSpecialty, Registration, Specialty,
                    database)

from backoffice.workflow import numbering, rules, transitions, states
from backoffice.intake import sms, uploads
from backoffice.roles import APPLICANT, ENTERPRISE
from backoffice.workflow.rules import active_registration, person_qualifications
from backoffice.validators import ValidationError, form_date, validate_uscc

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
    if business_type in ('addition', 'renewal', 'cancellation') and reg is None:
        raise FormErrors({'business_type': '您目前没有有效的注册，不能办理此项业务'})
    if business_type in ('initial', 'reregister') and reg is not None:
        raise FormErrors({'business_type': f'您已在“{reg.enterprise.name}”注册，变更单位须先办理注销，再申请重新注册'})
    with database.atomic():
        return Application.create(
            number=numbering.application_number(), business_type=business_type, person=person,
            enterprise=reg.enterprise if reg is not None and business_type != 'info_change' else None,
            registration=reg if business_type in ('addition', 'renewal', 'cancellation') else None)


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
        app.save()
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
    rows = [(app.created_at, '本人', '创建申请', '')]
    for e in AuditEvent.select().where(AuditEvent.application == app).order_by(AuditEvent.id):
        rows.append((e.created_at, WHO.get(e.actor_role, '注册机构'), transitions.ACTION_LABELS.get(e.action, e.action),
                     e.comment))
    return rows


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




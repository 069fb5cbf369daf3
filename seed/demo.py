"""Demo data generator: persons, qualifications, enterprises, registrations, applications in
every state of every business type, and one account per role.

Deterministic: person i always gets the same ID number, so running it again (or with a
larger size) inserts only what is missing. Bulk inserts in chunks inside transactions.
"""
import collections
import datetime
import random

from stdnum.cn import ric, uscc

from backoffice.workflow import transitions, states
from backoffice.auth import hash_password
from backoffice.config import Config
from backoffice.workflow.calendar import add_working_days, add_years
from models import (Application, Certificate, ApplicationCancelReason, ApplicationSpecialty,
                    CancellationReason, Enterprise, ExternalRegistration, Person, Province, Qualification,
                    RefusalGround, ApplicationRefusalGround, RegisteredSpecialty, Registration, Sequence,
                    Specialty, User, database)

from .reference import load_reference

SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈'
GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰文斌鹏飞宇浩然晨阳思远嘉欣子涵博文'
ETHNICITIES = ['汉族'] * 18 + ['回族', '满族', '壮族', '蒙古族']
SCHOOLS = ['清华大学', '同济大学', '东南大学', '天津大学', '重庆大学', '哈尔滨工业大学', '长安大学', '河海大学',
           '西南交通大学', '华中科技大学', '中南大学', '武汉理工大学', '山东建筑大学', '沈阳建筑大学']
MAJORS = ['土木工程', '工程管理', '建筑学', '道路桥梁与渡河工程', '给排水科学与工程', '机械工程', '电气工程及其自动化',
          '水利水电工程', '交通工程', '通信工程']
EDUCATION = ['大专', '本科', '本科', '本科', '硕士研究生']
COMPANY_WORDS = ['建工', '建设', '路桥', '市政', '水电', '城建', '安装', '交通', '港航', '机电']
CITIES = {'北京': '北京市', '上海': '上海市', '天津': '天津市', '重庆': '重庆市'}

# Demo accounts: (username, password, role, display name, province code)
DEMO_ACCOUNTS = [
    ('admin', 'Admin@2026', 'admin', '系统管理员', None),
    ('shouli', 'Shouli@2026', 'acceptor', '受理员张敏', None),
    ('shouli2', 'Shouli@2026', 'acceptor', '受理员李强', None),
    ('shencha', 'Shencha@2026', 'reviewer', '审查员王芳', None),
    ('shencha2', 'Shencha@2026', 'reviewer', '审查员赵磊', None),
    ('beijing', 'Sheng@2026', 'provincial', '北京市住建委', '11'),
    ('jiandu', 'Jiandu@2026', 'supervisor', '监督员刘洋', None),
    ('kefu', 'Kefuyuan@2026', 'helpdesk', '客服陈静', None),
    ('huishen', 'Huishen@2026', 'joint_reviewer', '会审员孙涛', None),     # every joint-review specialty
    ('qiye', 'Qiyejingban@2026', 'enterprise', '企业经办人', None),
    ('shenqing', 'Shenqing@2026', 'applicant', None, None),
]

BIRTH_BASE = datetime.date(1964, 1, 1)
REG_SPAN_DAYS = 1090            # active registrations were made within the last 3 years (3-year validity)
# The demo queues look like a registry at work: an application waits in a queue for a few days and
# most are inside their deadline; one in OVERDUE_EVERY is past it.
OPEN_STATES = ('draft', 'submitted', 'returned', 'reported', 'correction', 'accepted', 'approved')
QUEUE_STATES = ('submitted', 'reported', 'accepted')   # enterprise inbox, 受理 and 审查 queues
QUEUE_SIZE = 3                  # items per business type in each queue state, per 2,000 persons
CLOCK_WORKING_DAYS = {'reported': Config.ACCEPTANCE_WORKING_DAYS, 'accepted': Config.DECISION_WORKING_DAYS}
OVERDUE_EVERY = 8
BIRTH_SPAN_DAYS = 10000
CHUNK = 1000


def _region_codes():
    """One GB/T 2260 county code per province that python-stdnum accepts for every demo birth year."""
    years = range(BIRTH_BASE.year, (BIRTH_BASE + datetime.timedelta(days=BIRTH_SPAN_DAYS)).year + 1)
    codes = {}
    for p in Province.select().order_by(Province.code):
        for suffix in ('0102', '0101', '0103', '0104', '0105', '0106', '0111', '0112', '0121', '0221', '2101'):
            try:
                for year in years:
                    n = f'{p.code}{suffix}{year}0101123'
                    ric.validate(n + ric.calc_check_digit(n + '0'))
            except Exception:
                continue
            codes[p.code] = p.code + suffix
            break
    return codes


def id_number_for(i, regions):
    """The i-th demo ID number: unique for i < len(regions) * 10000 * 1000."""
    r = len(regions)
    region = regions[i % r]
    birth = BIRTH_BASE + datetime.timedelta(days=(i // r) % BIRTH_SPAN_DAYS)
    seq = (i // (r * BIRTH_SPAN_DAYS)) % 1000
    body = f'{region}{birth:%Y%m%d}{seq:03d}'
    return body + ric.calc_check_digit(body + '0'), birth, ('男' if seq % 2 else '女')


def uscc_for(j, region):
    body = f'91{region}' + f'{j:08d}'[-8:] + 'X'
    body = body[:17]
    return body + uscc.calc_check_digit(body)


def _chunks(rows, size=CHUNK):
    for k in range(0, len(rows), size):
        yield rows[k:k + size]


def ensure_accounts(enterprise=None, person=None):
    """Create the demo accounts that do not exist yet. Returns {username: User}."""
    provinces = {p.code: p for p in Province.select()}
    users = {}
    for username, password, role, name, pcode in DEMO_ACCOUNTS:
        user = User.get_or_none(User.username == username)
        if user is None:
            if role == 'enterprise' and enterprise is None:
                continue
            if role == 'applicant' and person is None:
                continue
            user = User.create(
                username=username, password_hash=hash_password(password), role=role,
                name=name or (person.name if person else username),
                province=provinces.get(pcode) if pcode else None,
                enterprise=enterprise if role == 'enterprise' else None,
                person=person if role == 'applicant' else None,
                mobile=(person.mobile if person and role == 'applicant' else ''))
        users[username] = user
        if role == 'joint_reviewer':
            from models import JointReviewerSpecialty, Specialty
            JointReviewerSpecialty.insert_many(
                [{'user': user.id, 'specialty': s.id} for s in Specialty.select().where(Specialty.joint_review)]
            ).on_conflict_ignore().execute()
    return users


def generate(persons=2000, seed=20261124, progress=None, today=None):
    """Load reference data and demo data for `persons` persons. Returns a dict of counts."""
    rng = random.Random(seed)
    say = progress or (lambda stage, done, total: None)
    load_reference()
    today = today or datetime.date.today()
    provinces = list(Province.select().order_by(Province.code))
    regions_by_pc = _region_codes()
    regions = [regions_by_pc[p.code] for p in provinces if p.code in regions_by_pc]
    specialties = list(Specialty.select().order_by(Specialty.sort))
    counts = collections.Counter()

    # --- enterprises ------------------------------------------------------
    n_ent = max(30, persons // 40)
    ent_rows = []
    for j in range(n_ent):
        p = provinces[j % len(provinces)]
        er = random.Random(seed * 7 + j)
        city = CITIES.get(p.name, p.name + ('市' if er.random() < 0.5 else '') + '第一市')
        ent_rows.append({
            'uscc': uscc_for(j, regions_by_pc.get(p.code, p.code + '0102')),
            'name': f'{p.name}{er.choice(COMPANY_WORDS)}{er.choice(COMPANY_WORDS)}集团第{j + 1}工程有限公司',
            'legal_rep': er.choice(SURNAMES) + er.choice(GIVEN) + er.choice(GIVEN),
            'province': p.id, 'city': city, 'address': f'{city}建设路{j + 1}号',
            'verified': j % 10 != 9,                     # every tenth has not finished 实名认证
            'verified_at': datetime.datetime(2025, 1, 1) if j % 10 != 9 else None,
            'created_at': datetime.datetime(2025, 1, 1)})
    with database.atomic():
        for chunk in _chunks(ent_rows):
            Enterprise.insert_many(chunk).on_conflict_ignore().execute()
    counts['enterprises'] = n_ent
    ent_by_uscc = {e.uscc: e for e in Enterprise.select(Enterprise.id, Enterprise.uscc, Enterprise.province,
                                                          Enterprise.verified)}
    ents = [ent_by_uscc[r['uscc']] for r in ent_rows]
    verified_ents = [e for e in ents if e.verified]
    prov_by_id = {p.id: p for p in provinces}
    say('企业', n_ent, n_ent)

    # --- persons, qualifications, registrations ---------------------------
    existing = {n for (n,) in Person.select(Person.id_number).tuples().iterator()}
    serials = {s.key: s.value for s in Sequence.select().where(Sequence.key.startswith('reg:'))}
    person_rows, qual_rows, reg_plan, ext_rows = [], [], [], []
    plan = []                                   # (i, id_number, kind) for every demo person
    for i in range(persons):
        number, birth, gender = id_number_for(i, regions)
        # kind: 'registered' 60 %, 'cancelled' 5 %, else 'free'
        bucket = i % 20
        kind = 'registered' if bucket < 12 else ('cancelled' if bucket == 12 else 'free')
        plan.append((i, number, kind))
        if number in existing:
            continue
        pr = random.Random(seed + i)
        name = pr.choice(SURNAMES) + pr.choice(GIVEN) + (pr.choice(GIVEN) if pr.random() < 0.6 else '')
        n_spec = 1 if pr.random() < 0.7 else 2
        chosen = pr.sample(specialties, n_spec)
        qual_year = today.year - pr.randint(0, 8)
        issue = datetime.date(qual_year, pr.randint(1, 12), pr.randint(1, 28))
        if issue > today:
            issue = today - datetime.timedelta(days=30)
        row = {'id_number': number, 'name': name, 'gender': gender, 'birth_date': birth,
               'ethnicity': pr.choice(ETHNICITIES), 'school': pr.choice(SCHOOLS), 'major': pr.choice(MAJORS),
               'education': pr.choice(EDUCATION), 'graduation_date': datetime.date(birth.year + 22, 7, 1),
               'mobile': f'13{pr.randint(0, 9)}{i % 100000000:08d}', 'reg_core': None, 'seal_count': 0,
               'created_at': datetime.datetime(2025, 1, 1), 'updated_at': datetime.datetime(2025, 1, 1)}
        for k, s in enumerate(chosen):
            qual_rows.append({'cert_number': f'ZG{qual_year}{i:09d}{k}', 'holder_name': name,
                              'holder_id_number': number, 'specialty': s.id, 'issue_date': issue,
                              'created_at': datetime.datetime(2025, 1, 1)})
        if kind != 'free':
            ent = verified_ents[i % len(verified_ents)]
            prov = prov_by_id[ent.province_id]
            # registered on any day of the last three years (after the qualification): the 3-year
            # validity then ends on any day of the next three years, never all in the same month
            reg_day = max(today - datetime.timedelta(days=pr.randint(20, REG_SPAN_DAYS)),
                          issue + datetime.timedelta(days=30))
            key = f'reg:{prov.code}:{reg_day.year % 100:02d}'
            serials[key] = serials.get(key, 0) + 1
            core = f'1{prov.code}{issue.year % 100:02d}{reg_day.year % 100:02d}{serials[key]:05d}'
            row['reg_core'], row['seal_count'] = core, 1
            reg_plan.append((number, ent.id, prov, core, reg_day, kind, [s.id for s in chosen]))
        elif i % 97 == 5:
            # a few free persons hold a registration elsewhere (conflict, FAQ 9)
            ext_rows.append({'id_number': number, 'name': name, 'category': '二级建造师',
                             'reg_number': f'{prov_by_id[provinces[i % len(provinces)].id].abbr}2{i:011d}'[:14],
                             'enterprise_name': '外省某建筑公司', 'active': True, 'source': '演示数据'})
        person_rows.append(row)

    total = len(person_rows)
    with database.atomic():
        for k, chunk in enumerate(_chunks(person_rows)):
            Person.insert_many(chunk).on_conflict_ignore().execute()
            say('人员', min((k + 1) * CHUNK, total), total)
        for chunk in _chunks(qual_rows):
            Qualification.insert_many(chunk).on_conflict_ignore().execute()
        for key, value in serials.items():
            Sequence.insert(key=key, value=value).on_conflict(
                conflict_target=[Sequence.key], update={Sequence.value: value}).execute()
        if ext_rows:
            ExternalRegistration.insert_many(ext_rows).on_conflict_ignore().execute()
    counts['persons'] = total
    counts['qualifications'] = len(qual_rows)

    person_ids = dict(Person.select(Person.id_number, Person.id).tuples().iterator())
    # link qualifications to their persons
    with database.atomic():
        Qualification.update(person=Person.select(Person.id).where(
            Person.id_number == Qualification.holder_id_number)).where(Qualification.person.is_null()).execute()

    reg_rows = []
    for number, ent_id, prov, core, reg_day, kind, spec_ids in reg_plan:
        reg_rows.append({'person': person_ids[number], 'enterprise': ent_id, 'province': prov.id,
                         'number': prov.abbr + core, 'seal_check': 0,
                         'state': 'active' if kind == 'registered' else 'cancelled',
                         'registered_on': reg_day,
                         'cancelled_on': (min(reg_day + datetime.timedelta(days=400), today - datetime.timedelta(days=1))
                                          if kind == 'cancelled' else None),
                         'created_at': datetime.datetime.combine(reg_day, datetime.time(9))})
    with database.atomic():
        for k, chunk in enumerate(_chunks(reg_rows)):
            Registration.insert_many(chunk).execute()
            say('注册记录', min((k + 1) * CHUNK, len(reg_rows)), len(reg_rows))
    if reg_rows:
        new_person_ids = {r['person'] for r in reg_rows}
        reg_ids = {}
        for pid_chunk in _chunks(sorted(new_person_ids), 5000):
            reg_ids.update(dict(Registration.select(Registration.person, Registration.id)
                                .where(Registration.person.in_(pid_chunk)).tuples()))
        rs_rows = []
        for number, ent_id, prov, core, reg_day, kind, spec_ids in reg_plan:
            until = add_years(reg_day, 3)
            for sid in spec_ids:
                rs_rows.append({'registration': reg_ids[person_ids[number]], 'specialty': sid,
                                'valid_from': reg_day, 'valid_until': until,
                                'state': 'active' if kind == 'registered' else 'cancelled'})
        cert_rows = []
        for number, ent_id, prov, core, reg_day, kind, spec_ids in reg_plan:
            if kind != 'registered':
                continue
            issued = max(reg_day, today - datetime.timedelta(days=150))
            cert_rows.append({'serial': f'ZSD{core}', 'registration': reg_ids[person_ids[number]],
                              'person': person_ids[number], 'issued_on': issued,
                              'use_until': min(issued + datetime.timedelta(days=180), add_years(reg_day, 3)),
                              'state': 'valid', 'printed': len(cert_rows) % 3 == 0,
                              'created_at': datetime.datetime.combine(issued, datetime.time(10))})
        with database.atomic():
            for chunk in _chunks(rs_rows):
                RegisteredSpecialty.insert_many(chunk).on_conflict_ignore().execute()
            for chunk in _chunks(cert_rows):
                Certificate.insert_many(chunk).on_conflict_ignore().execute()
    counts['registrations'] = len(reg_rows)

    # --- demo accounts -----------------------------------------------------
    demo_ent = Enterprise.get(Enterprise.uscc == ent_rows[0]['uscc'])
    free = [number for _, number, kind in plan if kind == 'free']
    demo_person = Person.get(Person.id_number == free[0]) if free else None
    users = ensure_accounts(demo_ent, demo_person)

    # --- applications in every state of every business type ----------------
    counts['applications'] = _generate_applications(plan, person_ids, ents, users, today, rng,
                                                    max(1, persons // 2000), skip={free[0]} if free else set())
    say('申请', counts['applications'], counts['applications'])
    # the rows above are inserted directly, not through workflow.perform: their decisions' facts
    # (processing days, decided late) are filled here, or the dashboard's 受理至决定用时 stays empty
    fill_decision_facts()
    # registrations loaded in bulk enter the API's change feed as 'registered' (idempotent)
    from backoffice.workflow import changes
    counts['feed'] = changes.backfill()
    # rows loaded in bulk bypass the summary counters' choke points: recount them (workflow.summaries)
    from backoffice.workflow import summaries
    summaries.rebuild()
    return dict(counts)


def _paths():
    """For each business type, the shortest transition path from draft to each reachable state."""
    out = {}
    for btype in states.BUSINESS_TYPES:
        paths = {'draft': []}
        queue = collections.deque(['draft'])
        while queue:
            state = queue.popleft()
            for t in transitions.transitions_for(btype):
                if t.name == 'registry_cancel':        # the registry's own 依法注销 is not an applicant's path
                    continue
                if state in t.sources and t.target not in paths:
                    paths[t.target] = paths[state] + [t]
                    queue.append(t.target)
        out[btype] = paths
    return out


def _last_event_day(state, today, ar, overdue=False):
    """The day of an application's last step. A finished one: any day of the last eleven months. One
    still open: a few days ago; in a queue with a clock, inside its deadline, or past it when `overdue`."""
    if state not in OPEN_STATES:
        return today - datetime.timedelta(days=ar.randint(5, 330))
    days = CLOCK_WORKING_DAYS.get(state)
    if days is None:
        return today - datetime.timedelta(days=ar.randint(0, 20))
    age = int(days * 1.4) + ar.randint(3, 15) if overdue else ar.randint(0, int(days * 1.4))
    step = 1 if overdue else -1
    while (add_working_days(today - datetime.timedelta(days=age), days) < today) != overdue:
        age += step
    return today - datetime.timedelta(days=age)


def _generate_applications(plan, person_ids, ents, users, today, rng, per_state, skip):
    demo_numbers = {n for (n,) in Application.select(Application.number)
                    .where(Application.number.startswith('SQDEMO')).tuples()}
    pools = {
        'free': [n for _, n, k in plan if k == 'free' and n not in skip],
        'registered': [n for _, n, k in plan if k == 'registered'],
        'cancelled': [n for _, n, k in plan if k == 'cancelled'],
    }
    cursor = collections.Counter()

    def take(pool):
        items = pools[pool]
        if not items:
            return None
        value = items[cursor[pool] % len(items)]
        cursor[pool] += 1
        return value

    reg_by_person = {pid: (rid, eid) for pid, rid, eid in Registration.select(
        Registration.person, Registration.id, Registration.enterprise).where(
        Registration.state == 'active').tuples().iterator()} if pools['registered'] else {}
    quals = collections.defaultdict(list)
    for hid, sid in Qualification.select(Qualification.holder_id_number, Qualification.specialty).tuples().iterator():
        quals[hid].append(sid)
    reasons = [r.id for r in CancellationReason.select()]
    grounds = [g.id for g in RefusalGround.select()]
    actor_by_role = {'applicant': None, 'enterprise': users.get('qiye'), 'acceptor': users.get('shouli'),
                     'reviewer': users.get('shencha'), 'admin': users.get('admin')}
    verified = [e for e in ents if e.verified]
    ent_province = {e.id: e.province_id for e in ents}
    app_rows, extras = [], []
    open_count = collections.Counter()
    for ti, (btype, paths) in enumerate(_paths().items()):
        for si, (state, path) in enumerate(sorted(paths.items())):
            for k in range(per_state * (QUEUE_SIZE if state in QUEUE_STATES else 1)):
                number = f'SQDEMO{ti}{si:02d}{k:06d}'
                if number in demo_numbers:
                    continue
                if btype == 'initial':
                    pool = 'registered' if state == 'announced' else 'free'
                elif btype == 'reregister':
                    pool = 'registered' if state == 'announced' else 'cancelled'
                elif btype == 'cancellation':       # a confirmed 注销 has ended the registration already
                    pool = 'cancelled' if state in ('announced', 'approved') else 'registered'
                else:
                    pool = 'registered'
                id_number = take(pool)
                if id_number is None:
                    continue
                pid = person_ids[id_number]
                reg_id, reg_ent = reg_by_person.get(pid, (None, None))
                ent = reg_ent if btype in ('addition', 'renewal', 'cancellation') and reg_ent else \
                    (None if btype == 'info_change' else verified[(ti * 31 + si * 7 + k) % len(verified)].id)
                ar = random.Random(number)              # this application's own draws: stable on a re-run
                nth = open_count[state]
                open_count[state] += 1
                last = _last_event_day(state, today, ar, overdue=(nth % OVERDUE_EVERY == OVERDUE_EVERY // 2))
                gaps = [datetime.timedelta(days=ar.randint(1, 6), hours=ar.randint(0, 5)) for _ in path]
                last_at = datetime.datetime.combine(last, datetime.time(9 + ar.randint(0, 3), ar.randint(0, 59)))
                start = last_at - sum(gaps, datetime.timedelta())
                row = {'number': number, 'business_type': btype, 'person': pid, 'enterprise': ent,
                       'province': ent_province.get(ent),
                       'registration': reg_id if btype in ('addition', 'renewal', 'cancellation') else None,
                       'state': state, 'version': len(path), 'contract_start': start.date() - datetime.timedelta(days=30),
                       'contract_end': add_years(start.date(), 3), 'commitment_accepted': state != 'draft',
                       'created_at': start}
                events, when = [], start
                for t, gap in zip(path, gaps):
                    when = when + gap
                    for column in t.stamps:
                        row[column] = when
                    role = t.roles[0]
                    actor = actor_by_role.get(role)
                    if t.name == 'approve' or t.name == 'refuse':
                        actor = users.get('shencha')
                    events.append((t, when, actor))
                if state == 'reported':                 # 受理 or 补正 due after 上报
                    row['deadline'] = add_working_days(when.date(), CLOCK_WORKING_DAYS['reported'])
                if 'accepted_at' in row:
                    row['deadline'] = add_working_days(row['accepted_at'].date(), CLOCK_WORKING_DAYS['accepted'])
                    row['accepted_by'] = users['shouli'].id if users.get('shouli') else None
                if state == 'correction':
                    row['correction_note'] = '1. 劳动合同扫描件不清晰，请重新上传；2. 个人签名不符合要求。'
                if state == 'returned':
                    row['return_reason'] = '劳动合同日期填写有误'
                if state in ('approved', 'refused', 'announced', 'completed') and btype != 'cancellation':
                    row['decided_by'] = users['shencha'].id if users.get('shencha') else None
                if state == 'refused':
                    row['refusal_text'] = '经核查不符合注册条件'
                app_rows.append(row)
                spec = quals.get(id_number, [])[:1]
                extras.append((number, btype, state, spec, events))
    if not app_rows:
        return 0
    with database.atomic():
        for chunk in _chunks(app_rows, 500):
            # rows differ in keys (stamps); insert one shape at a time
            by_shape = collections.defaultdict(list)
            for r in chunk:
                by_shape[tuple(sorted(r))].append(r)
            for rows in by_shape.values():
                Application.insert_many(rows).execute()
        ids = dict(Application.select(Application.number, Application.id).where(
            Application.number.in_([r['number'] for r in app_rows])).tuples())
        spec_rows, reason_rows, ground_rows, event_rows = [], [], [], []
        for number, btype, state, spec, events in extras:
            aid = ids[number]
            if btype in ('initial', 'addition', 'renewal', 'reregister'):
                spec_rows += [{'application': aid, 'specialty': s} for s in spec]
            if btype == 'cancellation':
                reason_rows.append({'application': aid, 'reason': reasons[3]})
            if state == 'refused':
                ground_rows.append({'application': aid, 'ground': grounds[2]})
            for t, when, actor in events:
                event_rows.append({'application': aid, 'object_type': 'application', 'object_id': aid,
                                   'action': t.name, 'actor': actor.id if actor else None,
                                   'actor_role': t.roles[0], 'from_state': '', 'to_state': t.target,
                                   'comment': '演示数据', 'created_at': when})
        # fill from_state along each path
        prev = {}
        for row in event_rows:
            row['from_state'] = prev.get(row['application'], 'draft')
            prev[row['application']] = row['to_state']
        for chunk in _chunks(spec_rows):
            ApplicationSpecialty.insert_many(chunk).on_conflict_ignore().execute()
        for chunk in _chunks(reason_rows):
            ApplicationCancelReason.insert_many(chunk).on_conflict_ignore().execute()
        for chunk in _chunks(ground_rows):
            ApplicationRefusalGround.insert_many(chunk).on_conflict_ignore().execute()
        from backoffice import audit
        audit.record_many(event_rows)          # hash-chained, hashes computed in the same pass
    return len(app_rows)


def fill_decision_facts():
    """Decided applications without their statistics facts (rows loaded in bulk, not decided through
    workflow.perform) get them by workflow.effects.decision_facts. Idempotent. Returns the rows filled."""
    from backoffice.workflow.effects import decision_facts
    rows = (Application.select(Application.id, Application.accepted_at, Application.decided_at, Application.deadline)
            .where(Application.decided_at.is_null(False) & Application.accepted_at.is_null(False)
                   & Application.processing_days.is_null()).tuples())
    groups = collections.defaultdict(list)
    for aid, accepted_at, decided_at, deadline in rows.iterator():
        groups[decision_facts(accepted_at, decided_at.date(), deadline)].append(aid)
    with database.atomic():
        for (days, late), ids in groups.items():
            for chunk in _chunks(ids):
                Application.update(processing_days=days, decided_late=late).where(
                    Application.id.in_(chunk)).execute()
    return sum(len(ids) for ids in groups.values())

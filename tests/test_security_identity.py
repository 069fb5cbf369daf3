"""Issue 9 §1-2: the identity-takeover chain stays closed, link by link.

The chain as it worked: an enterprise search lists a victim's name and a masked ID number whose
hidden part was exactly the birth date → ~1,500 guesses through the unthrottled name + ID search give
the full number → the SMS code for "any mobile" is read off the public outbox page → sign-up with name +
ID + that code → the victim's certificate (full ID number) downloads. Each test below fails when one
link works again.
"""
import datetime
import logging
import re
import statistics
import time

import pytest
from stdnum.cn import ric

from backoffice.intake import identity, sms
from backoffice.validators import mask_id_number
from models import Notice, Person, Qualification, SmsCode, SmsMessage, User

from .conftest import (build_application, csrf_from, login, make_enterprise, make_person, make_user, pdf_text,
                       registered_with_certificate)

ATTACKER_MOBILE = '13766665555'
SECRET_CERT = 'ZG2019338804172'


def _page(r):
    return r.get_data(as_text=True)


def _client(app, addr):
    """A test client whose requests come from `addr` (another machine as far as the limits go)."""
    c = app.test_client()
    c.environ_base['REMOTE_ADDR'] = addr
    return c


def _signup(client, **data):
    token = csrf_from(_page(client.get('/portal/signup')))
    return client.post('/portal/signup', data={**data, 'csrf_token': token})


def _guesses(number, count):
    """Full ID numbers an attacker would try: other birth dates and sequence digits, each consistent
    with what the mask shows (first 4, last 2), the real number excluded."""
    shown = mask_id_number(number)
    birth = ric.get_birth_date(number)
    out = []
    for days in range(1, 4000):
        for sign in (1, -1):
            day = birth + datetime.timedelta(days=sign * days)
            for seq in range(100):
                body = f'{number[:6]}{day:%Y%m%d}{seq:02d}{number[16]}'
                candidate = body + ric.calc_check_digit(body + '0')
                if mask_id_number(candidate) == shown and candidate != number:
                    out.append(candidate)
                    break
            if len(out) == count:
                return out
    return out


@pytest.fixture
def victim(users):
    """A registered constructor with a certificate and no account; her 管理号 is a secret string."""
    cert, row = registered_with_certificate(users, enterprise=make_enterprise(name='华北建工集团有限公司'))
    person = Person.get_by_id(row.person_id)
    quals = list(Qualification.select().where(Qualification.person == person).order_by(Qualification.id))
    Qualification.update(cert_number=SECRET_CERT).where(Qualification.id == quals[0].id).execute()
    return {'person': person, 'cert': cert, 'enterprise': row.enterprise, 'reg': cert.registration}


# --- the whole chain --------------------------------------------------------------

def test_takeover_chain_is_closed_at_every_link(app, client, victim, password_hash, monkeypatch):
    person, ent = victim['person'], victim['enterprise']
    birth_digits = person.id_number[6:14]

    # 1. the enterprise search lists the victim's name and a masked number that hides the birth date
    page = _page(client.get('/search', query_string={'enterprise': ent.name}))
    results = page[page.index('<table'):]
    assert person.name in results and mask_id_number(person.id_number) in results
    shown = re.search(r'<td[^>]*>(\d{4}\*{12}[\dX]{2})</td>', results).group(1)
    assert shown.count('*') == 12 and birth_digits not in results and str(person.birth_date) not in results
    # ... and no public page or PDF carries the birth date, the full number or the 管理号
    notice = Notice.get()
    pages = [results, _page(client.get(f'/announcements/{notice.id}')),
             pdf_text(client.get(f'/announcements/{notice.id}.pdf').data)[0]]
    from backoffice.issuing import certificates
    pages.append(_page(client.get(f'/verify/{certificates.token_for(victim["cert"])}')))
    for text in pages:
        assert person.id_number not in text and birth_digits not in text and SECRET_CERT not in text
        assert str(person.birth_date) not in text and person.birth_date.strftime('%Y年%m月%d日') not in text

    # 2. guessing the hidden digits through the name + ID search: 429 long before the real number
    guesses = _guesses(person.id_number, 30)
    guesses.insert(20, person.id_number)          # the attacker would need ~10^6 tries; give her the 21st
    answers = [client.get('/search', query_string={'name': person.name, 'id_number': g}) for g in guesses]
    codes = [r.status_code for r in answers]
    allowed = codes.index(429)                    # the enterprise search above was one of her 10 a minute
    assert allowed == 9 and set(codes[:allowed]) == {200} and set(codes[allowed:]) == {429}
    assert all(victim['reg'].number not in _page(r) for r in answers)
    assert int(answers[-1].headers['Retry-After']) > 0 and '请求过于频繁' in _page(answers[-1])

    # 3. the SMS outbox: no such page in an app started without the demo setting (production, see
    # test_outbox_route_exists_only_with_the_demo_setting); in the demo only for administrators
    assert app.config['SMS_DEMO_OUTBOX'] is True
    r = client.get(f'/portal/sms-outbox?mobile={ATTACKER_MOBILE}')
    assert r.status_code == 302 and '/login' in r.headers['Location']
    monkeypatch.setitem(app.config, 'SMS_DEMO_OUTBOX', False)            # switched off while running
    assert client.get(f'/portal/sms-outbox?mobile={ATTACKER_MOBILE}').status_code in (302, 404)
    monkeypatch.setitem(app.config, 'SMS_DEMO_OUTBOX', True)
    attacker = make_person(name='黑客')                 # she is in the 资格库 herself and has an account
    make_user('attacker', password_hash, role='applicant', person=attacker, mobile=ATTACKER_MOBILE)
    mallory = _client(app, '10.9.9.9')
    login(mallory, 'attacker')
    assert mallory.get('/portal/sms-outbox').status_code == 403

    # 4. sign-up as the victim with her name and (even) her full ID and a code on the attacker's phone
    base = {'name': person.name, 'id_number': person.id_number, 'mobile': ATTACKER_MOBILE}
    r = _signup(client, step='code', **base)
    assert '请填写资格证书管理号' in _page(r)
    for guess in ('ZG2019338804171', quals_of(attacker)[0], person.id_number):
        r = _signup(client, step='code', cert_number=guess, **base)
        assert identity.NO_MATCH in _page(r), guess
    assert SmsMessage.select().where(SmsMessage.mobile == ATTACKER_MOBILE).count() == 0
    # a real signup code on her phone (her own identity) does not open the victim's identity
    own = {'name': attacker.name, 'id_number': attacker.id_number, 'mobile': ATTACKER_MOBILE,
           'cert_number': quals_of(attacker)[0]}
    assert '验证码已发送到您的手机' in _page(_signup(_client(app, '10.7.7.7'), step='code', **own))
    code = re.search(r'验证码为(\d{6})', SmsMessage.get(SmsMessage.mobile == ATTACKER_MOBILE).text).group(1)
    r = _signup(_client(app, '10.7.7.8'), step='confirm', cert_number=quals_of(attacker)[0], code=code,
                password='Takeover2026x', password2='Takeover2026x', **base)
    assert identity.NO_MATCH in _page(r)
    assert User.get_or_none(User.person == person) is None and User.get_or_none(User.username == person.id_number) is None

    # 5. the victim's certificate does not download: not anonymously, not with the attacker's account
    url = f'/files/certificate/{victim["cert"].serial}.pdf'
    r = _client(app, '10.8.8.8').get(url)
    assert r.status_code == 302 and '/login' in r.headers['Location']
    assert mallory.get(url).status_code == 403


def quals_of(person):
    return [q.cert_number for q in Qualification.select().where(Qualification.holder_id_number == person.id_number)]


# --- masking ----------------------------------------------------------------------

def test_the_mask_leaves_more_hidden_than_the_limits_let_anyone_try(app):
    number = make_person().id_number
    masked = mask_id_number(number)
    assert masked[:4] == number[:4] and masked[-2:] == number[-2:] and set(masked[4:16]) == {'*'}
    # the hidden 12 characters: county x birth date x sequence, of which a day's worth of the per-target
    # limit (50 a day) would try a vanishing share
    from limits import parse_many
    per_day = min(i.amount * 86400 // i.get_expiry() for i in parse_many(app.config['RATELIMIT_PUBLIC_SEARCH_TARGET']))
    assert per_day * 365 < 10 ** 5 < 10 ** 6        # a year of guessing covers under 1 % of 10^7 candidates


def test_staff_pages_mask_with_the_one_rule(client, users, password_hash):
    app_row = build_application('initial', 'submitted')
    person = app_row.person
    ent_user = make_user('ent1', password_hash, role='enterprise', enterprise=app_row.enterprise)
    login(client, ent_user.username)
    page = _page(client.get(f'/enterprise/application/{app_row.id}'))
    assert mask_id_number(person.id_number) in page and person.id_number not in page
    assert str(person.birth_date) not in page
    assert str(person) == f'{person.name}（{mask_id_number(person.id_number)}）'


# --- limits -----------------------------------------------------------------------

def test_public_search_counts_every_attempt_per_client(app, client):
    person = make_person()
    assert client.get('/search').status_code == 200                   # the bare form is not an attempt
    attempts = ['name=张三&id_number=123', f'name={person.name}&id_number={person.id_number}', 'reg_number=ABC',
                'enterprise=不存在的公司', 'id_number=110105198506150031']
    for i in range(10):
        assert client.get('/search?' + attempts[i % len(attempts)]).status_code == 200
    r = client.get('/search?enterprise=任何公司')
    assert r.status_code == 429 and 'Retry-After' in r.headers and '操作过于频繁' in _page(r)
    assert client.get('/search').status_code == 200
    assert _client(app, '10.1.1.1').get('/search?enterprise=任何公司').status_code == 200   # another client


def test_guesses_at_one_person_are_counted_across_clients(app, victim):
    person = victim['person']
    guesses = _guesses(person.id_number, 21)
    for i, guess in enumerate(guesses[:20]):                          # 20 clients, each far below its own limit
        r = _client(app, f'10.2.0.{i}').get('/search', query_string={'name': person.name, 'id_number': guess})
        assert r.status_code == 200
    r = _client(app, '10.2.1.1').get('/search', query_string={'name': person.name, 'id_number': person.id_number})
    assert r.status_code == 429 and victim['reg'].number not in _page(r)
    # another person's searches are not affected
    other = _client(app, '10.2.1.2').get('/search', query_string={'name': '王五', 'id_number': guesses[0]})
    assert other.status_code == 200


def test_signup_is_limited_per_client_and_per_id_number(app, client):
    person = make_person(name='赵六')
    data = {'step': 'code', 'name': '赵六', 'id_number': person.id_number, 'cert_number': 'WRONG', 'mobile': '13900001111'}
    assert client.get('/portal/signup').status_code == 200
    codes = [_signup(client, **dict(data, id_number=make_person().id_number)).status_code for _ in range(6)]
    assert codes == [400] * 5 + [429]
    assert client.get('/portal/signup').status_code == 200            # reading the form is not an attempt
    # per ID number: five attempts from five clients, the sixth from a sixth client is refused
    for i in range(5):
        assert identity.NO_MATCH in _page(_signup(_client(app, f'10.3.0.{i}'), **data))
    r = _signup(_client(app, '10.3.0.9'), **data)
    assert r.status_code == 429 and int(r.headers['Retry-After']) > 0 and '操作过于频繁' in _page(r)


def test_sms_limits_answer_next_to_the_field(app, client, password_hash):
    person = make_person(name='钱七')
    cert = quals_of(person)[0]
    mobile = '13900002222'
    # five messages to this number in the last hour, sent by other workers: the database counts them all
    for k in range(5):
        SmsMessage.create(mobile=mobile, text='x', client=f'10.4.0.{k}', purpose='submit',
                          created_at=datetime.datetime.now() - datetime.timedelta(minutes=50 - k))
    data = {'step': 'code', 'name': '钱七', 'id_number': person.id_number, 'cert_number': cert, 'mobile': mobile}
    page = _page(_signup(client, **data))
    feedback = re.search(r'id="mobile"[^>]*>\s*<div class="invalid-feedback">([^<]+)</div>', page)
    assert feedback and feedback.group(1).startswith('该手机号码获取验证码次数过多，请') and '分钟后再试' in feedback.group(1)
    assert SmsMessage.select().where(SmsMessage.mobile == mobile).count() == 5
    # per client: 20 messages from this address to other numbers → the JSON endpoint answers 429
    for k in range(20):
        SmsMessage.create(mobile=f'1390000{k:04d}', text='x', client='127.0.0.1', purpose='submit')
    app_row = build_application('initial', person=person)
    user = make_user('qian', password_hash, role='applicant', person=person, mobile='13900003333')
    login(client, user.username)
    token = csrf_from(_page(client.get(f'/portal/application/{app_row.id}')))
    r = client.post(f'/portal/application/{app_row.id}/sms', headers={'X-CSRFToken': token})
    assert r.status_code == 429 and int(r.headers['Retry-After']) > 0
    assert r.get_json()['message'].startswith('获取验证码过于频繁，请')
    assert SmsMessage.select().where(SmsMessage.mobile == '13900003333').count() == 0


# --- sign-up is not an oracle -------------------------------------------------------

def _three_wrong_cases():
    """ID not in the 资格库, name that does not match, wrong 管理号 (each otherwise right)."""
    person = make_person(name='孙八', qualifications=('建筑工程',))
    cert = quals_of(person)[0]
    unknown = make_person().id_number
    Qualification.delete().where(Qualification.holder_id_number == unknown).execute()
    Person.delete().where(Person.id_number == unknown).execute()
    return {
        'unknown_id': {'name': '孙八', 'id_number': unknown, 'cert_number': cert},
        'wrong_name': {'name': '孙九', 'id_number': person.id_number, 'cert_number': cert},
        'wrong_cert': {'name': '孙八', 'id_number': person.id_number, 'cert_number': cert + '1'},
    }


class _Sql(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements = []

    def emit(self, record):
        if isinstance(record.msg, tuple):
            self.statements.append(record.msg[0])


def _normalised(page):
    page = re.sub(r'(value|nonce|content)="[^"]*"', r'\1=""', page)
    return re.sub(r'<input[^>]*name="csrf_token"[^>]*>', '', page)


@pytest.mark.parametrize('step', ['code', 'confirm'])
def test_signup_gives_one_answer_for_every_mismatch(app, monkeypatch, step):
    monkeypatch.setitem(app.config, 'RATELIMIT_SIGNUP', '1000 per minute')
    monkeypatch.setitem(app.config, 'RATELIMIT_SIGNUP_ID', '1000 per minute')
    cases = _three_wrong_cases()
    peewee_log = logging.getLogger('peewee')
    answers = {}
    for case, fields in cases.items():
        c = _client(app, '10.5.5.5')
        token = csrf_from(_page(c.get('/portal/signup')))
        sql = _Sql()
        peewee_log.addHandler(sql)
        old_level = peewee_log.level
        peewee_log.setLevel(logging.DEBUG)
        try:
            r = c.post('/portal/signup', data={**fields, 'step': step, 'mobile': '13900004444', 'code': '123456',
                                               'password': 'Abcdef2026x', 'password2': 'Abcdef2026x',
                                               'csrf_token': token})
        finally:
            peewee_log.removeHandler(sql)
            peewee_log.setLevel(old_level)
        page = _page(r)
        error = re.search(r'<div class="alert alert-danger" id="signup-error">([^<]*)</div>', page).group(1)
        answers[case] = (r.status_code, error, _normalised(page), [re.sub(r'\s+', ' ', s) for s in sql.statements])
    first = answers['unknown_id']
    assert first[1] == identity.NO_MATCH and first[0] == 400
    for case, answer in answers.items():
        assert answer[0] == first[0], case
        assert answer[1].encode() == first[1].encode(), case              # byte-identical message
        assert answer[2] == first[2], case                               # the whole page, inputs aside
        assert answer[3] == first[3] and first[3], case                  # the same statements: the same work
    assert 'is-invalid' not in first[2]                                  # no field singled out
    assert SmsMessage.select().count() == 0 and SmsCode.select().count() == 0


def test_signup_mismatch_timings_are_alike(app, monkeypatch):
    """The three mismatches take the same path; their times differ by noise, not by a factor."""
    monkeypatch.setitem(app.config, 'RATELIMIT_SIGNUP_ID', '100000 per minute')
    provider = identity.provider()
    cases = _three_wrong_cases()
    times = {case: [] for case in cases}
    with app.test_request_context('/portal/signup', method='POST'):
        for _ in range(25):
            for case, f in cases.items():
                start = time.perf_counter()
                with pytest.raises(identity.IdentityError) as exc:
                    provider.start(f['name'], f['id_number'], f['cert_number'], '13900005555')
                times[case].append(time.perf_counter() - start)
                assert exc.value.message == identity.NO_MATCH
    medians = [statistics.median(t) for t in times.values()]
    assert max(medians) < 3 * min(medians), medians


# --- the outbox page ----------------------------------------------------------------

def test_outbox_page_is_demo_only_and_admin_only(app, client, users, password_hash, monkeypatch):
    sms.send_code('13900006666', 'signup', client='10.6.0.1')
    monkeypatch.setitem(app.config, 'SMS_DEMO_OUTBOX', True)
    r = client.get('/portal/sms-outbox?mobile=13900006666')
    assert r.status_code == 302 and '/login' in r.headers['Location']
    for username in ('helpdesk', 'reviewer'):
        c = app.test_client()
        login(c, username)
        assert c.get('/portal/sms-outbox?mobile=13900006666').status_code == 403, username
    admin = app.test_client()
    login(admin, 'admin')
    r = admin.get('/portal/sms-outbox?mobile=13900006666')
    assert r.status_code == 200 and re.search(r'验证码为\d{6}', _page(r)) and '10.6.0.1' in _page(r)
    monkeypatch.setitem(app.config, 'SMS_DEMO_OUTBOX', False)
    assert admin.get('/portal/sms-outbox?mobile=13900006666').status_code == 404


def test_production_configuration_has_no_demo_outbox(monkeypatch):
    from backoffice.config import ProductionConfig
    assert ProductionConfig.SMS_DEMO_OUTBOX is False


@pytest.mark.parametrize('demo', [False, True])
def test_outbox_route_exists_only_with_the_demo_setting(demo):
    from flask import Flask
    from views import portal
    probe = Flask('probe')
    probe.config.update(SMS_DEMO_OUTBOX=demo)
    probe.register_blueprint(portal.bp)
    rules = {r.rule for r in probe.url_map.iter_rules()}
    assert ('/portal/sms-outbox' in rules) is demo
    assert '/portal/signup' in rules
    if not demo:
        assert probe.test_client().get('/portal/sms-outbox').status_code == 404

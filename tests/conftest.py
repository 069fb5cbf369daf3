"""Test fixtures. TEST_DATABASE picks the backend: 'sqlite' (default) or a postgresql:// URL.

The schema is built once per session through the real migrations; every test starts
from empty tables with the reference data loaded.
"""
import contextlib
import datetime
import os
import re
import tempfile

import pytest
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

# Background jobs run inline in tests (huey immediate mode, in-memory queue).
os.environ['HUEY_IMMEDIATE'] = '1'

from backoffice import create_app
from backoffice import db as dbmod
from backoffice import limits
from backoffice.issuing import signing
from backoffice.config import TestConfig
from models import (ALL_MODELS, Application, ApplicationCancelReason, ApplicationSpecialty,
                    CancellationReason, Enterprise, Material, Person, Province, Qualification,
                    RegisteredSpecialty, Registration, Specialty, User, database)
from backoffice.validators import id_number_facts
from seed.reference import load_reference
from stdnum.cn import ric, uscc

PASSWORD = 'Passw0rd!'
ROLE_USERS = {  # username: (role, province code)
    'admin': ('admin', None), 'acceptor': ('acceptor', None), 'acceptor2': ('acceptor', None),
    'reviewer': ('reviewer', None), 'reviewer2': ('reviewer', None), 'provincial': ('provincial', '11'),
    'provincial_sh': ('provincial', '31'), 'supervisor': ('supervisor', None), 'helpdesk': ('helpdesk', None),
    'joint_reviewer': ('joint_reviewer', None),
    'enterprise': ('enterprise', None), 'applicant': ('applicant', None),
}
TEST_DATABASE = os.environ.get('TEST_DATABASE', 'sqlite')
_TMP = tempfile.mkdtemp(prefix='registry-test-')


def database_url():
    if TEST_DATABASE == 'sqlite':
        return 'sqlite:///' + os.path.join(_TMP, 'test.db')
    return TEST_DATABASE


def _reset_schema():
    db = dbmod.bind(database_url())
    with database.connection_context():
        if dbmod.is_postgres():
            database.execute_sql('DROP SCHEMA public CASCADE')
            database.execute_sql('CREATE SCHEMA public')
        else:
            database.drop_tables(ALL_MODELS)
            database.execute_sql('DROP TABLE IF EXISTS schema_migration')
    dbmod.migrate()
    return db


class FreshClient(FlaskClient):
    """Each request starts with an empty `g`, as in production.

    Tests keep one app context open for direct model access; Flask reuses it for requests,
    so without this, Flask-Login's cached user would leak from one client to another.
    """

    def open(self, *args, **kwargs):
        from flask import g, has_app_context
        if has_app_context():
            for key in list(vars(g)):
                delattr(g, key)
        return super().open(*args, **kwargs)


@pytest.fixture(scope='session')
def app():
    _reset_schema()
    application = create_app(TestConfig, DATABASE_URL=database_url(), AUTO_MIGRATE=False,
                             UPLOAD_DIR=os.path.join(_TMP, 'uploads'), OUTPUT_DIR=os.path.join(_TMP, 'out'),
                             SECRET_KEY='test-secret',
                             PUBLIC_BASE_URL='http://registry.test')
    application.test_client_class = FreshClient
    return application


@pytest.fixture(scope='session')
def password_hash():
    return generate_password_hash(PASSWORD)


@pytest.fixture(autouse=True)
def clean_db(app):
    """Empty every table, then load the reference data."""
    with app.app_context():
        database.connect(reuse_if_open=True)
        # DELETE in reverse dependency order: on tiny tables far quicker than TRUNCATE.
        with database.atomic():
            for model in reversed(ALL_MODELS):
                model.delete().execute()
        load_reference()
        limits.reset()          # every test starts with fresh rate-limit counts
        signing.forget_cached_keys()    # the signing keys live in the emptied database
        yield
        if not database.is_closed():
            database.close()


@pytest.fixture
def client(app):
    return app.test_client()


# --- builders ---------------------------------------------------------------

_counter = {'n': 0}


def _next():
    _counter['n'] += 1
    return _counter['n']


def make_id_number(birth=datetime.date(1985, 6, 15), male=True, region='110105'):
    """A valid 公民身份号码 unique within the test run."""
    n = _next()
    seq = (n * 2 + (1 if male else 0)) % 1000
    birth = birth + datetime.timedelta(days=n // 500)
    body = f'{region}{birth:%Y%m%d}{seq:03d}'
    return body + ric.calc_check_digit(body + '0')


def make_uscc():
    body = f'9111010{_next():010d}'[:17]
    return body + uscc.calc_check_digit(body)


def specialty(name):
    return Specialty.get(Specialty.name == name)


def province(code='11'):
    return Province.get(Province.code == code)


def make_person(name='张伟', birth=datetime.date(1985, 6, 15), qualifications=('建筑工程', '市政公用工程'),
                issued=None, **kw):
    number = make_id_number(birth)
    b, g = id_number_facts(number)
    person = Person.create(id_number=number, name=name, birth_date=b, gender=g, mobile='13800138000', **kw)
    issued = issued or (datetime.date.today() - datetime.timedelta(days=365))
    for k, s in enumerate(qualifications):
        Qualification.create(cert_number=f'Q{number}{k}', holder_name=name, holder_id_number=number,
                             person=person, specialty=specialty(s), issue_date=issued)
    return person


def make_enterprise(verified=True, code='11', name=None):
    n = _next()
    return Enterprise.create(uscc=make_uscc(), name=name or f'测试建工集团第{n}有限公司', legal_rep='王强',
                             province=province(code), city='北京市', address='建设路1号', verified=verified)


def make_registration(person, enterprise, specialties=('建筑工程',), valid_until=None, state='active'):
    today = datetime.date.today()
    core = f'1{enterprise.province.code}2524{_next():05d}'
    person.reg_core, person.seal_count = core, 1
    person.save()
    reg = Registration.create(person=person, enterprise=enterprise, province=enterprise.province,
                              number=enterprise.province.abbr + core, state=state,
                              registered_on=today - datetime.timedelta(days=400))
    for s in specialties:
        RegisteredSpecialty.create(registration=reg, specialty=specialty(s),
                                   valid_from=today - datetime.timedelta(days=400),
                                   valid_until=valid_until or today + datetime.timedelta(days=700),
                                   state='active' if state == 'active' else 'cancelled')
    return reg


def add_material(app_row, kind):
    return Material.create(application=app_row, kind=kind, original_name=f'{kind}.jpg',
                           stored_path=f'test/{kind}.jpg', size=1000, content_type='image/jpeg',
                           sha256='0' * 64)


def make_user(username, password_hash, **kw):
    role, pcode = ROLE_USERS.get(username, (kw.pop('role', 'applicant'), None))
    return User.create(username=username, name=kw.pop('name', username), password_hash=password_hash,
                       role=role, province=province(pcode) if pcode else None, **kw)


@pytest.fixture
def users(password_hash):
    """One account per role (two acceptors, two reviewers, two provincial officers)."""
    out = {}
    for username in ROLE_USERS:
        if username in ('enterprise', 'applicant'):
            continue
        out[username] = make_user(username, password_hash)
    return out


def build_application(business_type, state='draft', person=None, enterprise=None, accepted_by=None,
                      specialties=None):
    """An application that satisfies every rule of its business type, placed in `state`."""
    today = datetime.date.today()
    enterprise = enterprise or make_enterprise()
    if person is None:
        person = make_person()
        if business_type in ('addition', 'renewal', 'cancellation', 'info_change', 'change'):
            # a renewal falls due: 60 days left, inside the window (30 to RENEWAL_EARLIEST_DAYS days before expiry)
            make_registration(person, enterprise, ('建筑工程',),
                              valid_until=today + datetime.timedelta(days=60) if business_type == 'renewal' else None)
        if business_type == 'reregister':
            make_registration(person, make_enterprise(), ('建筑工程',), state='cancelled')
    if specialties is None:
        specialties = {'addition': ['市政公用工程'], 'cancellation': [], 'info_change': []}.get(
            business_type, ['建筑工程'])
    app = Application.create(
        number=f'SQT{_next():012d}', business_type=business_type, person=person,
        enterprise=None if business_type == 'info_change' else enterprise, state=state,
        contract_start=today - datetime.timedelta(days=30), contract_end=today + datetime.timedelta(days=1000),
        commitment_accepted=True, accepted_by=accepted_by)
    for s in specialties:
        ApplicationSpecialty.create(application=app, specialty=specialty(s))
    if business_type == 'cancellation':
        ApplicationCancelReason.create(application=app, reason=CancellationReason.get(CancellationReason.code == '4'))
    if business_type == 'info_change':
        app.new_name, app.change_explanation = '张卫', '姓名登记有误，正确的是张卫'
        app.save()
        for kind in ('id_front', 'id_back', 'change_proof'):
            add_material(app, kind)
    else:
        for kind in ('photo', 'signature', 'continuing_education'):
            add_material(app, kind)
    return Application.get_by_id(app.id)


def actor_for(role, app_row, users, password_hash):
    """A user of `role` entitled (by ownership) to act on app_row where ownership matters."""
    if role == 'applicant':
        return User.get_or_none(User.person == app_row.person) or make_user(
            f'p{app_row.person_id}', password_hash, role='applicant', person=app_row.person)
    if role == 'enterprise':
        ent = app_row.enterprise or make_enterprise()
        return User.get_or_none(User.enterprise == ent) or make_user(
            f'e{ent.id}', password_hash, role='enterprise', enterprise=ent)
    return {'admin': users['admin'], 'acceptor': users['acceptor'], 'reviewer': users['reviewer'],
            'provincial': users['provincial'], 'supervisor': users['supervisor'],
            'helpdesk': users['helpdesk'], 'joint_reviewer': users['joint_reviewer']}[role]


# --- HTTP helpers -------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_from(html):
    m = CSRF_RE.search(html)
    assert m, 'no CSRF token on the page'
    return m.group(1) or m.group(2)


def login(client, username, password=PASSWORD):
    token = csrf_from(client.get('/login').get_data(as_text=True))
    return client.post('/login', data={'username': username, 'password': password, 'csrf_token': token})


def post_form(client, url, data, page=None):
    """POST with the CSRF token taken from `page` (default: the same URL)."""
    token = csrf_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={**data, 'csrf_token': token})


def announce(app_row, actor):
    """Publish one approved application through a real announcement; returns the notice."""
    from backoffice.issuing import notices
    notice = notices.create_draft(actor, ids=[app_row.id])
    return notices.publish(notice.id, actor)


def registered_with_certificate(users, enterprise=None, with_images=True, tmp_upload=None):
    """A person registered through the full path (initial → announced), with a certificate."""
    from models import Certificate
    row = build_application('initial', 'approved', enterprise=enterprise)
    if with_images:
        _store_images(row)
    announce(row, users['reviewer'])
    return Certificate.get(Certificate.person == row.person_id), row


def _store_images(app_row):
    """Real JPEG / PNG files for the photo and signature materials."""
    from flask import current_app
    from PIL import Image, ImageDraw
    root = current_app.config['UPLOAD_DIR']
    os.makedirs(os.path.join(root, 'test'), exist_ok=True)
    photo = Image.new('RGB', (295, 413), 'white')
    d = ImageDraw.Draw(photo)
    d.ellipse((90, 80, 205, 230), fill=(224, 182, 150))
    d.rectangle((60, 260, 235, 413), fill=(30, 50, 90))
    photo.save(os.path.join(root, 'test', 'photo.jpg'), quality=90)
    sig = Image.new('RGB', (400, 150), 'white')
    ImageDraw.Draw(sig).line((20, 100, 120, 40, 200, 110, 380, 50), fill='black', width=6)
    sig.save(os.path.join(root, 'test', 'signature.jpg'), quality=90)
    Material.update(stored_path='test/photo.jpg').where(
        (Material.application == app_row) & (Material.kind == 'photo')).execute()
    Material.update(stored_path='test/signature.jpg', content_type='image/jpeg').where(
        (Material.application == app_row) & (Material.kind == 'signature')).execute()


def pdf_text(data):
    import io
    from pypdf import PdfReader
    reader = PdfReader(io.BytesIO(data))
    return '\n'.join(page.extract_text() for page in reader.pages), len(reader.pages)


@contextlib.contextmanager
def counted_queries():
    """Every SQL statement run meanwhile: [sql]."""
    db = database.obj
    seen = []
    original = db.execute_sql

    def execute_sql(sql, params=None, *args, **kwargs):
        seen.append(sql)
        return original(sql, params, *args, **kwargs)

    db.execute_sql = execute_sql
    try:
        yield seen
    finally:
        del db.execute_sql


def decode_qr(image):
    """The text of the QR code on a rendered page (a Pillow image), or ''. OpenCV's ArUco-based
    detector first (steadier on the larger codes that carry the signed payload), then the classic one;
    as a phone's scanner does, again on the page enlarged (OpenCV misses some code versions at about
    3 pixels a module, e.g. a 24 mm card code rendered at 300 dpi)."""
    import cv2
    import numpy as np
    pixels = np.asarray(image)[:, :, ::-1]
    gray = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
    tries = (pixels, lambda: cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC),
             lambda: cv2.threshold(cv2.resize(gray, None, fx=3, fy=3, interpolation=cv2.INTER_LINEAR), 0, 255,
                                   cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1])
    for attempt in tries:
        img = attempt() if callable(attempt) else attempt
        for detector in (cv2.QRCodeDetectorAruco(), cv2.QRCodeDetector()):
            text = detector.detectAndDecode(img)[0]
            if text:
                return text
    return ''


def render_first_page(data, tmp_path, dpi=100):
    """Render page 1 with PDFium (pypdfium2, a pip wheel: no system package); returns a Pillow image."""
    import pypdfium2
    pdf = pypdfium2.PdfDocument(data)
    try:
        return pdf[0].render(scale=dpi / 72).to_pil().convert('RGB')
    finally:
        pdf.close()


@pytest.fixture(scope='session')
def browser_type_launch_args():
    """pytest-playwright's launch: Debian's Chromium, never a downloaded browser (browser test modules
    may declare their own)."""
    return {'executable_path': os.environ.get('CHROMIUM_PATH', '/usr/bin/chromium'), 'headless': True,
            'args': ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
                     '--disable-component-update', '--no-first-run', '--disable-sync']}

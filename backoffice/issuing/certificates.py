"""Electronic certificates: issuing, 使用有效期, signed QR tokens and verification."""
import datetime
import os
from types import SimpleNamespace

from flask import current_app, has_app_context
from itsdangerous import BadSignature, URLSafeSerializer

from peewee import JOIN, fn

from models import (Application, Certificate, DownloadLog, Enterprise, Material, Person, Province,
                    RegisteredSpecialty, Registration, Specialty, database)

from backoffice import storage
from backoffice.db import Prepared
from backoffice.issuing import signing
from backoffice.workflow import numbering, summaries
from backoffice.workflow.calendar import add_years
from backoffice.validators import mask_id_number

USE_DAYS = 180
AUTHORITY = '中华人民共和国住房和城乡建设部'
STATUS_LABELS = {
    'valid': '有效', 'expired': '已过使用有效期', 'lapsed': '注册已失效，证书作废', 'cancelled': '已注销或作废',
    'replaced': '已被新版本替换（作废）', 'unknown': '查无此证书',
}
VOID_STATES = ('cancelled', 'lapsed', 'replaced')


class CertificateError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def use_until(person, registration, issued_on):
    """180 days, cut to the earliest specialty expiry or the 65th birthday (domain §8)."""
    limits = [issued_on + datetime.timedelta(days=USE_DAYS), add_years(person.birth_date, 65)]
    earliest = (RegisteredSpecialty.select(RegisteredSpecialty.valid_until)
                .where((RegisteredSpecialty.registration == registration) & (RegisteredSpecialty.state == 'active')
                       & (RegisteredSpecialty.valid_until >= issued_on))     # one past its date is no limit
                .order_by(RegisteredSpecialty.valid_until).first())
    if earliest is not None:
        limits.append(earliest.valid_until)
    return min(limits)


def issue(registration, today=None):
    """Issue a new certificate for a registration, voiding the ones it replaces."""
    today = today or datetime.date.today()
    with database.atomic():
        void_for(registration)
        person = Person.get_by_id(registration.person_id)
        serial = f'ZS{today:%Y%m%d}{numbering.next_value("cert:" + today.strftime("%Y%m%d")):06d}'
        return Certificate.create(serial=serial, registration=registration, person=person, issued_on=today,
                                  use_until=use_until(person, registration, today), state='valid')


def issue_new(items, today):
    """Certificates for registrations just created (nothing to void): items are
    (registration id, person, earliest specialty expiry or None). Same serials and limits as issue()."""
    first = numbering.reserve('cert:' + today.strftime('%Y%m%d'), len(items))
    rows = []
    for k, (reg_id, person, earliest) in enumerate(items):
        limits = [today + datetime.timedelta(days=USE_DAYS), add_years(person.birth_date, 65)]
        if earliest is not None:
            limits.append(earliest)
        rows.append({'serial': f'ZS{today:%Y%m%d}{first + k:06d}', 'registration': reg_id, 'person': person.id,
                     'issued_on': today, 'use_until': min(limits), 'state': 'valid',
                     'created_at': datetime.datetime.now().replace(microsecond=0)})
    for k in range(0, len(rows), 500):
        Certificate.insert_many(rows[k:k + 500]).execute()


def download_version(registration, user, today=None, remote_addr=''):
    """加注 (建办市〔2021〕40号): each download of a valid registration's e-certificate is a new version
    (new serial, the previous one void, 使用有效期 from today: 180 days cut at the earliest specialty
    expiry or the 65th birthday). The version the registry issued today that nobody has downloaded
    yet (at the announcement or a 变更注册) is handed out as it is. A void registration (注销, 失效)
    gets no new version: its latest one, which downloads as a copy marked 作废. Every download is
    logged (DownloadLog: which version, which user: the holder or an enterprise user).
    Returns (certificate, is_new); raises CertificateError with a Chinese message."""
    from backoffice.db import is_postgres
    today = today or datetime.date.today()
    with database.atomic():
        query = Registration.select().where(Registration.id == registration.id)
        reg = (query.for_update() if is_postgres() else query).get()     # one 加注 at a time per registration
        counted = summaries.Tracker(regs=[reg.id])      # 待打印 counts the new version (workflow.summaries)
        person = Person.get_by_id(reg.person_id)
        latest = (Certificate.select().where(Certificate.registration == reg.id)
                  .order_by(Certificate.id.desc()).first())
        cert, new = latest, False
        if reg.state == 'active':
            problem = annotation_problem(person, reg, today)
            if problem:
                raise CertificateError(problem)
            fresh = (latest is not None and latest.state == 'valid' and latest.issued_on == today
                     and not DownloadLog.select().where(DownloadLog.certificate == latest.id).exists())
            if not fresh:
                cert, new = issue(reg, today), True
        if cert is None:
            raise CertificateError('该注册没有签发过电子证书')
        DownloadLog.create(certificate=cert.id, user=user.id, remote_addr=(remote_addr or '')[:64])
        counted.finish()
        return cert, new


def annotation_problem(person, registration, today):
    """Why an active registration cannot get a valid version today (the daily lapse task has not
    run yet), or None."""
    if add_years(person.birth_date, 65) < today:
        return '持证人已年满65周岁，注册失效，不能下载有效的电子证书'
    if not (RegisteredSpecialty.select().where((RegisteredSpecialty.registration == registration)
                                               & (RegisteredSpecialty.state == 'active')
                                               & (RegisteredSpecialty.valid_until >= today)).exists()):
        return '注册专业均已超过有效期，注册失效，不能下载有效的电子证书'
    return None


def versions(registration):
    """Every version of a registration's e-certificate, newest first, with its download count."""
    downloads = (DownloadLog.select(fn.COUNT(DownloadLog.id)).where(DownloadLog.certificate == Certificate.id))
    return list(Certificate.select(Certificate, downloads.alias('downloads'))
                .where(Certificate.registration == registration).order_by(Certificate.id.desc()))


def void_for(registration):
    Certificate.update(state='void').where(
        (Certificate.registration == registration) & (Certificate.state == 'valid')).execute()


def _serializer():
    return URLSafeSerializer(current_app.config['SECRET_KEY'], salt='certificate-verify')


def token_for(certificate):
    return _serializer().dumps({'s': certificate.serial})


def serial_from_token(token):
    """The serial a token was signed for, or None for a forged or altered token."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    return data.get('s') if isinstance(data, dict) else None


def verify_url(certificate):
    base = (current_app.config.get('PUBLIC_BASE_URL') if has_app_context() else None) or 'http://127.0.0.1:5000'
    return f'{base.rstrip("/")}/verify/{token_for(certificate)}'


def _status_of(cert_state, reg_state, use_until, today, newer=False):
    if reg_state == 'lapsed':
        return 'lapsed'
    if reg_state != 'active':
        return 'cancelled'
    if cert_state != 'valid':
        return 'replaced' if newer else 'cancelled'
    if use_until < today:
        return 'expired'
    return 'valid'


def status(certificate, today=None):
    """'valid', 'expired', 'lapsed', 'cancelled', 'replaced' (a newer version exists) or 'unknown'."""
    if certificate is None:
        return 'unknown'
    reg_state = Registration.select(Registration.state).where(Registration.id == certificate.registration_id).scalar()
    newer = certificate.state != 'valid' and _newer_exists(certificate.registration_id, certificate.id)
    return _status_of(certificate.state, reg_state, certificate.use_until, today or datetime.date.today(), newer)


def _newer_exists(registration_id, certificate_id):
    return Certificate.select().where((Certificate.registration == registration_id)
                                      & (Certificate.id > certificate_id)).exists()


def _verification_query(serial):
    """The certificate, its registration, holder and enterprise, with one row per registered specialty
    (every one, in the specialties' order, with its state: which are shown depends on the status)."""
    newer = Certificate.alias()
    has_newer = fn.EXISTS(newer.select(newer.id).where((newer.registration == Certificate.registration)
                                                       & (newer.id > Certificate.id)))
    return (Certificate.select(Certificate.serial, Certificate.state, Certificate.issued_on, Certificate.use_until,
                               Registration.id, Registration.state, Registration.number, Registration.seal_check,
                               Person.name, Person.id_number, Enterprise.name, has_newer,
                               Specialty.name, RegisteredSpecialty.valid_until, RegisteredSpecialty.state)
            .join(Registration, on=(Registration.id == Certificate.registration))
            .join(Person, on=(Person.id == Registration.person))
            .switch(Registration).join(Enterprise, on=(Enterprise.id == Registration.enterprise))
            .switch(Registration).join(RegisteredSpecialty, JOIN.LEFT_OUTER,
                                       on=(RegisteredSpecialty.registration == Registration.id))
            .join(Specialty, JOIN.LEFT_OUTER, on=(Specialty.id == RegisteredSpecialty.specialty))
            .where(Certificate.serial == serial).order_by(Specialty.sort))


# The public verification page is the busiest page (issue 10: 800 requests/s): one statement,
# composed once (db.Prepared).
_VERIFY = Prepared(_verification_query)


def verification(serial, today=None):
    """The public verification page's facts in one query: (status, masked data or None).
    Live status (注销, lapse, replaced by a newer version), never a birth date or a full ID number.
    The specialties listed: those in force, or every one the registration had once it has ended."""
    found = _VERIFY.rows(serial)
    if not found:
        return 'unknown', None
    (serial, cert_state, issued_on, use_until, reg_id, reg_state, number, seal_check, name, id_number,
     enterprise, newer_exists) = found[0][:12]
    issued_on, use_until = Certificate.issued_on.python_value(issued_on), Certificate.use_until.python_value(use_until)
    state = _status_of(cert_state, reg_state, use_until, today or datetime.date.today(), bool(newer_exists))
    as_day = RegisteredSpecialty.valid_until.python_value
    ended = state in ('cancelled', 'lapsed')
    specialties = [(name_, as_day(until)) for name_, until, spec_state in (row[12:] for row in found)
                   if name_ is not None and (ended or spec_state == 'active')]
    return state, {'serial': serial, 'name': name, 'id_number': mask_id_number(id_number),
                   'number': f'{number}({seal_check:02d})', 'enterprise': enterprise, 'specialties': specialties,
                   'issued_on': issued_on, 'use_until': use_until}


def _material_file(stored_path, store=None):
    """Something ReportLab can draw for a stored material: a local path, an ImageReader of the bytes
    (S3), or None when the file is gone. store: the uploads storage, if the caller has it already."""
    if not has_app_context():
        return stored_path if os.path.exists(stored_path) else None
    found = storage.as_file(store or storage.uploads(), stored_path)     # a local path, or the bytes from S3
    if found is None or isinstance(found, str):
        return found
    from reportlab.lib.utils import ImageReader
    return ImageReader(found)


def _material_path(person_id, kind):
    row = (Material.select(Material.stored_path).join(Application)
           .where((Application.person == person_id) & (Material.kind == kind))
           .order_by(Material.id.desc()).first())
    return None if row is None else _material_file(row.stored_path)


def certificate_data(certificate, masked=False):
    """Everything a certificate layout prints, as plain values."""
    return certificate_data_many([certificate], masked)[0]


def _chunks(items, size=500):
    for k in range(0, len(items), size):
        yield items[k:k + size]


def certificate_data_many(certs, masked=False, today=None):
    """certificate_data() of many certificates with a fixed number of queries per 500 of them (the
    batch print path: one query per certificate per field made it slow). Same values, same order."""
    today = today or datetime.date.today()
    out = []
    for part in _chunks(list(certs)):
        out.extend(_data_part(part, masked, today))
    return out


def _data_part(certs, masked, today):
    ids = [c.id for c in certs]
    rows = {r[0]: r for r in
            (Certificate.select(Certificate.id, Registration.id, Registration.state, Registration.number,
                                Registration.seal_check, Person.id, Person.name, Person.gender, Person.birth_date,
                                Person.id_number, Enterprise.name, Enterprise.uscc, Province.name)
             .join(Registration, on=(Registration.id == Certificate.registration))
             .join(Enterprise, on=(Enterprise.id == Registration.enterprise))
             .switch(Registration).join(Province, on=(Province.id == Registration.province))
             .switch(Certificate).join(Person, on=(Person.id == Certificate.person))
             .where(Certificate.id.in_(ids)).tuples())}
    reg_ids = sorted({r[1] for r in rows.values()})
    # status(): a void version is 'replaced' when a newer version of its registration exists
    latest = dict(Certificate.select(Certificate.registration, fn.MAX(Certificate.id))
                  .where(Certificate.registration.in_(reg_ids)).group_by(Certificate.registration).tuples())
    specialties = {}
    for reg_id, name, until, state, code in (RegisteredSpecialty
                                             .select(RegisteredSpecialty.registration, Specialty.name,
                                                     RegisteredSpecialty.valid_until, RegisteredSpecialty.state,
                                                     Specialty.code)
                                             .join(Specialty, on=(Specialty.id == RegisteredSpecialty.specialty))
                                             .where(RegisteredSpecialty.registration.in_(reg_ids))
                                             .order_by(RegisteredSpecialty.registration, Specialty.sort).tuples()):
        specialties.setdefault(reg_id, []).append((name, until, state, code))
    person_ids = sorted({r[5] for r in rows.values()})
    materials = {}
    for person_id, kind, stored_path in (Material.select(Application.person, Material.kind, Material.stored_path)
                                         .join(Application)
                                         .where(Application.person.in_(person_ids)
                                                & Material.kind.in_(('photo', 'signature')))
                                         .order_by(Material.id.desc()).tuples()):
        materials.setdefault((person_id, kind), stored_path)          # the newest of each kind
    serializer = _serializer()
    base = (current_app.config.get('PUBLIC_BASE_URL') if has_app_context() else None) or 'http://127.0.0.1:5000'
    store = storage.uploads() if has_app_context() else None
    out = []
    for cert in certs:
        (_, reg_id, reg_state, number, seal_check, person_id, name, gender, birth_date, id_number, ent_name, uscc,
         province) = rows[cert.id]
        state = _status_of(cert.state, reg_state, cert.use_until, today,
                           cert.state != 'valid' and latest.get(reg_id, 0) > cert.id)
        void = state in VOID_STATES
        # a void certificate's copy is a record: it shows what it certified, marked 作废
        shown = [row for row in specialties.get(reg_id, []) if void or row[2] == 'active']
        specs = [(n, until) for n, until, _s, _c in shown]
        full_number = f'{number}({seal_check:02d})'
        url = f'{base.rstrip("/")}/verify/{serializer.dumps({"s": cert.serial})}'
        photo, signature = (materials.get((person_id, kind)) for kind in ('photo', 'signature'))
        out.append({
            'serial': cert.serial,
            # masked (public pages): no birth date next to the masked number (domain §14)
            'name': name, 'gender': gender, 'birth_date': None if masked else birth_date,
            'id_number': mask_id_number(id_number) if masked else id_number,
            'number': full_number, 'enterprise': ent_name, 'uscc': uscc, 'province': province,
            'specialties': specs, 'issued_on': cert.issued_on, 'use_until': cert.use_until,
            'authority': AUTHORITY,
            'qr_text': signing.qr_text(url, cert.serial, SimpleNamespace(name=name, id_number=id_number),
                                       SimpleNamespace(full_number=full_number),
                                       [(code, until) for _n, until, _s, code in shown],
                                       cert.use_until),       # + the offline-verifiable payload (RC2: codes)
            'photo': photo and _material_file(photo, store),
            'signature': signature and _material_file(signature, store),
            'void_mark': (f'{STATUS_LABELS[state]}，仅供存档，不作执业证明' if void else ''),
        })
    return out

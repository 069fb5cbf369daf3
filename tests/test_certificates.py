"""Certificates: PDF content, QR verification, 使用有效期, batch printing with a print log, rights."""
import datetime
import zipfile

import numpy as np
import pytest

from backoffice.issuing import certificates, documents, printing
from backoffice.validators import mask_id_number
from models import Certificate, DownloadLog, Job, Person, PrintLog, RegisteredSpecialty, Registration, Specialty

from .conftest import (build_application, login, make_enterprise, make_user, pdf_text, post_form,
                       registered_with_certificate, render_first_page, announce, decode_qr)


def test_certificate_pdf_fields_and_render(users, tmp_path):
    cert, row = registered_with_certificate(users)
    data = documents.certificate_pdf(cert)
    text, pages = pdf_text(data)
    flat = text.replace('\n', '').replace(' ', '')
    person = Person.get_by_id(row.person_id)
    reg = cert.registration
    for field in ('中华人民共和国一级建造师注册证书', person.name, person.id_number, reg.full_number,
                  row.enterprise.name, row.enterprise.uscc, '建筑工程', '使用有效期至',
                  cert.use_until.strftime('%Y年%m月%d日'), '中华人民共和国住房和城乡建设部', cert.serial):
        assert field.replace(' ', '') in flat, field
    assert pages == 1
    image = render_first_page(data, tmp_path, dpi=150)
    gray = np.asarray(image.convert('L'))
    assert gray.min() < 60 and gray.std() > 10                       # ink, not a blank page
    # the QR code on the page decodes to the verification URL
    decoded = decode_qr(image)
    assert decoded.split('#')[0] == certificates.verify_url(cert)    # after '#': the signed payload (signing)
    assert decoded.startswith('http://registry.test/verify/')


def test_use_until_is_cut_short():
    from .conftest import make_person, make_registration
    today = datetime.date(2026, 11, 24)
    p = make_person(birth=datetime.date(1980, 1, 1))
    reg = make_registration(p, make_enterprise(), valid_until=today + datetime.timedelta(days=400))
    assert certificates.use_until(p, reg, today) == today + datetime.timedelta(days=180)
    RegisteredSpecialty.update(valid_until=today + datetime.timedelta(days=30)).execute()
    assert certificates.use_until(p, reg, today) == today + datetime.timedelta(days=30)
    old = make_person(birth=datetime.date(1962, 1, 10))
    reg2 = make_registration(old, make_enterprise(), valid_until=today + datetime.timedelta(days=400))
    # the 65th birthday (1962-01-10, or a few days later: the test ID numbers shift births as the run goes on)
    assert old.birth_date - datetime.date(1962, 1, 10) < datetime.timedelta(days=60)
    assert certificates.use_until(old, reg2, today) == datetime.date(2027, 1, 10) + (old.birth_date
                                                                                    - datetime.date(1962, 1, 10))


def _verify(client, token):
    r = client.get(f'/verify/{token}')
    return r.status_code, r.get_data(as_text=True)


def test_verification_genuine_expired_cancelled_forged(client, users):
    cert, row = registered_with_certificate(users)
    token = certificates.token_for(cert)
    person = Person.get_by_id(row.person_id)
    code, page = _verify(client, token)
    assert code == 200 and '核验结果：有效' in page and '本证书真实有效' in page
    assert person.id_number not in page and mask_id_number(person.id_number) in page
    assert person.id_number[6:14] not in page                       # no birth date next to the masked number

    Certificate.update(use_until=datetime.date.today() - datetime.timedelta(days=1)).execute()
    code, page = _verify(client, token)
    assert '核验结果：已过使用有效期' in page

    Certificate.update(use_until=datetime.date.today() + datetime.timedelta(days=10)).execute()
    cancel = build_application('cancellation', 'approved', person=person, enterprise=row.enterprise)
    announce(cancel, users['reviewer'])
    code, page = _verify(client, token)
    assert '核验结果：已注销或作废' in page

    forged = token[:-3] + ('AAA' if token[-3:] != 'AAA' else 'BBB')
    code, page = _verify(client, forged)
    assert code == 400 and '二维码无效或已被篡改' in page
    code, page = _verify(client, 'not-a-token')
    assert code == 400
    # a genuine signature over a serial that does not exist
    from itsdangerous import URLSafeSerializer
    unknown = URLSafeSerializer('test-secret', salt='certificate-verify').dumps({'s': 'ZS000'})
    code, page = _verify(client, unknown)
    assert code == 200 and '查无此证书' in page


def test_holder_download_is_logged_and_guarded(client, users, password_hash):
    cert, row = registered_with_certificate(users)
    holder = make_user('holder', password_hash, role='applicant', person=row.person)
    login(client, 'holder')
    r = client.get(f'/files/certificate/{cert.serial}.pdf')
    assert r.status_code == 200 and r.mimetype == 'application/pdf'
    assert DownloadLog.get().user_id == holder.id
    other = build_application('initial')
    make_user('someone', password_hash, role='applicant', person=other.person)
    c2 = client.application.test_client()
    login(c2, 'someone')
    assert c2.get(f'/files/certificate/{cert.serial}.pdf').status_code == 403
    c3 = client.application.test_client()
    login(c3, 'provincial_sh')                                      # 上海 officer, certificate is 北京
    assert c3.get(f'/files/certificate/{cert.serial}.pdf').status_code == 403
    assert DownloadLog.select().count() == 1


def test_batch_print_own_province_only(users):
    bj_ent = make_enterprise(code='11')
    certs = [registered_with_certificate(users, enterprise=bj_ent)[0] for _ in range(3)]
    officer = users['provincial']
    with pytest.raises(printing.PrintError) as err:
        printing.request_batch(officer, certs[0].registration.province_id + 100)
    assert err.value.message == '只能打印本省的证书'
    with pytest.raises(printing.PrintError) as err:
        printing.request_batch(users['provincial_sh'], certs[0].registration.province_id)
    assert err.value.message == '只能打印本省的证书'
    with pytest.raises(printing.PrintError) as err:
        printing.request_batch(users['reviewer'], certs[0].registration.province_id)
    assert err.value.message == '您无权打印证书'

    job = printing.request_batch(officer, officer.province_id)
    job = Job.get_by_id(job.id)
    assert (job.state, job.progress, job.total) == ('done', 3, 3)
    text, pages = pdf_text(open(job.result_path, 'rb').read())
    assert pages == 3
    for c in certs:
        assert Person.get_by_id(c.person_id).name in text
    assert PrintLog.select().count() == 3 and not any(p.reprint for p in PrintLog.select())
    assert Certificate.select().where(Certificate.printed == False).count() == 0  # noqa: E712

    with pytest.raises(printing.PrintError) as err:                # nothing left unprinted
        printing.request_batch(officer, officer.province_id)
    assert err.value.message == '没有符合条件的证书可打印'
    with pytest.raises(printing.PrintError) as err:                # a reprint needs a reason
        printing.request_batch(officer, officer.province_id, only_unprinted=False)
    assert err.value.message == '所选证书中有 3 本已打印过，重印须填写原因'
    printing.request_batch(officer, officer.province_id, only_unprinted=False, reason='证书污损')
    reprints = PrintLog.select().where(PrintLog.reprint == True)  # noqa: E712
    assert reprints.count() == 3 and {p.reason for p in reprints} == {'证书污损'}


def test_large_batch_is_split_into_files(users, monkeypatch):
    monkeypatch.setattr(printing, 'PART_SIZE', 2)
    ent = make_enterprise(code='11')
    for _ in range(5):
        registered_with_certificate(users, enterprise=ent, with_images=False)
    job = printing.request_batch(users['provincial'], users['provincial'].province_id)
    job = Job.get_by_id(job.id)
    assert job.result_path.endswith('.zip')
    with zipfile.ZipFile(job.result_path) as zf:
        names = sorted(zf.namelist())
        assert names == ['certificates-001.pdf', 'certificates-002.pdf', 'certificates-003.pdf']
        assert sum(pdf_text(zf.read(n))[1] for n in names) == 5


def test_print_page_in_browser(client, users):
    cert, _ = registered_with_certificate(users, enterprise=make_enterprise(code='11'))
    login(client, 'provincial')
    page = client.get('/admin/print/').get_data(as_text=True)
    assert '北京' in page and '上海' not in page
    r = post_form(client, '/admin/print/', {'province': str(users['provincial'].province_id),
                                            'date_from': '2026-12-01', 'date_to': '2026-01-01',
                                            'only_unprinted': 'y'})
    assert '开始日期不能晚于结束日期' in r.get_data(as_text=True)
    r = post_form(client, '/admin/print/', {'province': str(users['provincial'].province_id),
                                            'date_from': '2026-02-30'})
    assert '日期无效' in r.get_data(as_text=True)
    r = post_form(client, '/admin/print/', {'province': str(users['provincial'].province_id), 'only_unprinted': 'y'})
    assert r.status_code == 302
    job = Job.get()
    status = client.get(f'/admin/job/{job.id}/status').get_json()
    assert {k: status[k] for k in ('state', 'state_label', 'progress', 'total', 'message')} == {
        'state': 'done', 'state_label': '已完成', 'progress': 1, 'total': 1, 'message': ''}
    r = client.get(f'/admin/job/{job.id}/download')
    assert r.status_code == 200 and r.data[:4] == b'%PDF'
    other = client.application.test_client()
    login(other, 'provincial_sh')
    assert other.get(f'/admin/job/{job.id}/download').status_code == 403
    r = post_form(other, '/admin/print/', {'province': str(users['provincial'].province_id)})
    assert '只能打印本省的证书' in r.get_data(as_text=True)
    page = other.get('/admin/printlog/').get_data(as_text=True)
    assert cert.serial not in page                                  # 上海 sees no 北京 print log


def test_public_search(client, users):
    cert, row = registered_with_certificate(users)
    person = Person.get_by_id(row.person_id)
    reg = cert.registration
    for query in (f'name={person.name}&id_number={person.id_number.lower()}', f'reg_number={reg.number}',
                  f'enterprise={row.enterprise.name}'):
        page = client.get('/search?' + query).get_data(as_text=True)
        results = page[page.index('<table'):]                        # the form may echo the query itself
        assert reg.number in results and '建筑工程' in results, query
        assert person.id_number not in results and mask_id_number(person.id_number) in results
        assert person.id_number[6:14] not in results and str(person.birth_date) not in results
    page = client.get(f'/search?name={person.name}&id_number=110105194912310021').get_data(as_text=True)
    assert '身份证号码校验位不正确' in page
    page = client.get(f'/search?id_number={person.id_number}').get_data(as_text=True)
    assert '按人员查询须同时填写姓名和身份证号' in page
    page = client.get('/search?reg_number=ABC').get_data(as_text=True)
    assert '注册编号应为1个汉字加12位数字' in page
    page = client.get('/search?enterprise=不存在的公司').get_data(as_text=True)
    assert '没有查询到符合条件的注册人员' in page


def test_verification_lists_the_specialties_in_force_and_every_one_once_ended(client, users):
    """A registration in force: the specialties in force, in the specialties' order (an expired one is
    not listed); a cancelled one: every specialty it had."""
    cert, row = registered_with_certificate(users, with_images=False)
    reg = cert.registration
    ordered = list(Specialty.select().order_by(Specialty.sort))
    held = {rs.specialty_id for rs in RegisteredSpecialty.select().where(RegisteredSpecialty.registration == reg)}
    extra = [s for s in ordered if s.id not in held][:2]
    until = datetime.date.today() + datetime.timedelta(days=300)
    RegisteredSpecialty.create(registration=reg, specialty=extra[0], valid_from=datetime.date.today(),
                               valid_until=until, state='active')
    RegisteredSpecialty.create(registration=reg, specialty=extra[1], valid_from=datetime.date(2020, 1, 1),
                               valid_until=datetime.date(2023, 1, 1), state='expired')
    status, data = certificates.verification(cert.serial)
    in_force = [s.name for s in ordered if s.id in held | {extra[0].id}]
    assert status == 'valid' and [name for name, _until in data['specialties']] == in_force
    assert (extra[0].name, until) in data['specialties']
    page = client.get(f'/verify/{certificates.token_for(cert)}').get_data(as_text=True)
    assert extra[0].name in page and extra[1].name not in page
    Registration.update(state='cancelled').where(Registration.id == reg.id).execute()
    status, data = certificates.verification(cert.serial)
    assert status == 'cancelled'
    assert [name for name, _until in data['specialties']] == [s.name for s in ordered
                                                             if s.id in held | {extra[0].id, extra[1].id}]
    assert certificates.verification('NO-SUCH-SERIAL') == ('unknown', None)


def test_the_public_verification_page_runs_one_query(client, users, caplog):
    """The page anyone's phone opens from the QR code: one query for the certificate, its holder and
    the specialties (issue: at most 2 SQL queries per request)."""
    import logging
    cert, _row = registered_with_certificate(users, with_images=False)
    token = certificates.token_for(cert)
    client.get(f'/verify/{token}')                        # warm-up (first request of the client)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger='peewee'):
        page = client.get(f'/verify/{token}').get_data(as_text=True)
    queries = [r for r in caplog.records if r.name == 'peewee' and 'SELECT' in r.getMessage().upper()]
    assert '核验结果：有效' in page
    assert len(queries) == 1, [r.getMessage()[:120] for r in queries]   # the logger really sees the query
    # a version replaced by a newer download (加注): still one query, and the page says so
    certificates.issue(cert.registration)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger='peewee'):
        page = client.get(f'/verify/{token}').get_data(as_text=True)
    queries = [r for r in caplog.records if r.name == 'peewee' and 'SELECT' in r.getMessage().upper()]
    assert '核验结果：已被新版本替换（作废）' in page
    assert len(queries) == 1, [r.getMessage()[:120] for r in queries]

"""E-certificate 加注 (建办市〔2021〕40号): each download is a new version; the 使用有效期 of each is cut at
the earliest specialty expiry or the 65th birthday; every version is logged; a void registration gets
no new version. Time moves by injecting "today"."""
import datetime
import re

import pytest

from backoffice.issuing import certificates
from backoffice.workflow import lifecycle
from backoffice.workflow.calendar import add_years
from models import Certificate, DownloadLog, RegisteredSpecialty, Registration

from .conftest import (csrf_from, login, make_enterprise, make_person, make_registration, make_user, pdf_text,
                       registered_with_certificate)

TODAY = datetime.date.today()
DAY = datetime.timedelta(days=1)


def _holder(reg, password_hash, name='holder'):
    return make_user(name, password_hash, role='applicant', person=reg.person)


def test_each_download_is_a_new_version_and_the_previous_one_is_void(users, password_hash):
    reg = make_registration(make_person(), make_enterprise(), valid_until=TODAY + 700 * DAY)
    holder = _holder(reg, password_hash)
    first = certificates.issue(reg, today=TODAY)              # issued at the announcement, never downloaded
    got, new = certificates.download_version(reg, holder, today=TODAY)
    assert (got.id, new) == (first.id, False)                 # the fresh version itself is handed out
    later = TODAY + 30 * DAY
    second, new = certificates.download_version(reg, holder, today=later)
    assert new and second.serial != first.serial
    assert (second.issued_on, second.use_until) == (later, later + 180 * DAY)
    third, new = certificates.download_version(reg, holder, today=later)   # the same day again: again new
    assert new and third.id != second.id
    assert [c.state for c in Certificate.select().where(Certificate.registration == reg).order_by(Certificate.id)] \
        == ['void', 'void', 'valid']
    logs = list(DownloadLog.select().order_by(DownloadLog.id))
    assert [(log.certificate_id, log.user_id) for log in logs] == [(first.id, holder.id), (second.id, holder.id),
                                                                  (third.id, holder.id)]
    assert [(v.id, v.downloads) for v in certificates.versions(reg)] == [(third.id, 1), (second.id, 1), (first.id, 1)]
    assert certificates.status(Certificate.get_by_id(second.id), later) == 'replaced'
    assert certificates.certificate_data(Certificate.get_by_id(second.id))['void_mark'].startswith('已被新版本替换')
    assert certificates.status(Certificate.get_by_id(third.id), later) == 'valid'
    certificates.download_version(reg, holder, today=later + DAY)
    assert [v.downloads for v in certificates.versions(reg)] == [1, 1, 1, 1]
    DownloadLog.create(certificate=first.id, user=holder.id)      # a copy of an old version, downloaded again
    assert [v.downloads for v in certificates.versions(reg)] == [1, 1, 1, 2]


def test_use_until_is_cut_at_the_specialty_expiry_and_the_65th_birthday(users, password_hash):
    reg = make_registration(make_person(), make_enterprise(), valid_until=TODAY + 700 * DAY)
    holder = _holder(reg, password_hash)
    certificates.issue(reg, today=TODAY - 10 * DAY)
    RegisteredSpecialty.update(valid_until=TODAY + 40 * DAY).where(RegisteredSpecialty.registration == reg).execute()
    cert, new = certificates.download_version(reg, holder, today=TODAY)
    assert new and cert.use_until == TODAY + 40 * DAY

    old = make_person(name='老李', birth=add_years(TODAY + 35 * DAY, -65))
    birthday65 = add_years(old.birth_date, 65)      # (the test ID numbers may shift the birth date by a few days)
    assert TODAY < birthday65 < TODAY + 170 * DAY
    reg2 = make_registration(old, make_enterprise(), valid_until=TODAY + 700 * DAY)
    holder2 = _holder(reg2, password_hash, 'old-holder')
    cert2, new = certificates.download_version(reg2, holder2, today=TODAY)
    assert new and cert2.use_until == birthday65
    # the day after the 65th birthday (before the lapse task has run): no valid version
    with pytest.raises(certificates.CertificateError) as err:
        certificates.download_version(reg2, holder2, today=birthday65 + DAY)
    assert '65周岁' in err.value.message


def test_a_void_registration_gets_no_new_version_only_the_copy_marked_void(users, password_hash):
    cert, row = registered_with_certificate(users, with_images=False)
    reg = Registration.get(Registration.person == row.person_id)
    holder = _holder(reg, password_hash)
    RegisteredSpecialty.update(valid_until=TODAY - DAY).where(RegisteredSpecialty.registration == reg).execute()
    with pytest.raises(certificates.CertificateError):         # expired, the lapse task not yet run
        certificates.download_version(reg, holder, today=TODAY)
    lifecycle.run_lapse(today=TODAY)
    got, new = certificates.download_version(Registration.get_by_id(reg.id), holder, today=TODAY + DAY)
    assert (got.id, new) == (cert.id, False)
    assert Certificate.select().where(Certificate.registration == reg).count() == 1
    assert certificates.certificate_data(got)['void_mark']    # the copy carries the 作废 mark
    assert DownloadLog.get().certificate_id == cert.id


def _annotate(client, page_url, reg_id):
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(f'/files/registration/{reg_id}/certificate', data={'csrf_token': token})


def test_the_enterprise_downloads_for_its_own_staff_only(client, users, password_hash):
    mine = make_enterprise()
    cert, row = registered_with_certificate(users, enterprise=mine, with_images=False)
    reg = Registration.get(Registration.person == row.person_id)
    other_reg = make_registration(make_person(name='外单位'), make_enterprise())
    certificates.issue(other_reg)
    hr = make_user('hr', password_hash, role='enterprise', enterprise=mine)
    assert login(client, 'hr').status_code == 302
    page = client.get('/enterprise/staff').get_data(as_text=True)
    assert f'/files/registration/{reg.id}/certificate' in page
    assert f'/files/registration/{other_reg.id}/certificate' not in page
    r = _annotate(client, '/enterprise/staff', reg.id)
    assert r.status_code == 200 and r.mimetype == 'application/pdf'
    assert cert.serial in pdf_text(r.data)[0]                  # the fresh version of the announcement
    r = _annotate(client, '/enterprise/staff', reg.id)         # a second download: a new version
    newest = Certificate.select().where(Certificate.registration == reg).order_by(Certificate.id.desc()).first()
    assert newest.id != cert.id and newest.serial in pdf_text(r.data)[0]
    assert [(log.user_id, log.certificate_id) for log in DownloadLog.select().order_by(DownloadLog.id)] \
        == [(hr.id, cert.id), (hr.id, newest.id)]
    assert _annotate(client, '/enterprise/staff', other_reg.id).status_code == 403   # not its staff
    assert client.get(f'/files/registration/{reg.id}/certificate').status_code == 405   # never by a GET
    helpdesk = client.application.test_client()
    login(helpdesk, 'helpdesk')
    token = csrf_from(helpdesk.get('/admin/').get_data(as_text=True))
    assert helpdesk.post(f'/files/registration/{reg.id}/certificate',
                         data={'csrf_token': token}).status_code == 403
    assert DownloadLog.select().count() == 2


def test_holder_downloads_from_progress_and_the_old_version_verifies_as_replaced(client, users, password_hash):
    cert, row = registered_with_certificate(users, with_images=False)
    reg = Registration.get(Registration.person == row.person_id)
    _holder(reg, password_hash)
    assert login(client, 'holder').status_code == 302
    assert _annotate(client, '/portal/progress', reg.id).status_code == 200
    assert _annotate(client, '/portal/progress', reg.id).status_code == 200
    newest = Certificate.select().where(Certificate.registration == reg).order_by(Certificate.id.desc()).first()
    page = client.get('/portal/progress').get_data(as_text=True)
    assert newest.serial in page and cert.serial in page and '已被新版本替换（作废）' in page
    visitor = client.application.test_client()
    old = visitor.get(f'/verify/{certificates.token_for(cert)}').get_data(as_text=True)
    assert '核验结果：已被新版本替换（作废）' in old and '该证书已有更新的版本' in old
    assert '以注册管理信息系统的实时注册状态为准' in old
    assert cert.use_until.isoformat() in old                   # the 使用有效期 of the version scanned
    new = visitor.get(f'/verify/{certificates.token_for(newest)}').get_data(as_text=True)
    assert '核验结果：有效' in new and '该证书已有更新的版本' not in new
    # someone else's registration: refused
    other = make_registration(make_person(name='别人'), make_enterprise())
    assert _annotate(client, '/portal/progress', other.id).status_code == 403
    # a cancelled registration: the progress page offers the void copies only, no new version
    Registration.update(state='cancelled').where(Registration.id == reg.id).execute()
    Certificate.update(state='void').where(Certificate.registration == reg).execute()
    page = client.get('/portal/progress').get_data(as_text=True)
    assert 'download-cert' not in page and '不再签发新版本' in page
    r = _annotate(client, '/portal/progress', reg.id)
    assert r.status_code == 200 and '作  废' in pdf_text(r.data)[0]
    assert Certificate.select().where(Certificate.registration == reg).count() == 2
    assert re.search(r'href="/files/certificate/[^"]+\.pdf"', page)

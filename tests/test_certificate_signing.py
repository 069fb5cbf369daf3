"""Certificates verifiable offline (issue 14): the QR carries the verification URL plus an Ed25519-signed
compact payload; the public keys are published at /.well-known/registry-keys.json and the specialties'
codes at /.well-known/registry-specialties.json; a rotation keeps old keys published; the QR stays readable
on the printed 124 x 87 mm card. New certificates carry RC2 (specialty codes, YYMMDD dates); RC1 payloads
of cards printed before still verify."""
import base64
import datetime
import json
import os
import stat

import pytest

from backoffice.issuing import certificates, documents, signing
from backoffice.validators import mask_id_number
from models import Person

from .conftest import (decode_qr, make_enterprise, make_person, make_registration, registered_with_certificate,
                       render_first_page)


def _offline_check(qr_text, published, specialties=None):
    """What a verifier without network does: split the QR text, check the payload with published keys
    (and name the specialties' codes with the published table)."""
    url, _, compact = qr_text.partition('#')
    assert url.startswith('http://registry.test/verify/') and compact
    return signing.verify(compact, published, specialties)


def _text_of(compact):
    text_part = compact.partition('#')[2].split('~')[0] if '#' in compact else compact.split('~')[0]
    return base64.urlsafe_b64decode(text_part + '=' * (-len(text_part) % 4)).decode('utf-8')


def _resign(text, kid='k1'):
    """A payload of `text` signed with the registry's own key: a well-formed, genuinely signed RC2 text
    whatever it says (to test the parsing behind the signature check)."""
    _kid, key = signing.private_key(kid=kid)
    data = text.encode('utf-8')
    return f'{signing._b64(data)}~{signing._b64(key.sign(data))}'


# A card printed before RC2: an RC1 payload made by the RC1 code (git history of signing.py) with the key
# sha256(b'issue 14 RC1 fixture') as 'k1'. Its text:
# 'RC1|k1|ZS2026112500000001|王芳|1101************31|京111252400001(00)|建筑工程:20290514;机电工程:20300101|20270525'
RC1_PRINTED = ('UkMxfGsxfFpTMjAyNjExMjUwMDAwMDAwMXznjovoirN8MTEwMSoqKioqKioqKioqKjMxfOS6rDExMTI1MjQwMDAwMSgwMCl8'
               '5bu6562R5bel56iLOjIwMjkwNTE0O-acuueUteW3peeoizoyMDMwMDEwMXwyMDI3MDUyNQ'
               '~RdxasmpDhT3tOePwLcu1MMggLxG1qNrY9O7uoJxspO_dj7hjR__WmEXPailR_IcHNoxKsmEnMhMLc85GEFZtAw')
RC1_KEYS = {'k1': 'ps/P38qJiJLCCFfIOuoNuMulcMWH5OSTCZU5uryQIrU='}
FACT_KEYS = {'version', 'kid', 'serial', 'name', 'id_number', 'number', 'specialties', 'use_until', 'unknown_codes'}


def test_payload_verifies_offline_with_the_published_key_only(app, client, users):
    cert, row = registered_with_certificate(users, with_images=False)
    data = certificates.certificate_data(cert)
    r = client.get('/.well-known/registry-keys.json')
    assert r.status_code == 200 and r.content_type == 'application/json'
    published = r.get_json()
    assert set(published) == {'k1'} and len(base64.b64decode(published['k1'])) == 32
    table = client.get('/.well-known/registry-specialties.json').get_json()
    facts = _offline_check(data['qr_text'], published, table)
    assert facts['version'] == 'RC2' and facts['unknown_codes'] == []
    person = Person.get_by_id(row.person_id)
    assert facts['serial'] == cert.serial and facts['name'] == person.name
    assert facts['id_number'] == mask_id_number(person.id_number) != person.id_number   # masked, never in full
    assert facts['number'] == cert.registration.full_number
    assert facts['specialties'] == data['specialties'] and facts['use_until'] == cert.use_until
    # the URL part still opens the live verification page
    assert data['qr_text'].split('#')[0] == certificates.verify_url(cert)


def test_a_tampered_payload_or_an_unknown_key_is_rejected(app, users):
    cert, _row = registered_with_certificate(users, with_images=False)
    compact = certificates.certificate_data(cert)['qr_text'].partition('#')[2]
    published = signing.public_keys()
    text_part, sig_part = compact.split('~')
    text = base64.urlsafe_b64decode(text_part + '=' * (-len(text_part) % 4)).decode('utf-8')
    assert text.startswith('RC2|k1|') and cert.serial in text
    assert text.endswith(f'|{cert.use_until:%y%m%d}')
    later = text[:-6] + '991231'                                           # a longer 使用有效期
    assert later != text
    forged = base64.urlsafe_b64encode(later.encode()).rstrip(b'=').decode() + '~' + sig_part
    assert signing.verify(compact, published) is not None
    assert signing.verify(forged, published) is None
    flipped = sig_part[:-2] + ('A' if sig_part[-2] != 'A' else 'B') + sig_part[-1]
    assert signing.verify(f'{text_part}~{flipped}', published) is None
    assert signing.verify(compact, {'k1': base64.b64encode(os.urandom(32)).decode()}) is None   # another key
    assert signing.verify(compact, {}) is None
    for junk in ('', '~', 'abc', 'a~b~c', '!!!~???', text_part, text_part + '~'):
        assert signing.verify(junk, published) is None


def test_keys_are_private_files_and_rotation_keeps_old_kids_published(app, client, users, tmp_path):
    cert, _row = registered_with_certificate(users, with_images=False)
    old_dir, old_kid = app.config['SIGNING_KEY_DIR'], app.config['SIGNING_KEY_ID']
    app.config['SIGNING_KEY_DIR'] = str(tmp_path / 'keys')
    try:
        signed_k1 = certificates.certificate_data(cert)['qr_text']
        path = tmp_path / 'keys' / 'k1.pem'
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        app.config['SIGNING_KEY_ID'] = '2027a'                              # rotation
        signed_new = certificates.certificate_data(cert)['qr_text']
        published = client.get('/.well-known/registry-keys.json').get_json()
        assert set(published) == {'k1', '2027a'}
        assert _offline_check(signed_k1, published)['kid'] == 'k1'        # printed before: still verifiable
        assert _offline_check(signed_new, published)['kid'] == '2027a'
        assert _offline_check(signed_k1, {'2027a': published['2027a']}) is None
    finally:
        app.config['SIGNING_KEY_DIR'], app.config['SIGNING_KEY_ID'] = old_dir, old_kid


def test_the_qr_on_the_printed_card_decodes_and_verifies(app, users, tmp_path):
    cert, _row = registered_with_certificate(users)
    pdf = documents.write_print_batch([cert], str(tmp_path / 'batch.pdf'))
    with open(pdf, 'rb') as f:
        image = render_first_page(f.read(), tmp_path, dpi=300)              # a 300 dpi print of the card
    assert image.size[0] == round(124 / 25.4 * 300)                        # the 124 x 87 mm card
    decoded = decode_qr(image)                                             # OpenCV (tests/conftest.py)
    expected = certificates.certificate_data(cert)['qr_text']
    assert decoded == expected
    assert _offline_check(decoded, signing.public_keys())['serial'] == cert.serial


def test_the_verification_page_says_what_an_offline_check_cannot_know(client, users):
    cert, _row = registered_with_certificate(users, with_images=False)
    page = client.get(f'/verify/{certificates.token_for(cert)}').get_data(as_text=True)
    assert 'id="offline-note"' in page and '离线核验无法得知' in page and '/.well-known/registry-keys.json' in page


def test_database_key_store_is_shared_encrypted_and_keeps_rotated_keys(app, client, users, tmp_path):
    """The default store: every node (here: a fresh process cache) signs with the key in the shared
    database; the private key is stored encrypted; rotation keeps old kids published."""
    from models import SigningKey
    assert app.config['SIGNING_KEY_DIR'] is None                     # the suite runs the default store
    cert, _row = registered_with_certificate(users, with_images=False)
    signed_k1 = certificates.certificate_data(cert)['qr_text']
    row = SigningKey.get(SigningKey.kid == 'k1')
    assert b'PRIVATE KEY' not in row.private_key.encode() and 'MC4C' not in row.private_key
    signing.forget_cached_keys()                                     # "another node": no key in memory
    published = client.get('/.well-known/registry-keys.json').get_json()
    assert set(published) == {'k1'} and published['k1'] == row.public_key
    assert _offline_check(signed_k1, published)['kid'] == 'k1'
    assert certificates.certificate_data(cert)['qr_text'].split('~')[1] == signed_k1.split('~')[1]  # Ed25519 is deterministic
    old_kid = app.config['SIGNING_KEY_ID']
    try:
        app.config['SIGNING_KEY_ID'] = '2027a'
        signed_new = certificates.certificate_data(cert)['qr_text']
        published = client.get('/.well-known/registry-keys.json').get_json()
        assert set(published) == {'k1', '2027a'}
        assert _offline_check(signed_k1, published)['kid'] == 'k1'
        assert _offline_check(signed_new, published)['kid'] == '2027a'
    finally:
        app.config['SIGNING_KEY_ID'] = old_kid
    # another secret cannot decrypt the stored key, and says why
    signing.forget_cached_keys()
    old_secret = app.config.get('SIGNING_KEY_SECRET')
    try:
        app.config['SIGNING_KEY_SECRET'] = 'another-secret'
        with pytest.raises(RuntimeError, match='无法解密'):
            signing.private_key()
    finally:
        app.config['SIGNING_KEY_SECRET'] = old_secret
        signing.forget_cached_keys()


def test_file_keys_import_into_the_database_store(app, users, tmp_path):
    """Keys of the earlier file store move into the database; what they signed stays verifiable."""
    from models import SigningKey
    cert, _row = registered_with_certificate(users, with_images=False)
    app.config['SIGNING_KEY_DIR'] = str(tmp_path / 'keys')
    try:
        signed_by_file = certificates.certificate_data(cert)['qr_text']
        file_keys = signing.public_keys()
    finally:
        app.config['SIGNING_KEY_DIR'] = None
    assert signing.import_dir(str(tmp_path / 'keys')) == ['k1']
    assert signing.import_dir(str(tmp_path / 'keys')) == []          # idempotent
    assert {r.kid: r.public_key for r in SigningKey.select()} == file_keys
    signing.forget_cached_keys()
    assert _offline_check(signed_by_file, signing.public_keys())['kid'] == 'k1'
    assert certificates.certificate_data(cert)['qr_text'].split('~')[1] == signed_by_file.split('~')[1]


# --- RC2 (issue 14: the card's QR at 300 dpi) ---------------------------------------------------------

def test_rc2_round_trip_keeps_order_and_dates(app):
    """The RC2 text, exactly: codes, consecutive equal dates shared, YYMMDD; verify gives back the facts
    in the certificate's order, names from the table."""
    d1, d2 = datetime.date(2029, 5, 14), datetime.date(2030, 1, 1)
    specs = [('01', d1), ('02', d1), ('03', d2), ('10', d1)]
    text = signing.payload_text('k1', 'ZS2026112500000001', '王芳', '1101************31', '京111252400001(00)',
                                specs, datetime.date(2027, 5, 25))
    assert text == ('RC2|k1|ZS2026112500000001|王芳|1101************31|京111252400001(00)|'
                    '01,02:290514;03:300101;10:290514|270525')
    compact = signing.sign('ZS2026112500000001', '王芳', '1101************31', '京111252400001(00)', specs,
                           datetime.date(2027, 5, 25))
    assert _text_of(compact) == text
    table = {'01': '建筑工程', '02': '公路工程', '03': '铁路工程', '10': '机电工程'}
    facts = signing.verify(compact, signing.public_keys(), table)
    assert facts == {'version': 'RC2', 'kid': 'k1', 'serial': 'ZS2026112500000001', 'name': '王芳',
                     'id_number': '1101************31', 'number': '京111252400001(00)',
                     'specialties': [('建筑工程', d1), ('公路工程', d1), ('铁路工程', d2), ('机电工程', d1)],
                     'use_until': datetime.date(2027, 5, 25), 'unknown_codes': []}
    # RC2 cannot say a year outside 2000-2099, and a code is letters and digits only
    with pytest.raises(ValueError):
        signing.payload_text('k1', 's', 'n', 'm', 'x', [('01', datetime.date(2100, 1, 1))], d1)
    with pytest.raises(ValueError):
        signing.payload_text('k1', 's', 'n', 'm', 'x', [('0,1', d1)], d1)


def test_new_certificates_carry_rc2_with_codes_and_a_smaller_qr(app, users):
    """A holder with all 10 specialties: the RC2 payload names them by code and is far shorter than the
    RC1 payload of the same facts (Chinese names)."""
    from print_templates import qr
    from seed.reference import SPECIALTIES
    names = [name for _c, name, *_ in SPECIALTIES]
    reg = make_registration(make_person(name='张三丰', qualifications=names), make_enterprise(), specialties=names,
                            valid_until=datetime.date.today() + datetime.timedelta(days=900))
    cert = certificates.issue(reg)
    data = certificates.certificate_data(cert)
    assert len(data['specialties']) == 10
    text = _text_of(data['qr_text'])
    codes = ','.join(code for code, *_ in SPECIALTIES)
    assert f'|{codes}:' in text and not any(name in text for _c, name, *_ in SPECIALTIES)
    reg, person = cert.registration, cert.registration.person
    rc1 = signing.sign(cert.serial, person.name, mask_id_number(person.id_number), reg.full_number,
                       data['specialties'], cert.use_until, version='RC1')
    url = data['qr_text'].partition('#')[0]
    before, after = (qr.data_codewords(url + '#' + rc1)[0], qr.data_codewords(data['qr_text'])[0])
    print(f'10 specialties: RC1 {len(url + "#" + rc1)} characters, version {before}; '
          f'RC2 {len(data["qr_text"])} characters, version {after}')
    assert after <= before - 4
    assert signing.verify(url + '#' + rc1, signing.public_keys())['specialties'] == data['specialties']
    assert signing.verify(data['qr_text'], signing.public_keys(), signing.specialty_names())['specialties'] \
        == data['specialties']


def test_rc1_payloads_of_printed_cards_still_verify(app):
    """A card printed before RC2 (a payload made by the RC1 code) verifies, with the same dict shape as
    RC2; the specialties table plays no part in RC1; a tampered RC1 payload still fails."""
    facts = signing.verify('http://registry.test/verify/x#' + RC1_PRINTED, RC1_KEYS)
    assert facts == {'version': 'RC1', 'kid': 'k1', 'serial': 'ZS2026112500000001', 'name': '王芳',
                     'id_number': '1101************31', 'number': '京111252400001(00)',
                     'specialties': [('建筑工程', datetime.date(2029, 5, 14)), ('机电工程', datetime.date(2030, 1, 1))],
                     'use_until': datetime.date(2027, 5, 25), 'unknown_codes': []}
    assert signing.verify(RC1_PRINTED, RC1_KEYS, {'01': '别的名称'}) == facts
    rc2 = signing.sign('ZS2026112500000001', '王芳', '1101************31', '京111252400001(00)',
                       [('01', datetime.date(2029, 5, 14))], datetime.date(2027, 5, 25))
    assert set(signing.verify(rc2, signing.public_keys(), {})) == set(facts) == FACT_KEYS
    text_part, sig_part = RC1_PRINTED.split('~')
    forged = signing._b64(_text_of(RC1_PRINTED).replace('20270525', '20990525').encode()) + '~' + sig_part
    assert signing.verify(forged, RC1_KEYS) is None
    # the RC1 text relabelled RC2 (or the reverse) breaks the signature
    relabelled = signing._b64(_text_of(RC1_PRINTED).replace('RC1|', 'RC2|', 1).encode()) + '~' + sig_part
    assert signing.verify(relabelled, RC1_KEYS) is None


def test_a_tampered_rc2_payload_is_rejected(app):
    published, table = signing.public_keys(), signing.specialty_names()
    d = datetime.date(2029, 5, 14)
    compact = signing.sign('ZS2026112500000001', '王芳', '1101************31', '京111252400001(00)',
                           [('01', d), ('07', d)], datetime.date(2027, 5, 25))
    assert signing.verify(compact, published, table)['specialties'] == [('建筑工程', d), ('市政公用工程', d)]
    text, sig_part = _text_of(compact), compact.split('~')[1]
    for change in (('01,07:', '01,02:'), ('01,07:', '01,07,10:'), ('290514', '390514'), ('王芳', '王方'),
                   ('|270525', '|370525'), ('RC2|', 'RC1|')):
        assert change[0] in text
        forged = signing._b64(text.replace(change[0], change[1], 1).encode()) + '~' + sig_part
        assert signing.verify(forged, published, table) is None, change
    flipped = sig_part[:-2] + ('A' if sig_part[-2] != 'A' else 'B') + sig_part[-1]
    assert signing.verify(compact.split('~')[0] + '~' + flipped, published, table) is None


def test_an_unknown_specialty_code_is_named_as_such_not_taken_for_a_forgery(app):
    """A genuine RC2 payload whose code the verifier's table lacks (an older copy of the table): the facts
    verify, the code is shown as 专业代码 <code> and listed; a malformed specialties field fails."""
    published, table = signing.public_keys(), signing.specialty_names()
    assert '99' not in table
    d = datetime.date(2029, 5, 14)
    compact = signing.sign('ZS2026112500000001', '王芳', '1101************31', '京111252400001(00)',
                           [('01', d), ('99', d)], datetime.date(2027, 5, 25))
    facts = signing.verify(compact, published, table)
    assert facts['specialties'] == [('建筑工程', d), ('专业代码 99', d)] and facts['unknown_codes'] == ['99']
    no_table = signing.verify(compact, published)                        # no table at all: every code unknown
    assert no_table['unknown_codes'] == ['01', '99'] and no_table['serial'] == facts['serial']
    base = 'RC2|k1|ZS2026112500000001|王芳|1101************31|京111252400001(00)|{}|270525'
    assert signing.verify(_resign(base.format('01:290514')), published, table)['specialties'] == [('建筑工程', d)]
    for bad in ('01:20290514', '01,:290514', ',01:290514', '01:290514:290514', '01', '01:2905', '01;02:290514',
                '0 1:290514', ' 01:290514', '01\n:290514', '01:291332'):
        assert signing.verify(_resign(base.format(bad)), published, table) is None, bad
    assert signing.verify(_resign(base.format('01:290514').replace('|270525', '|20270525')), published, table) is None


def test_offline_verification_with_only_the_published_documents(app, client, users, monkeypatch):
    """A verifier without network: it saved the two published documents (anyone may fetch them, from any
    site) and has the QR text; nothing else of the registry is reachable."""
    cert, _row = registered_with_certificate(users, with_images=False)
    data = certificates.certificate_data(cert)
    saved = {}
    for name in ('registry-keys', 'registry-specialties'):
        r = client.get(f'/.well-known/{name}.json')
        assert r.status_code == 200 and r.content_type == 'application/json'
        assert r.headers['Access-Control-Allow-Origin'] == '*'
        saved[name] = json.loads(r.get_data(as_text=True))
    from models import Specialty
    assert saved['registry-specialties'] == {s.code: s.name for s in Specialty.select()}
    assert set(saved['registry-keys']) == {'k1'}                          # the keys document is unchanged
    assert all(isinstance(v, str) for v in saved['registry-keys'].values())

    def offline(*_a, **_k):
        raise AssertionError('an offline verifier has no access to the registry')
    for name in ('public_keys', 'private_key', 'specialty_names'):
        monkeypatch.setattr(signing, name, offline)
    monkeypatch.setattr(Specialty, 'select', offline)
    facts = _offline_check(data['qr_text'], saved['registry-keys'], saved['registry-specialties'])
    assert facts['version'] == 'RC2' and facts['unknown_codes'] == []
    assert facts['serial'] == cert.serial and facts['use_until'] == cert.use_until
    assert facts['specialties'] == data['specialties'] and facts['number'] == cert.registration.full_number

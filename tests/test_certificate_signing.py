"""Certificates verifiable offline (issue 14): the QR carries the verification URL plus an Ed25519-signed
compact payload; the public keys are published at /.well-known/registry-keys.json; a rotation keeps old
keys published; the QR stays readable on the printed 124 x 87 mm card."""
import base64
import os
import stat

import pytest

from backoffice.issuing import certificates, documents, signing
from backoffice.validators import mask_id_number
from models import Person

from .conftest import decode_qr, registered_with_certificate, render_first_page


def _offline_check(qr_text, published):
    """What a verifier without network does: split the QR text, check the payload with published keys."""
    url, _, compact = qr_text.partition('#')
    assert url.startswith('http://registry.test/verify/') and compact
    return signing.verify(compact, published)


def test_payload_verifies_offline_with_the_published_key_only(app, client, users):
    cert, row = registered_with_certificate(users, with_images=False)
    data = certificates.certificate_data(cert)
    r = client.get('/.well-known/registry-keys.json')
    assert r.status_code == 200 and r.content_type == 'application/json'
    published = r.get_json()
    assert set(published) == {'k1'} and len(base64.b64decode(published['k1'])) == 32
    facts = _offline_check(data['qr_text'], published)
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
    assert text.startswith('RC1|k1|') and cert.serial in text
    later = text.replace(f'{cert.use_until:%Y%m%d}', '20991231')          # a longer 使用有效期
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

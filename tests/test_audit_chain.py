"""Audit that holds up: staff edits record each changed field, the log is hash-chained, a
command finds the first altered or missing row, and no screen can write the log."""
import json
import re
import threading

import pytest

from backoffice import audit
from models import AuditChainHead, AuditEvent, database

from .conftest import announce, build_application, csrf_from, login, make_person, make_user, post_form


def _verify_cli(app):
    result = app.test_cli_runner().invoke(args=['audit', 'verify'])
    return result.exit_code, result.output


def _chain_of(n, users):
    """n audit rows written the way the application writes them (single and bulk)."""
    reviewer = users['reviewer']
    for k in range(n):
        audit.record('update', object_type='person', object_id=k + 1, actor=users['admin'],
                     comment=f'第{k}次修改', changes=[{'field': 'mobile', 'label': '手机号码',
                                                    'old': '13800138000', 'new': f'1390000{k:04d}'}])
    row = build_application('initial', 'approved')
    announce(row, reviewer)                       # perform_many's bulk insert
    return [i for (i,) in AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id).tuples()]


def test_every_writer_produces_one_valid_chain(app, users):
    ids = _chain_of(5, users)
    assert len(ids) >= 6
    rows = list(AuditEvent.select().order_by(AuditEvent.id))
    assert rows[0].prev_hash == audit.GENESIS
    for before, after in zip(rows, rows[1:]):
        assert after.prev_hash == before.hash and len(after.hash) == 64
    head = AuditChainHead.get_by_id(1)
    assert (head.last_id, head.last_hash, head.count) == (rows[-1].id, rows[-1].hash, len(rows))
    result = audit.verify(batch=2)                # several keyset batches
    assert result.ok and result.count == len(rows)
    code, out = _verify_cli(app)
    assert code == 0, out
    assert '审计链完整' in out and f'{len(rows)} 条' in out and 'intact' in out


def test_an_altered_row_is_named(app, users):
    ids = _chain_of(6, users)
    victim = ids[3]
    database.execute_sql(f"UPDATE audit_event SET comment = '无事发生' WHERE id = {int(victim)}")
    code, out = _verify_cli(app)
    assert code == 1
    assert f'id={victim}' in out and '断裂' in out and 'BROKEN' in out
    result = audit.verify()
    assert not result.ok and result.broken_id == victim


def test_an_altered_and_rehashed_row_is_caught_at_the_next(app, users):
    """Recomputing the altered row's own hash does not help: the next row still points at the old one."""
    ids = _chain_of(4, users)
    victim = AuditEvent.get_by_id(ids[1])
    values = {c: getattr(victim, c) for c in audit.COLUMNS}
    values['comment'] = '改过了'
    forged = audit.compute_hash(values, victim.prev_hash)
    database.execute_sql(f"UPDATE audit_event SET comment = '改过了', hash = '{forged}' WHERE id = {int(victim.id)}")
    result = audit.verify()
    assert not result.ok and result.broken_id == ids[2]
    assert f'id={ids[1]}' in result.reason


def test_a_deleted_middle_row_is_caught(app, users):
    ids = _chain_of(6, users)
    database.execute_sql(f'DELETE FROM audit_event WHERE id = {int(ids[2])}')
    code, out = _verify_cli(app)
    assert code == 1
    assert f'id={ids[3]}' in out                 # the row after the gap
    assert audit.verify().broken_id == ids[3]


def test_deleted_rows_at_the_end_are_caught(app, users):
    ids = _chain_of(3, users)
    database.execute_sql(f'DELETE FROM audit_event WHERE id >= {int(ids[-2])}')
    result = audit.verify()
    assert not result.ok and result.broken_id == ids[-1]
    assert _verify_cli(app)[0] == 1


def test_new_rows_continue_after_the_last_used_id(users):
    ids = _chain_of(2, users)
    event = audit.record('update', object_type='person', object_id=1, actor=users['admin'])
    assert event.id > ids[-1] and event.prev_hash == AuditEvent.get_by_id(ids[-1]).hash
    assert audit.verify().ok


def test_concurrent_writers_do_not_fork_the_chain(app, users):
    admin_id = users['admin'].id
    errors = []

    def writer(n):
        try:
            with app.app_context():
                database.connect(reuse_if_open=True)
                for k in range(8):
                    audit.record('update', object_type='person', object_id=n * 100 + k, actor=admin_id,
                                 actor_role='admin', comment=f'线程{n}')
                database.close()
        except Exception as exc:          # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    result = audit.verify()
    assert result.ok and result.count == 32, result.summary()
    assert len({e.prev_hash for e in AuditEvent.select()}) == 32       # no two rows share a predecessor


def test_demo_data_makes_a_valid_chain(app):
    from seed.demo import generate
    generate(150)
    assert AuditEvent.select().count() > 50
    assert audit.verify().ok


# --- staff edits ------------------------------------------------------------------------

def test_staff_edit_records_each_changed_field_before_and_after(client, users):
    person = make_person(name='王芳')
    login(client, 'admin')
    url = f'/admin/person/edit/?id={person.id}'
    page = client.get(url).get_data(as_text=True)
    data = {'id_number': person.id_number, 'name': '王芳芳', 'ethnicity': '回族', 'school': '',
            'major': '', 'education': '', 'graduation_date': '', 'mobile': '13912345678',
            'csrf_token': csrf_from(page)}
    r = client.post(url, data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    event = AuditEvent.get((AuditEvent.object_type == 'person') & (AuditEvent.action == 'update'))
    changes = {c['field']: (c['label'], c['old'], c['new']) for c in json.loads(event.changes)}
    assert changes['name'] == ('姓名', '王芳', '王芳芳')           # the label the edit form shows
    assert changes['mobile'] == ('手机号码', '13800138000', '13912345678')
    assert changes['ethnicity'] == ('民族', '汉族', '回族')
    assert changes['education'] == ('学历', '本科', '')
    assert 'id_number' not in changes and 'gender' not in changes   # unchanged fields are not listed
    assert event.object_id == person.id and event.actor_id == users['admin'].id
    assert audit.verify().ok
    # the audit log page shows it, in Chinese
    html = client.get('/admin/auditevent/').get_data(as_text=True)
    assert '修改内容（原值 → 新值）' in html
    assert '手机号码' in html and '13800138000 → 13912345678' in html
    assert re.search(r'class="col-object_type">\s*人员\s*<', html)       # the record kind in Chinese
    details = client.get(f'/admin/auditevent/details/?id={event.id}').get_data(as_text=True)
    assert '王芳 → 王芳芳' in details and '本科 → （空）' in details and event.hash in details


def test_secret_fields_are_recorded_as_changed_without_their_value(password_hash):
    user = make_user('zhangsan', password_hash, role='acceptor')
    before = audit.snapshot(user)
    user.password_hash = 'pbkdf2:sha256:600000$new$' + 'f' * 64
    user.name = '张三'
    changes = audit.field_changes(user, before, {'password_hash': '密码', 'name': '姓名'})
    by_field = {c['field']: c for c in changes}
    assert by_field['password_hash']['new'] == audit.SECRET_MARK and by_field['password_hash']['old'] == ''
    assert by_field['name'] == {'field': 'name', 'label': '姓名', 'old': 'zhangsan', 'new': '张三'}
    text = json.dumps(changes, ensure_ascii=False)
    assert 'pbkdf2' not in text and password_hash not in text


def test_staff_create_records_the_new_values(client, users):
    login(client, 'acceptor')
    r = post_form(client, '/admin/person/new/', {
        'id_number': '11010519491231002X', 'name': '李娜', 'ethnicity': '汉族', 'school': '同济大学',
        'major': '土木工程', 'education': '本科', 'graduation_date': '1972-07-01', 'mobile': '13800138000'})
    assert r.status_code == 302
    event = AuditEvent.get((AuditEvent.object_type == 'person') & (AuditEvent.action == 'create'))
    changes = {c['field']: (c['label'], c['old'], c['new']) for c in json.loads(event.changes)}
    assert changes['name'] == ('姓名', '', '李娜') and changes['school'] == ('毕业院校', '', '同济大学')
    assert changes['birth_date'][2] == '1949-12-31'       # derived by the view, recorded too


# --- no screen writes the log -------------------------------------------------------------

@pytest.mark.parametrize('role', ['admin', 'supervisor'])
def test_no_screen_can_edit_or_delete_audit_rows(client, users, role):
    ids = _chain_of(2, users)
    target = ids[0]
    before = [(e.id, e.comment, e.hash) for e in AuditEvent.select().order_by(AuditEvent.id)]
    login(client, role)
    listing = client.get('/admin/auditevent/')
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert '/admin/auditevent/edit/' not in html and '/admin/auditevent/new/' not in html
    assert '/admin/auditevent/delete/' not in html
    token = csrf_from(client.get('/admin/').get_data(as_text=True))
    attempts = [
        ('/admin/auditevent/new/', {'action': 'update', 'object_type': 'x', 'comment': '伪造'}),
        (f'/admin/auditevent/edit/?id={target}', {'comment': '改写', 'action': 'update'}),
        ('/admin/auditevent/delete/', {'id': str(target)}),
        ('/admin/auditevent/action/', {'action': 'delete', 'rowid': str(target)}),
        ('/admin/auditevent/ajax/update/', {'list_form_pk': str(target), 'comment': '改写'}),
    ]
    for url, data in attempts:
        r = client.post(url, data={**data, 'csrf_token': token})
        assert r.status_code in (403, 404, 405), (url, r.status_code)
    for url in ('/admin/auditevent/new/', f'/admin/auditevent/edit/?id={target}', '/admin/auditevent/export/csv/'):
        assert client.get(url).status_code in (403, 404), url
    after = [(e.id, e.comment, e.hash) for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert after == before
    assert audit.verify().ok


def test_direct_model_writes_are_refused(users):
    """Only backoffice.audit appends (so nothing bypasses the chain); the model refuses the rest."""
    event = audit.record('update', object_type='person', object_id=1, actor=users['admin'])
    with pytest.raises(TypeError):
        AuditEvent.create(object_type='person', action='update')
    with pytest.raises(TypeError):
        AuditEvent.insert_many([{'object_type': 'person', 'action': 'update'}])
    with pytest.raises(TypeError):
        AuditEvent.update(comment='x')
    event.comment = 'x'
    with pytest.raises(TypeError):
        event.save()
    assert AuditEvent.select().count() == 1 and audit.verify().ok


def test_the_audit_view_refuses_writes_in_code_too(app):
    view = next(v for v in app.extensions['registry_admin']._views if getattr(v, 'endpoint', '') == 'auditevent')
    assert view.can_create is False and view.can_edit is False and view.can_delete is False
    assert view.can_export is False


def test_account_edit_records_role_by_label_and_password_only_as_changed(client, users):
    login(client, 'admin')
    target = users['acceptor2']
    old_hash = target.password_hash
    url = f'/admin/user/edit/?id={target.id}'
    r = post_form(client, url, {'username': target.username, 'name': '新名字', 'role': 'reviewer', 'mobile': '',
                                'active': 'y', 'password': 'Zq8#mVt2pLx9-长口令'})
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    event = AuditEvent.get((AuditEvent.object_type == 'user') & (AuditEvent.action == 'update'))
    changes = {c['field']: (c['old'], c['new']) for c in json.loads(event.changes)}
    assert changes['role'] == ('受理人员', '审查人员')               # the labels the form shows
    assert changes['name'] == ('acceptor2', '新名字')
    assert changes['password_hash'] == ('', audit.SECRET_MARK)
    new_hash = type(target).get_by_id(target.id).password_hash
    assert new_hash != old_hash and new_hash not in event.changes and old_hash not in event.changes
    assert 'session_version' not in changes
    assert audit.verify().ok

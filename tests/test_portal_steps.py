"""The applicant's step-by-step form over HTTP (issue 13, "The applicant's form"): steps and their draft,
asynchronous and script-less uploads that lose nothing, errors at their fields with a linked summary,
every requirement up front, business types offered by registration, the photo tool, the progress bar."""
import datetime
import io
import re

from werkzeug.datastructures import MultiDict

from backoffice.intake import applications as svc
from backoffice.intake import photo
from backoffice.workflow import rules, transitions
from models import Application, Material, Person

from . import images
from .conftest import (build_application, csrf_from, login, make_enterprise, make_person, make_registration,
                       make_user, specialty)


def _page(r):
    return r.get_data(as_text=True)


def _post(client, url, data, files=None, page_url=None):
    token = csrf_from(_page(client.get(page_url or url)))
    payload = MultiDict(data)
    payload['csrf_token'] = token
    for key, value in (files or {}).items():
        payload[key] = value
    return client.post(url, data=payload, content_type='multipart/form-data')


def _applicant(client, password_hash, person=None):
    person = person or make_person()
    user = make_user(f'u{person.id}', password_hash, role='applicant', person=person, mobile='13822224444')
    login(client, user.username)
    return user, person


def _start(client, business_type):
    r = _post(client, f'/portal/apply/{business_type}', {'agree': 'y'})
    assert r.status_code == 302, _page(r)
    return int(r.headers['Location'].rstrip('/').split('/')[-1])


def _fixed_photo():
    fixed, report = photo.fix_photo(images.portrait_jpeg())
    assert report.ok
    return fixed


# --- steps -----------------------------------------------------------------------------

def test_the_steps_follow_the_manual_and_submit_is_last(client, password_hash):
    _applicant(client, password_hash)
    app_id = _start(client, 'initial')
    app = Application.get_by_id(app_id)
    assert [k for k, _t in svc.form_steps(app)] == ['basic', 'enterprise', 'specialties', 'commitment',
                                                    'materials', 'submit']
    page = _page(client.get(f'/portal/application/{app_id}'))
    titles = re.findall(r'<span class="step-no">(第.步)(?:<span class="step-todo">（待完善）</span>)?</span>([^<]+)</button>',
                        page)
    assert titles == [('第一步', '基本信息'), ('第二步', '聘用企业信息'), ('第三步', '选择注册专业'),
                      ('第四步', '个人承诺'), ('第五步', '申报材料'), ('第六步', '短信验证码与提交')]
    assert re.search(r'value="basic"[^>]*aria-current="step"', page)            # the indicator shows where she is
    # steps with an unmet submission condition say so; 基本信息 has none
    assert re.search(r'<li class=" incomplete" data-step="enterprise">', page)
    assert re.search(r'<li class=" incomplete" data-step="materials">', page)
    assert '<li class="current" data-step="basic">' in page
    assert 'id="school"' in page and 'id="contract_start"' not in page and 'id="submit"' not in page
    last = _page(client.get(f'/portal/application/{app_id}?step=submit'))
    assert 'id="submit"' in last and 'id="code"' in last and 'id="next-step"' not in last
    # a 注销: the manual's four steps (基本信息, 注销原因, 短信验证码, 提交)
    cancel = build_application('cancellation', person=make_person())
    assert [k for k, _t in svc.form_steps(cancel)] == ['basic', 'reasons', 'submit']


def test_draft_persists_between_steps(client, password_hash):
    _, person = _applicant(client, password_hash)
    app_id = _start(client, 'initial')
    url = f'/portal/application/{app_id}'
    ent = make_enterprise(name='步骤测试建设有限公司')
    r = _post(client, url, {'step': 'basic', 'action': 'next', 'school': '同济大学', 'major': '土木工程',
                            'education': '本科'})
    assert r.status_code == 302 and r.headers['Location'].endswith('step=enterprise')
    r = _post(client, url, {'step': 'enterprise', 'action': 'next', 'uscc': ent.uscc,
                            'contract_start': '2026-01-01', 'contract_end': '2029-12-31'})
    assert r.headers['Location'].endswith('step=specialties')
    # jumping with the step indicator saves what the step holds too
    r = _post(client, url, {'step': 'specialties', 'goto': 'basic', 'specialties_sent': '1',
                            'specialties': str(specialty('建筑工程').id)})
    assert r.status_code == 302 and r.headers['Location'].endswith('step=basic')
    assert 'value="同济大学"' in _page(client.get(url + '?step=basic'))
    assert ent.name in _page(client.get(url + '?step=enterprise'))
    assert re.search(r'id="s%d"\s+checked' % specialty('建筑工程').id, _page(client.get(url + '?step=specialties')))
    app = Application.get_by_id(app_id)
    assert app.enterprise_id == ent.id and str(app.contract_end) == '2029-12-31'
    assert Person.get_by_id(person.id).school == '同济大学'
    r = _post(client, url, {'step': 'specialties', 'action': 'prev', 'specialties_sent': '1',
                            'specialties': str(specialty('建筑工程').id)})
    assert r.headers['Location'].endswith('step=enterprise')
    # a bad value stays on its step, at its field, with the rest saved
    r = _post(client, url, {'step': 'basic', 'action': 'next', 'major': '工程管理', 'graduation_date': '2008-02-30'})
    assert r.status_code == 400
    page = _page(r)
    assert re.search(r'id="error-graduation_date"[^>]*>日期无效', page)
    assert 'href="#graduation_date"' in page                                  # the summary links to it
    assert Person.get_by_id(person.id).major == '工程管理'


# --- uploads ------------------------------------------------------------------------------

def test_asynchronous_upload_answers_json_and_keeps_the_page(client, password_hash):
    _applicant(client, password_hash)
    app_id = _start(client, 'initial')
    form = f'/portal/application/{app_id}?step=materials'
    url = f'/portal/application/{app_id}/upload'
    page = _page(client.get(form))
    assert 'data-upload-url="%s"' % url in page and '/static/js/portal_form.js' in page
    r = _post(client, url, {'kind': 'photo'}, files={'file': (io.BytesIO(_fixed_photo()), '照片.jpg')}, page_url=form)
    assert r.status_code == 200 and r.is_json
    body = r.get_json()
    assert body['ok'] is True and body['message'] == '已上传：一寸白底免冠照'
    assert body['material']['name'] == '照片.jpg' and body['material']['url'].startswith('/files/material/')
    assert Material.get(Material.application == app_id).kind == 'photo'
    r = _post(client, url, {'kind': 'contract'}, files={'file': (io.BytesIO(b'MZ fake exe'), 'c.pdf')}, page_url=form)
    assert r.status_code == 400 and r.get_json()['field'] == 'upload_contract'
    assert '文件内容不是 JPG、PNG 图片或 PDF 文件' in r.get_json()['message']
    r = _post(client, url, {'kind': 'commitment'}, files={'file': (io.BytesIO(b'%PDF-1.4\n%%EOF\n'), 'c.pdf')},
              page_url=form)
    assert r.status_code == 400 and '系统生成' in r.get_json()['message']
    # CSRF is required, and someone else's application is not hers
    assert client.post(url, data={'kind': 'photo'}).status_code == 400
    other = build_application('initial')
    token = csrf_from(page)
    r = client.post(f'/portal/application/{other.id}/upload', headers={'X-CSRFToken': token},
                    data={'kind': 'other', 'file': (io.BytesIO(b'%PDF-1.4\n%%EOF\n'), 'x.pdf')},
                    content_type='multipart/form-data')
    assert r.status_code == 403
    assert Material.select().where(Material.application == other.id, Material.kind == 'other').count() == 0


def test_upload_without_script_saves_the_typed_fields_first(client, password_hash):
    """No JavaScript: the upload button submits the whole step; the draft is saved, then every chosen file."""
    _, person = _applicant(client, password_hash)
    app_id = _start(client, 'info_change')
    url = f'/portal/application/{app_id}'
    r = _post(client, url, {'change_sent': '1', 'new_name': '张卫', 'change_explanation': '登记有误',
                            'upload': 'id_front'},
              files={'file_id_front': (io.BytesIO(images.png_bytes()), '人像面.png'),
                     'file_id_back': (io.BytesIO(images.png_bytes()), '国徽面.png')})
    assert r.status_code == 302, _page(r)
    app = Application.get_by_id(app_id)
    assert app.new_name == '张卫' and app.change_explanation == '登记有误'
    kinds = {m.kind for m in Material.select().where(Material.application == app_id)}
    assert kinds == {'id_front', 'id_back'}
    # a refused file: its message at its field, the typed text kept
    r = _post(client, url, {'step': 'change', 'change_sent': '1', 'new_name': '张伟伟', 'change_explanation': '再改',
                            'upload': 'change_proof'},
              files={'file_change_proof': (io.BytesIO(b'not a file we take'), 'x.pdf')})
    assert r.status_code == 400
    assert re.search(r'id="error-upload_change_proof"[^>]*>文件内容不是', _page(r)) is None      # other step
    assert 'step=materials#file-change_proof' in _page(r)
    assert Application.get_by_id(app_id).new_name == '张伟伟'
    # a file chosen but not uploaded when she moves to the next step is stored on the way
    r = _post(client, url, {'step': 'materials', 'action': 'next'},
              files={'file_photo': (io.BytesIO(_fixed_photo()), '照片.jpg')})
    assert r.status_code == 302 and r.headers['Location'].endswith('step=submit')
    assert Material.select().where(Material.application == app_id, Material.kind == 'photo').count() == 1


# --- an empty 提交 ----------------------------------------------------------------------------

def test_empty_submit_shows_each_error_at_its_field_with_a_linked_summary(client, password_hash):
    _applicant(client, password_hash)
    app_id = _start(client, 'initial')
    url = f'/portal/application/{app_id}'
    r = _post(client, url, {'step': 'submit', 'action': 'submit'}, page_url=url + '?step=submit')
    assert r.status_code == 400
    page = _page(r)
    summary = page[page.index('id="error-summary"'):page.index('</div>', page.index('id="error-summary"'))]
    links = dict((href.replace('&amp;', '&'), text) for href, text in
                 re.findall(r'<a class="error-link alert-link" href="([^"]+)">([^<]+)</a>', summary))
    base = f'/portal/application/{app_id}?step='
    assert links[base + 'enterprise#enterprise-search'] == '请选择聘用企业'
    assert links[base + 'enterprise#contract_start'] == '请填写劳动合同开始日期和结束日期'
    assert links[base + 'specialties#specialties'] == '请至少选择一个注册专业'
    assert links[base + 'commitment#commitment'] == '请阅读个人承诺并勾选“本人作出上述承诺”'
    assert links[base + 'materials#file-photo'] == '请上传一寸白底免冠照'
    assert links[base + 'materials#file-signature'] == '请上传个人签名'
    assert links['#code'] == '请输入短信验证码'
    assert re.search(r'id="error-code"[^>]*>请输入短信验证码', page)           # on this step: at the field
    assert Application.get_by_id(app_id).state == 'draft'
    # following a link: the error is at its field on that step, the input marked invalid
    step = _page(client.get(base + 'enterprise'))
    assert re.search(r'id="error-enterprise"[^>]*>请选择聘用企业', step)
    assert re.search(r'id="enterprise-search"[^>]*aria-required="true" aria-invalid="true"', step)
    assert re.search(r'id="error-contract_start"[^>]*>请填写劳动合同', step)
    materials = _page(client.get(base + 'materials'))
    assert re.search(r'id="error-upload_photo"[^>]*>请上传一寸白底免冠照', materials)
    assert not re.search(r'id="error-upload_contract"[^>]*>请上传', materials)   # 劳动合同 is not required
    # required fields are marked, visibly and for screen readers
    assert re.search(r'劳动合同开始日期<span class="text-danger required-mark" aria-hidden="true">\*</span>', step)
    assert re.search(r'id="contract_start"[^>]*aria-required="true"', step)
    assert re.search(r'id="file-photo"[^>]*aria-required="true"', materials)
    assert not re.search(r'id="file-other"[^>]*aria-required', materials)
    # once fixed, the error is gone from the summary
    ent = make_enterprise()
    _post(client, url, {'step': 'enterprise', 'action': 'save', 'uscc': ent.uscc,
                        'contract_start': '2026-01-01', 'contract_end': '2029-12-31'}, page_url=base + 'enterprise')
    page = _page(client.get(base + 'basic'))
    assert '请选择聘用企业' not in page and '请至少选择一个注册专业' in page


# --- every requirement up front -------------------------------------------------------------------

def test_every_requirement_is_listed_from_the_start(client, password_hash):
    old = datetime.date.today() - datetime.timedelta(days=5 * 365)
    _, person = _applicant(client, password_hash, make_person(qualifications=('建筑工程',), issued=old))
    app_id = _start(client, 'initial')
    page = _page(client.get(f'/portal/application/{app_id}'))              # first step, nothing filled in
    listed = page[page.index('id="requirements"'):page.index('</details>')]
    for rule in transitions.SUBMIT_RULES['initial']:                          # the workflow's own rules
        assert rules.label(rule) in listed, rules.label(rule)
    assert '申请这些专业须上传继续教育证明：建筑工程' in listed                 # before any specialty is chosen
    app = Application.get_by_id(app_id)
    assert 'upload_continuing_education' in svc.required_fields(app)
    # an applicant within the 3-year window is not asked for it
    fresh = Application.create(number='SQT-FRESH-1', business_type='initial', person=make_person())
    assert 'upload_continuing_education' not in svc.required_fields(fresh)
    assert not any(r['detail'] for r in svc.requirements(fresh) if 'within' in r['label'] or '3年' in r['label'])
    # 延续: the continuing-education proof is a requirement from the start
    renewal = build_application('renewal')
    Material.delete().where(Material.application == renewal.id).execute()
    labels = {r['label']: r for r in svc.requirements(renewal)}
    materials = next(r for label, r in labels.items() if '继续教育证明' in label)
    assert materials['problem'] and materials['kinds'] == ['photo', 'signature', 'continuing_education']


# --- who is offered what -----------------------------------------------------------------------

def test_types_needing_a_registration_are_offered_only_with_one(client, password_hash):
    _, person = _applicant(client, password_hash)
    home = _page(client.get('/portal/'))
    offered = set(re.findall(r'class="list-group-item list-group-item-action offered-type" data-type="(\w+)"', home))
    assert offered == {'initial', 'reregister', 'info_change'}
    assert '/portal/apply/renewal' not in home and '/portal/apply/cancellation' not in home
    for business_type in ('renewal', 'cancellation', 'addition'):
        r = client.get(f'/portal/apply/{business_type}')
        assert r.status_code == 403 and '您目前没有有效的注册，不能办理此项业务' in _page(r)
        r = _post(client, f'/portal/apply/{business_type}', {'agree': 'y'}, page_url='/portal/')
        assert r.status_code == 403
    assert Application.select().where(Application.person == person).count() == 0


def test_a_registered_person_is_offered_renewal_and_cancellation(client, password_hash):
    person = make_person()
    make_registration(person, make_enterprise())
    _applicant(client, password_hash, person)
    home = _page(client.get('/portal/'))
    offered = set(re.findall(r'offered-type" data-type="(\w+)"', home))
    assert offered == {'addition', 'renewal', 'cancellation', 'info_change'}
    assert client.get('/portal/apply/initial').status_code == 403
    assert client.get('/portal/apply/renewal').status_code == 200
    assert _start(client, 'cancellation')


# --- the progress step bar ----------------------------------------------------------------------

def _bar(app):
    return [(s['label'], s['status']) for s in svc.progress_steps(app)]


def test_progress_step_bar_follows_the_state(client, users, password_hash):
    app = build_application('initial', 'draft')
    assert _bar(app)[0] == ('申请', 'current') and all(s == 'todo' for _l, s in _bar(app)[1:])
    app.state = 'reported'
    assert _bar(app) == [('申请', 'done'), ('企业上报', 'done'), ('受理', 'current'), ('审查', 'todo'),
                         ('公告', 'todo'), ('发证', 'todo')]
    app.state = 'approved'
    assert [s for _l, s in _bar(app)] == ['done', 'done', 'done', 'done', 'current', 'todo']
    app.state = 'announced'
    steps = svc.progress_steps(app)
    assert all(s['status'] == 'done' for s in steps) and steps[-1]['current']
    app.state = 'refused'
    assert _bar(app)[3] == ('审查', 'stopped') and _bar(app)[4] == ('公告', 'todo')
    addition = build_application('addition', 'accepted')
    assert _bar(addition)[1] == ('企业上报', 'skipped') and _bar(addition)[3] == ('审查', 'current')
    cancel = build_application('cancellation', 'approved')
    assert [s for _l, s in _bar(cancel)] == ['done', 'done', 'skipped', 'skipped', 'current', 'skipped']
    # the page draws it
    row = build_application('initial', 'accepted', accepted_by=users['acceptor'])
    make_user('bar', password_hash, role='applicant', person=row.person, mobile='13800000001')
    login(client, 'bar')
    page = _page(client.get('/portal/progress'))
    bar = re.search(r'<ol class="step-bar".*?</ol>', page, re.S).group(0)
    assert re.findall(r'<span class="step-label">([^<]+)</span>', bar) == ['申请', '企业上报', '受理', '审查', '公告', '发证']
    assert re.search(r'data-status="current" aria-current="step">\s*<span class="step-label">审查', bar)
    assert bar.count('data-status="done"') == 3


# --- the photo tool -----------------------------------------------------------------------------

def test_photo_tool_keeps_the_file_previews_and_clears_old_errors(client):
    url = '/portal/photo-tool'

    def post(data, file=None):
        token = csrf_from(_page(client.get(url)))
        payload = dict(data, csrf_token=token)
        if file is not None:
            payload['file'] = file
        return client.post(url, data=payload, content_type='multipart/form-data')
    r = post({'action': 'check'}, (io.BytesIO(b'not a photo'), 'x.jpg'))
    assert '文件内容不是' in _page(r)
    r = post({'action': 'check'}, (io.BytesIO(images.portrait_jpeg()), '我的照片.jpg'))
    page = _page(r)
    assert '头部在照片中过小' in page and 'id="kept-photo"' in page and '我的照片.jpg' in page
    assert 'id="preview-before"' in page and 'src="data:image/jpeg;base64,' in page
    r = post({'action': 'fix'})                                               # no file chosen again
    page = _page(r)
    assert r.status_code == 200 and '处理成功' in page
    assert '头部在照片中过小' not in page and '文件内容不是' not in page and 'alert-danger' not in page
    assert 'id="preview-before"' in page and 'id="preview-after"' in page
    saved = client.get(url + '/download')
    assert saved.status_code == 200 and saved.mimetype == 'image/jpeg'
    assert photo.check_photo(saved.data).ok
    r = post({'action': 'clear'})
    assert r.status_code == 302
    assert 'id="kept-photo"' not in _page(client.get(url))
    assert client.get(url + '/download').status_code == 302                  # nothing kept any more
    r = post({'action': 'fix'})
    assert '请选择照片文件' in _page(r)


def test_photo_stash_tokens_are_checked_and_expire(app):
    with app.app_context():
        token = photo.stash_put(b'\xff\xd8\xffdata')
        assert photo.stash_get(token) == b'\xff\xd8\xffdata'
        assert photo.stash_get('../../etc/passwd') is None and photo.stash_get(token, 'other') is None
        hour, rest = token.split('-', 1)
        old = f'{int(hour) - photo.STASH_TTL_HOURS - 1}-{rest}'
        photo.stash_put(b'old', old)
        assert photo.stash_get(old) is None                                   # expired
        photo.stash_purge(force=True)
        assert photo.stash_get(token) == b'\xff\xd8\xffdata'
        photo.stash_drop(token)
        assert photo.stash_get(token) is None


def test_a_submitted_application_shows_its_steps_read_only(client, password_hash):
    row = build_application('initial', 'submitted')
    make_user('ro', password_hash, role='applicant', person=row.person, mobile='13800000002')
    login(client, 'ro')
    page = _page(client.get(f'/portal/application/{row.id}?step=specialties'))
    assert f'href="/portal/application/{row.id}?step=materials"' in page            # plain links, no POST
    assert 'name="goto"' not in page and 'id="submit"' not in page and 'id="save"' not in page
    r = _post(client, f'/portal/application/{row.id}/upload', {'kind': 'other'},
              files={'file': (io.BytesIO(b'%PDF-1.4\n%%EOF\n'), 'x.pdf')},
              page_url=f'/portal/application/{row.id}')
    assert r.status_code == 400 and '不能上传材料' in r.get_json()['message']

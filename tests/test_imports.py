"""Bulk imports: validation report, idempotence, CSV/XLSX/GB18030, web page and CLI."""
import csv
import io

import openpyxl

from backoffice.background import imports
from models import ExternalRegistration, Job, Qualification

from .conftest import csrf_from, login, make_id_number, make_person

GOOD = make_id_number()
GOOD2 = make_id_number()
ROWS = [
    ['资格证书管理号', '姓名', '身份证号', '专业', '签发日期'],
    ['ZG2020000001', '张三', GOOD, '建筑工程', '2020-09-19'],
    ['ZG2020000002', '李四', GOOD2, '市政公用工程', '2020/9/19'],
    ['ZG2020000003', '王五', '110105194912310021', '建筑工程', '2020-09-19'],
    ['ZG2020000004', '赵六', GOOD2, '土木工程', '2020-09-19'],
    ['ZG2020000005', '孙七', GOOD2, '机电工程', '2020-02-30'],
    ['ZG2020000001', '张三', GOOD, '建筑工程', '2020-09-19'],
    ['', '', '', '', ''],
]


def _csv_file(tmp_path, rows, encoding='utf-8-sig', name='q.csv'):
    path = tmp_path / name
    with open(path, 'w', encoding=encoding, newline='') as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_qualification_import_reports_and_is_idempotent(tmp_path):
    path = _csv_file(tmp_path, ROWS)
    result = imports.run('qualifications', str(path))
    assert (result.total, result.imported, result.unchanged) == (6, 2, 0)
    assert sorted(result.rejected) == sorted([
        (4, '身份证号', '身份证号码校验位不正确，请核对后重新输入'),
        (5, '专业', '专业“土木工程”不是10个注册专业之一'),
        (6, '签发日期', '日期无效，应为“年-月-日”，如 2020-09-19'),
        (7, '资格证书管理号', '与第 2 行重复'),
    ])
    snapshot = sorted(Qualification.select(Qualification.cert_number, Qualification.holder_name).tuples())
    again = imports.run('qualifications', str(path))
    assert (again.imported, again.unchanged, len(again.rejected)) == (0, 2, 4)
    assert sorted(Qualification.select(Qualification.cert_number, Qualification.holder_name).tuples()) == snapshot
    report = list(csv.reader(io.StringIO(imports.report_csv(result).decode('utf-8-sig'))))
    assert report[0] == ['行号', '字段', '问题'] and len(report) == 5


def test_conflicting_existing_record_is_rejected_and_person_is_linked(tmp_path):
    person = make_person(name='张三', qualifications=())
    rows = [ROWS[0], ['ZG2020000009', '张三', person.id_number, '建筑工程', '2020-09-19']]
    assert imports.run('qualifications', str(_csv_file(tmp_path, rows))).imported == 1
    assert Qualification.get(Qualification.cert_number == 'ZG2020000009').person_id == person.id
    rows = [ROWS[0], ['ZG2020000009', '张叁', person.id_number, '建筑工程', '2020-09-19']]
    result = imports.run('qualifications', str(_csv_file(tmp_path, rows, name='b.csv')))
    assert result.rejected == [(2, '资格证书管理号', '资格库中已有该证书管理号，但姓名、身份证号、专业或日期不一致')]


def test_xlsx_and_gb18030(tmp_path):
    book = openpyxl.Workbook()
    for row in ROWS[:3]:
        book.active.append(row)
    path = tmp_path / 'q.xlsx'
    book.save(path)
    assert imports.run('qualifications', str(path)).imported == 2
    gb = _csv_file(tmp_path, [ROWS[0], ['ZG2020000010', '周八', make_id_number(), '矿业工程', '2021-01-01']],
                   encoding='gb18030', name='gb.csv')
    assert imports.run('qualifications', str(gb)).imported == 1
    bad = _csv_file(tmp_path, [['证书号', '名字']], name='bad.csv')
    try:
        imports.run('qualifications', str(bad))
    except imports.ImportError_ as exc:
        assert exc.message.startswith('缺少列：资格证书管理号')
    else:
        raise AssertionError('missing columns accepted')


def test_external_import_updates_state_once(tmp_path):
    number = make_id_number()
    header = imports.EXTERNAL_COLUMNS
    first = _csv_file(tmp_path, [header, ['张三', number, '二级建造师', '京211000001', '某公司', '', '有效'],
                                 ['李四', number, '二级建造师', '', '某公司', '', '有效']])
    r = imports.run('external', str(first))
    assert (r.imported, r.rejected) == (1, [(3, '注册编号', '注册编号不能为空')])
    second = _csv_file(tmp_path, [header, ['张三', number, '二级建造师', '京211000001', '某公司', '', '注销']],
                       name='b.csv')
    r = imports.run('external', str(second))
    assert (r.imported, r.updated) == (0, 1)
    assert ExternalRegistration.get().active is False
    r = imports.run('external', str(second))
    assert (r.imported, r.updated, r.unchanged) == (0, 0, 1)


def test_import_page_and_report_download(client, users, tmp_path):
    path = _csv_file(tmp_path, ROWS)
    login(client, 'acceptor')
    page = client.get('/admin/imports/').get_data(as_text=True)
    r = client.post('/admin/imports/', data={'csrf_token': csrf_from(page)})
    assert '请选择导入类型' in r.get_data(as_text=True)
    with open(path, 'rb') as fh:
        r = client.post('/admin/imports/', data={'csrf_token': csrf_from(page), 'kind': 'qualifications',
                                                  'file': (fh, 'q.csv')}, content_type='multipart/form-data')
    assert r.status_code == 302
    job = Job.get(Job.kind == 'import')
    assert job.state == 'done' and '新增 2 行' in job.message and '拒绝 4 行' in job.message
    report = client.get(f'/admin/job/{job.id}/download').data.decode('utf-8-sig')
    assert '身份证号码校验位不正确' in report
    assert client.application.test_client().get('/admin/imports/').status_code == 302    # login first


def test_cli_import(app, tmp_path):
    path = _csv_file(tmp_path, ROWS)
    result = app.test_cli_runner().invoke(args=['import', 'qualifications', str(path)])
    assert result.exit_code == 0, result.output
    assert '新增 2 行' in result.output and '拒绝 4 行' in result.output
    assert (tmp_path / 'q.csv.rejected.csv').exists()

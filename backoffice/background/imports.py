"""Bulk imports: the qualification database (资格库) and external registrations, from CSV or XLSX.

Every row is validated; valid rows are imported in bulk, rejected rows change nothing and are
reported with their line number, field and a Chinese message. Importing the same file twice
changes nothing the second time (rows already present are counted as unchanged).
"""
import csv
import dataclasses
import datetime
import io
import os
import re

from models import ExternalRegistration, Person, Qualification, Specialty, database

from backoffice.db import bulk_insert
from backoffice.validators import ValidationError, validate_id_number, validate_uscc

CHUNK = 2000


@dataclasses.dataclass
class Result:
    total: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list = dataclasses.field(default_factory=list)     # (line, field, message)

    def summary(self):
        return (f'共 {self.total} 行：新增 {self.imported} 行，更新 {self.updated} 行，'
                f'未变化 {self.unchanged} 行，拒绝 {len(self.rejected)} 行')


class ImportError_(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


# --- reading -------------------------------------------------------------------

def read_rows(path, filename=None, required=()):
    """Yield (line number, {header: value}) from a CSV (UTF-8, UTF-8 with BOM, or GB18030) or XLSX file.

    The header row must name every column in `required`.
    """
    name = (filename or path).lower()
    with open(path, 'rb') as fh:
        head = fh.read(4)
    reader = _read_xlsx(path) if head[:2] == b'PK' or name.endswith('.xlsx') else _read_csv(path)
    headers = next(reader)
    missing = [h for h in required if h not in headers]
    if missing:
        raise ImportError_('缺少列：' + '、'.join(missing) + '（第一行应为列名：' + '、'.join(required) + '）')
    yield from reader


def _read_csv(path):
    for encoding in ('utf-8-sig', 'gb18030'):
        try:
            with open(path, encoding=encoding, newline='') as fh:
                fh.read(65536)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportError_('文件编码无法识别，请保存为 UTF-8 或 GB18030 编码的 CSV')
    with open(path, encoding=encoding, newline='') as fh:
        reader = csv.reader(fh)
        headers = [h.strip() for h in next(reader, [])]
        if not headers:
            raise ImportError_('文件为空')
        yield headers
        for line, values in enumerate(reader, 2):
            if any(v.strip() for v in values):
                yield line, dict(zip(headers, (v.strip() for v in values)))


def _read_xlsx(path):
    import openpyxl
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:
        raise ImportError_('文件不是有效的 XLSX 工作簿') from None
    sheet = book.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    headers = [str(h).strip() if h is not None else '' for h in next(it, ())]
    if not any(headers):
        raise ImportError_('文件为空')
    yield headers
    for line, values in enumerate(it, 2):
        cells = ['' if v is None else (v.date().isoformat() if isinstance(v, datetime.datetime) else str(v).strip())
                 for v in values]
        if any(cells):
            yield line, dict(zip(headers, cells))


def _date(value):
    value = (value or '').strip().replace('/', '-').replace('.', '-')
    m = re.match(r'^(\d{4})-(\d{1,2})-(\d{1,2})$', value)
    if not m:
        raise ValueError
    return datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


# --- 资格库 -----------------------------------------------------------------------

QUALIFICATION_COLUMNS = ['资格证书管理号', '姓名', '身份证号', '专业', '签发日期']


def import_qualifications(rows, progress=None):
    """rows: iterable of (line, dict). Returns a Result."""
    specialties = {s.name: s.id for s in Specialty.select()}
    result, seen_cert, seen_pair, batch = Result(), {}, {}, []
    today = datetime.date.today()
    for line, row in rows:
        result.total += 1
        problems = []
        cert = row.get('资格证书管理号', '').strip()
        name = row.get('姓名', '').strip()
        if not cert:
            problems.append(('资格证书管理号', '资格证书管理号不能为空'))
        elif len(cert) > 30:
            problems.append(('资格证书管理号', '资格证书管理号过长'))
        if not name:
            problems.append(('姓名', '姓名不能为空'))
        try:
            number = validate_id_number(row.get('身份证号', ''))
        except ValidationError as exc:
            number = None
            problems.append(('身份证号', exc.message))
        sid = specialties.get(row.get('专业', '').strip())
        if sid is None:
            problems.append(('专业', f'专业“{row.get("专业", "")}”不是10个注册专业之一'))
        try:
            issued = _date(row.get('签发日期'))
            if issued > today:
                problems.append(('签发日期', '签发日期晚于今天'))
        except ValueError:
            issued = None
            problems.append(('签发日期', '日期无效，应为“年-月-日”，如 2020-09-19'))
        if not problems:
            if cert in seen_cert:
                problems.append(('资格证书管理号', f'与第 {seen_cert[cert]} 行重复'))
            elif (number, sid) in seen_pair:
                problems.append(('专业', f'同一人同一专业与第 {seen_pair[(number, sid)]} 行重复'))
        if problems:
            result.rejected += [(line, field, message) for field, message in problems]
            continue
        seen_cert[cert] = line
        seen_pair[(number, sid)] = line
        batch.append((line, {'cert_number': cert, 'holder_name': name, 'holder_id_number': number,
                             'specialty': sid, 'issue_date': issued}))
        if len(batch) >= CHUNK:
            _flush_qualifications(batch, result)
            batch = []
            if progress:
                progress(result.total)
    if batch:
        _flush_qualifications(batch, result)
    if progress:
        progress(result.total)
    return result


def _flush_qualifications(batch, result):
    certs = [r['cert_number'] for _, r in batch]
    pairs = {(r['holder_id_number'], r['specialty']) for _, r in batch}
    existing = {q[0]: q for q in Qualification.select(
        Qualification.cert_number, Qualification.holder_name, Qualification.holder_id_number,
        Qualification.specialty, Qualification.issue_date).where(Qualification.cert_number.in_(certs)).tuples()}
    numbers = list({n for n, _ in pairs})
    taken = {(n, s): c for n, s, c in Qualification.select(
        Qualification.holder_id_number, Qualification.specialty, Qualification.cert_number)
        .where(Qualification.holder_id_number.in_(numbers)).tuples()}
    persons = dict(Person.select(Person.id_number, Person.id).where(Person.id_number.in_(numbers)).tuples())
    fresh = []
    for line, r in batch:
        old = existing.get(r['cert_number'])
        if old is not None:
            if old[1:] == (r['holder_name'], r['holder_id_number'], r['specialty'], r['issue_date']):
                result.unchanged += 1
            else:
                result.rejected.append((line, '资格证书管理号', '资格库中已有该证书管理号，但姓名、身份证号、专业或日期不一致'))
            continue
        pair = (r['holder_id_number'], r['specialty'])
        if pair in taken:
            result.rejected.append((line, '专业', f'此人该专业已有资格记录（证书管理号 {taken[pair]}）'))
            continue
        r['person'] = persons.get(r['holder_id_number'])
        fresh.append(r)
    if fresh:
        stamp = datetime.datetime.now().replace(microsecond=0)
        with database.atomic():
            bulk_insert(Qualification, ['cert_number', 'holder_name', 'holder_id_number', 'person_id', 'specialty_id',
                                        'issue_date', 'created_at'],
                        [(r['cert_number'], r['holder_name'], r['holder_id_number'], r.get('person'), r['specialty'],
                          r['issue_date'], stamp) for r in fresh])
        result.imported += len(fresh)


# --- external registrations ---------------------------------------------------------------

EXTERNAL_COLUMNS = ['姓名', '身份证号', '注册类别', '注册编号', '单位名称', '统一社会信用代码', '状态']
ACTIVE_WORDS = {'有效': True, '注册': True, '在册': True, '注销': False, '失效': False, '无效': False}


def import_external(rows, source='', progress=None):
    result, seen, batch = Result(), {}, []
    for line, row in rows:
        result.total += 1
        problems = []
        try:
            number = validate_id_number(row.get('身份证号', ''))
        except ValidationError as exc:
            number = None
            problems.append(('身份证号', exc.message))
        name, category, reg = (row.get(k, '').strip() for k in ('姓名', '注册类别', '注册编号'))
        for field, value in (('姓名', name), ('注册类别', category), ('注册编号', reg)):
            if not value:
                problems.append((field, f'{field}不能为空'))
        uscc = row.get('统一社会信用代码', '').strip()
        if uscc:
            try:
                uscc = validate_uscc(uscc)
            except ValidationError as exc:
                problems.append(('统一社会信用代码', exc.message))
        state = row.get('状态', '').strip() or '有效'
        if state not in ACTIVE_WORDS:
            problems.append(('状态', '状态应为“有效”或“注销”'))
        key = (number, category, reg)
        if not problems and key in seen:
            problems.append(('注册编号', f'与第 {seen[key]} 行重复'))
        if problems:
            result.rejected += [(line, f, m) for f, m in problems]
            continue
        seen[key] = line
        batch.append({'id_number': number, 'name': name, 'category': category, 'reg_number': reg,
                      'enterprise_name': row.get('单位名称', '').strip()[:200], 'enterprise_uscc': uscc,
                      'active': ACTIVE_WORDS[state], 'source': source[:100]})
        if len(batch) >= CHUNK:
            _flush_external(batch, result)
            batch = []
            if progress:
                progress(result.total)
    if batch:
        _flush_external(batch, result)
    if progress:
        progress(result.total)
    return result


def _flush_external(batch, result):
    numbers = list({r['id_number'] for r in batch})
    existing = {(e.id_number, e.category, e.reg_number): e for e in
                ExternalRegistration.select().where(ExternalRegistration.id_number.in_(numbers))}
    with database.atomic():
        fresh = []
        for r in batch:
            old = existing.get((r['id_number'], r['category'], r['reg_number']))
            if old is None:
                fresh.append(r)
            elif (old.name, old.enterprise_name, old.enterprise_uscc, old.active) == \
                    (r['name'], r['enterprise_name'], r['enterprise_uscc'], r['active']):
                result.unchanged += 1
            else:
                ExternalRegistration.update(name=r['name'], enterprise_name=r['enterprise_name'],
                                            enterprise_uscc=r['enterprise_uscc'], active=r['active'],
                                            imported_at=datetime.datetime.now().replace(microsecond=0)) \
                    .where(ExternalRegistration.id == old.id).execute()
                result.updated += 1
        for k in range(0, len(fresh), 1000):
            ExternalRegistration.insert_many(fresh[k:k + 1000]).execute()
        result.imported += len(fresh)


KINDS = {'qualifications': ('资格库（考试合格人员）', QUALIFICATION_COLUMNS),
         'external': ('外部注册信息（二级建造师、其他执业资格）', EXTERNAL_COLUMNS)}


def run(kind, path, filename=None, progress=None):
    if kind not in KINDS:
        raise ImportError_('导入类型无效')
    rows = read_rows(path, filename, KINDS[kind][1])
    if kind == 'qualifications':
        result = import_qualifications(rows, progress)
    else:
        result = import_external(rows, source=os.path.basename(filename or path), progress=progress)
    if result.total == 0:
        raise ImportError_('文件中没有数据行')
    return result


def report_csv(result):
    """The rejected rows as a CSV (UTF-8 with BOM) for download."""
    buf = io.StringIO()
    buf.write('\ufeff')
    writer = csv.writer(buf)
    writer.writerow(['行号', '字段', '问题'])
    from reports.exports import neutralise      # messages may quote the file's own cells: no live formula
    writer.writerows([[neutralise(c) for c in row] for row in result.rejected])
    return buf.getvalue().encode('utf-8')

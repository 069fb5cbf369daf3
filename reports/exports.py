"""Exports (CSV with BOM for Excel, XLSX): every export honours the screen's filters and the user's
province scope, and reads in keyset batches so memory stays flat at any size.

Formula injection (OWASP "CSV injection"): a text cell that starts with = + - @, a tab or a carriage
return would be read by a spreadsheet as a formula, so it gets a leading single quote, in CSV and
XLSX alike (and XLSX cells are always written as strings, never as formulas). The rule applies to
every text column; the columns an export declares `plain` (dates the system stamps, numbers it
computes such as a negative count of days left) are left as they are, so numbers stay numbers.

ID numbers are masked in every export; `full_id=True` (only for the roles in
backoffice.access.FULL_ID_EXPORT_ROLES, logged with log_full_id_export) leaves them whole."""
import csv
import dataclasses
import datetime
import io
from typing import Callable

import peewee as pw

from backoffice.validators import ID_MASK_HEAD, ID_MASK_TAIL, mask_id_number
from backoffice.workflow.states import BUSINESS_TYPES, STATES
from models import (database, Application, ApplicationRefusalGround, Enterprise, Notice, NoticeItem, Person, Province,
                    RefusalGround, RegisteredSpecialty, Registration, Specialty)

from .stats import _apps, in_date_range

BATCH = 5000
FORMULA_STARTS = frozenset('=+-@\t\r')


def neutralise(value):
    """The OWASP rule for one cell: text a spreadsheet would run as a formula gets a leading quote.
    A carriage return inside text becomes a line feed: Python's csv module (line ends '\n') would
    leave a bare CR unquoted and break the row, where PostgreSQL's COPY quotes it."""
    if value.__class__ is str and value:
        if value[0] in FORMULA_STARTS:
            value = "'" + value
        if '\r' in value:
            value = value.replace('\r\n', '\n').replace('\r', '\n')
    return value


def _neutralise_rows(rows, columns):
    """Neutralise the given columns of every row (rows are tuples or lists; a changed row becomes a list)."""
    out = []
    for row in rows:
        for i in columns:
            v = row[i]
            if v.__class__ is str and v and (v[0] in FORMULA_STARTS or '\r' in v):
                if row.__class__ is not list:
                    row = list(row)
                row[i] = neutralise(v)
        out.append(row)
    return out


def _neutralised_sql(expr):
    """The same rule in SQL, for PostgreSQL's COPY path (its bytes must equal the keyset path's)."""
    quoted = pw.Case(None, [(pw.fn.SUBSTR(expr, 1, 1).in_(sorted(FORMULA_STARTS)), pw.fn.CONCAT("'", expr))], expr)
    return pw.fn.REPLACE(pw.fn.REPLACE(quoted, '\r\n', '\n'), '\r', '\n')


def _text(column):
    """Dates as ISO text. SQLite stores them as text already; on PostgreSQL the cast spares psycopg2
    building a datetime object per value, which cost more than the query itself."""
    from backoffice import db as dbmod
    return column.cast('text') if dbmod.is_postgres() else column


def _dt(value):
    return value.strftime('%Y-%m-%d %H:%M:%S') if isinstance(value, datetime.datetime) else \
        (value.isoformat() if isinstance(value, datetime.date) else ('' if value is None else value))


@dataclasses.dataclass
class Export:
    name: str
    label: str
    headers: list
    query: Callable            # (filters) -> select whose first column is the keyset key
    key: object                # the key column
    shape: Callable = None     # (rows, mask) -> rows, a batch at a time (may add columns)
    counter: Callable = None   # (filters) -> row count without the display joins
    copy_query: Callable = None  # (filters) -> the final columns in SQL, for PostgreSQL's COPY fast path
    plain: tuple = ()          # headers of columns the system fills with dates or numbers (not neutralised)

    @property
    def text_columns(self):
        """Indexes (in the output row) of the columns the formula rule applies to."""
        return tuple(i for i, h in enumerate(self.headers) if h not in self.plain)


def _registered_base(f):
    """Active registered specialties with everything an export prints; province and specialty filters."""
    q = (RegisteredSpecialty.select(RegisteredSpecialty.id, Registration.number, Person.name, Person.id_number,
                                    Enterprise.name, Enterprise.uscc, Province.name, Specialty.name,
                                    _text(RegisteredSpecialty.valid_from), _text(RegisteredSpecialty.valid_until),
                                    _text(Registration.registered_on))
         .join(Registration).join(Person).switch(Registration).join(Enterprise)
         .switch(Registration).join(Province, on=(Registration.province == Province.id))
         .switch(RegisteredSpecialty).join(Specialty)
         .where((RegisteredSpecialty.state == 'active') & (Registration.state == 'active')))
    if f.province_id:
        q = q.where(Registration.province == f.province_id)
    if f.specialty_id:
        q = q.where(RegisteredSpecialty.specialty == f.specialty_id)
    return q


def _registrations(f):
    q = _registered_base(f)
    if f.date_from:
        q = q.where(Registration.registered_on >= f.date_from)
    if f.date_to:
        q = q.where(Registration.registered_on <= f.date_to)
    return q


def _mask_column(index):
    def shape(rows, mask):
        for row in rows:
            row = list(row)
            row[index] = mask(row[index])
            yield row
    return shape


def _applications(f):
    return (_apps(f).select(Application.id, Application.number, Application.business_type, Application.state,
                            Person.name, Person.id_number, Enterprise.name, *(_text(c) for c in (
                                Application.created_at, Application.submitted_at, Application.reported_at,
                                Application.accepted_at, Application.decided_at, Application.announced_at,
                                Application.deadline)))
            .join(Person).switch(Application).join(Enterprise, pw.JOIN.LEFT_OUTER))


def _label(column, mapping):
    return pw.Case(column, list(mapping.items()), column)


def _masked(column):
    # must give what backoffice.validators.mask_id_number gives (a test compares the bytes on PostgreSQL)
    return pw.fn.CONCAT(pw.fn.LEFT(column, ID_MASK_HEAD), '*' * (18 - ID_MASK_HEAD - ID_MASK_TAIL),
                        pw.fn.RIGHT(column, ID_MASK_TAIL))


def _applications_copy(f):
    """The applications export with labels and masks done in SQL (PostgreSQL COPY path)."""
    n = _neutralised_sql
    return (_apps(f).select(n(Application.number), n(_label(Application.business_type, BUSINESS_TYPES)),
                            n(_label(Application.state, STATES)), n(Person.name), n(_masked(Person.id_number)),
                            n(Enterprise.name), *(_text(c) for c in (
                                Application.created_at, Application.submitted_at, Application.reported_at,
                                Application.accepted_at, Application.decided_at, Application.announced_at,
                                Application.deadline)))
            .join(Person).switch(Application).join(Enterprise, pw.JOIN.LEFT_OUTER).order_by(Application.id))


def _registrations_copy(f):
    q = _registrations(f)
    n = _neutralised_sql
    return q.select(n(Registration.number), n(Person.name), n(_masked(Person.id_number)), n(Enterprise.name),
                    n(Enterprise.uscc), n(Province.name), n(Specialty.name), _text(RegisteredSpecialty.valid_from),
                    _text(RegisteredSpecialty.valid_until), _text(Registration.registered_on)) \
        .order_by(RegisteredSpecialty.id)


def _shape_applications(rows, mask):
    types, states = BUSINESS_TYPES, STATES
    return [(r[0], r[1], types[r[2]], states[r[3]], r[4], mask(r[5])) + tuple(r[6:]) for r in rows]


def _notices(f):
    q = (NoticeItem.select(NoticeItem.id, Notice.number, Notice.title, Notice.published_at, Application.number,
                           Person.name, Person.id_number, Enterprise.name, Application.business_type,
                           Registration.number)
         .join(Notice).switch(NoticeItem).join(Application).join(Person)
         .switch(Application).join(Enterprise, pw.JOIN.LEFT_OUTER)
         .switch(Application).join(Registration, pw.JOIN.LEFT_OUTER)
         .where(Notice.state == 'published'))
    q = in_date_range(q, Notice.published_at, f)
    if f.province_id:
        q = q.where(Enterprise.province == f.province_id)
    if f.business_type:
        q = q.where(Application.business_type == f.business_type)
    return q


def _shape_notices(rows, mask):
    for row in rows:
        row = list(row)
        row[6], row[8] = mask(row[6]), BUSINESS_TYPES[row[8]]
        yield row


def _refusals(f):
    return (_apps(f, Application.decided_at).where(Application.state == 'refused')
            .select(Application.id, Application.number, Application.business_type, Person.name, Person.id_number,
                    Enterprise.name, _text(Application.decided_at), Application.refusal_text)
            .join(Person).switch(Application).join(Enterprise, pw.JOIN.LEFT_OUTER))


def _shape_refusals(rows, mask):
    rows = [list(r) for r in rows]
    grounds = {}
    for aid, text in (ApplicationRefusalGround.select(ApplicationRefusalGround.application, RefusalGround.text)
                      .join(RefusalGround).where(ApplicationRefusalGround.application.in_([r[0] for r in rows]))
                      .order_by(RefusalGround.sort).tuples()):
        grounds.setdefault(aid, []).append(text)
    for row in rows:
        row[2], row[4] = BUSINESS_TYPES[row[2]], mask(row[4])
        yield row[:7] + ['；'.join(grounds.get(row[0], []))] + row[7:]


def _expiry(f):
    today = datetime.date.today()
    until = f.date_to or today + datetime.timedelta(days=90)
    # here the date filter is the expiry window, not the registration date
    return _registered_base(f).where(RegisteredSpecialty.valid_until.between(f.date_from or today, until))


def _as_date(value):
    return datetime.date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _shape_expiry(rows, mask):
    today = datetime.date.today()
    for row in rows:
        row = list(row)
        row[3] = mask(row[3])
        yield [row[0], row[4], row[5], row[2], row[3], row[1], row[7], row[9], (_as_date(row[9]) - today).days]


EXPORTS = {e.name: e for e in [
    Export('registrations', '注册人员及专业有效期',
           ['注册编号', '姓名', '身份证号', '聘用企业', '统一社会信用代码', '注册省份', '注册专业', '有效期起', '有效期至', '注册日期'],
           _registrations, RegisteredSpecialty.id, _mask_column(3), copy_query=_registrations_copy,
           plain=('有效期起', '有效期至', '注册日期')),
    Export('applications', '注册申请及办理环节',
           ['申请编号', '业务类型', '状态', '姓名', '身份证号', '聘用企业', '创建时间', '提交时间', '上报时间', '受理时间',
            '决定时间', '公告时间', '办理期限'], _applications, Application.id, _shape_applications,
           lambda f: _apps(f).count(), _applications_copy,
           plain=('创建时间', '提交时间', '上报时间', '受理时间', '决定时间', '公告时间', '办理期限')),
    Export('notices', '公告及公告明细',
           ['公告编号', '公告标题', '发布时间', '申请编号', '姓名', '身份证号', '聘用企业', '业务类型', '注册编号'],
           _notices, NoticeItem.id, _shape_notices, plain=('发布时间',)),
    Export('refusals', '不予注册决定及依据',
           ['申请编号', '业务类型', '姓名', '身份证号', '聘用企业', '决定时间', '不予注册依据', '说明'],
           _refusals, Application.id, _shape_refusals,
           lambda f: _apps(f, Application.decided_at).where(Application.state == 'refused').count(),
           plain=('决定时间',)),
    Export('expiry', '企业注册专业到期清单（默认90天内）',
           ['聘用企业', '统一社会信用代码', '姓名', '身份证号', '注册编号', '注册专业', '有效期至', '剩余天数'],
           _expiry, RegisteredSpecialty.id, _shape_expiry, plain=('有效期至', '剩余天数')),
]}


def _keep(number):
    return number


def batches(export, f, full_id=False):
    """The export's rows (key column dropped), BATCH at a time, read by keyset; ID numbers masked
    unless full_id, text cells neutralised against formula injection.

    The batch runs on the raw cursor: values come as the driver gives them (SQLite: text dates),
    without peewee's per-value conversion, which cost more than everything else together.
    """
    mask = _keep if full_id else mask_id_number
    columns = export.text_columns
    last = 0
    while True:
        sql, params = export.query(f).where(export.key > last).order_by(export.key).limit(BATCH).sql()
        batch = database.execute_sql(sql, params).fetchall()
        if not batch:
            return
        last = batch[-1][0]
        shaped = export.shape(batch, mask) if export.shape else batch
        # csv.writer writes None as '' and dates as ISO text
        yield _neutralise_rows([row[1:] for row in shaped], columns)


def rows(export, f, full_id=False):
    for batch in batches(export, f, full_id):
        yield from batch


def count(export, f):
    return export.counter(f) if export.counter else export.query(f).count()


def log_full_id_export(user, export, total, fmt):
    """A full-ID export is logged like a helpdesk lookup (who, when, which export, how many rows);
    supervisors read it in 查询日志."""
    from models import LookupLog
    LookupLog.create(user=user, query=f'{export.label}（{fmt.upper()}）'[:60], kind=FULL_ID_EXPORT_KIND,
                     results=total)


FULL_ID_EXPORT_KIND = 'export_full_id'


def csv_chunks(export, f, full_id=False):
    """UTF-8 with BOM, so that Excel opens the Chinese correctly; yields bytes, a batch at a time."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')         # the same line ends as PostgreSQL's COPY
    buf.write('\ufeff')
    writer.writerow(export.headers)
    for batch in batches(export, f, full_id):
        writer.writerows(batch)
        yield buf.getvalue().encode('utf-8')
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue().encode('utf-8')


def write_csv(export, f, path, progress=None, fast=True, full_id=False):
    """Write the export to a CSV file. On PostgreSQL, exports that declare copy_query are written by
    the server itself (COPY … TO STDOUT WITH CSV): the same bytes as the keyset path, several times faster.
    A full-ID export always takes the keyset path (copy_query masks in SQL)."""
    from backoffice import db as dbmod
    if fast and not full_id and export.copy_query is not None and dbmod.is_postgres():
        return _copy_csv(export, f, path, progress)
    n = 0
    with open(path, 'wb') as fh:
        for chunk in csv_chunks(export, f, full_id):
            fh.write(chunk)
            n += chunk.count(b'\n')
            if progress:
                progress(max(n - 1, 0))
    return path


def _copy_csv(export, f, path, progress):
    sql, params = export.copy_query(f).sql()
    cursor = database.connection().cursor()
    select = cursor.mogrify(sql, params).decode('utf-8')
    with open(path, 'w', encoding='utf-8', newline='') as fh:
        fh.write('\ufeff')
        csv.writer(fh, lineterminator='\n').writerow(export.headers)
        cursor.copy_expert(f'COPY ({select}) TO STDOUT WITH (FORMAT csv)', fh)
    if progress:
        progress(count(export, f))
    return path


def write_xlsx(export, f, path, progress=None, full_id=False):
    """XLSX in constant memory. Text is always written as a string (write_string), never as a formula
    or a link, whatever it starts with; numbers as numbers."""
    import xlsxwriter
    book = xlsxwriter.Workbook(path, {'constant_memory': True, 'strings_to_formulas': False,
                                      'strings_to_urls': False, 'strings_to_numbers': False})
    sheet = book.add_worksheet(export.label[:31])
    bold = book.add_format({'bold': True})
    for j, header in enumerate(export.headers):
        sheet.write_string(0, j, header, bold)
    for i, row in enumerate(rows(export, f, full_id), 1):
        for j, v in enumerate(row):
            v = _dt(v)
            if v.__class__ is str:
                if v:
                    sheet.write_string(i, j, v)
            elif v is not None:
                sheet.write_number(i, j, v)
        if progress and i % 1000 == 0:
            progress(i)
    book.close()
    if progress:
        progress(count(export, f))
    return path

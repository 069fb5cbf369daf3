"""Exports (CSV with BOM for Excel, XLSX): every export honours the screen's filters and the user's
province scope, and reads in keyset batches so memory stays flat at any size."""
import csv
import dataclasses
import datetime
import io
from typing import Callable

import peewee as pw

from backoffice.validators import mask_id_number
from backoffice.workflow.states import BUSINESS_TYPES, STATES
from models import (database, Application, ApplicationRefusalGround, Enterprise, Notice, NoticeItem, Person, Province,
                    RefusalGround, RegisteredSpecialty, Registration, Specialty)

from .stats import _apps, in_date_range

BATCH = 5000


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
    shape: Callable = None     # (rows) -> rows, a batch at a time (may add columns)
    counter: Callable = None   # (filters) -> row count without the display joins
    copy_query: Callable = None  # (filters) -> the final columns in SQL, for PostgreSQL's COPY fast path


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
    def shape(rows):
        for row in rows:
            row = list(row)
            row[index] = mask_id_number(row[index])
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
    return pw.fn.CONCAT(pw.fn.LEFT(column, 6), '********', pw.fn.RIGHT(column, 4))


def _applications_copy(f):
    """The applications export with labels and masks done in SQL (PostgreSQL COPY path)."""
    return (_apps(f).select(Application.number, _label(Application.business_type, BUSINESS_TYPES),
                            _label(Application.state, STATES), Person.name, _masked(Person.id_number),
                            Enterprise.name, *(_text(c) for c in (
                                Application.created_at, Application.submitted_at, Application.reported_at,
                                Application.accepted_at, Application.decided_at, Application.announced_at,
                                Application.deadline)))
            .join(Person).switch(Application).join(Enterprise, pw.JOIN.LEFT_OUTER).order_by(Application.id))


def _registrations_copy(f):
    q = _registrations(f)
    return q.select(Registration.number, Person.name, _masked(Person.id_number), Enterprise.name, Enterprise.uscc,
                    Province.name, Specialty.name, _text(RegisteredSpecialty.valid_from),
                    _text(RegisteredSpecialty.valid_until), _text(Registration.registered_on)) \
        .order_by(RegisteredSpecialty.id)


def _shape_applications(rows):
    types, states, mask = BUSINESS_TYPES, STATES, mask_id_number
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


def _shape_notices(rows):
    for row in rows:
        row = list(row)
        row[6], row[8] = mask_id_number(row[6]), BUSINESS_TYPES[row[8]]
        yield row


def _refusals(f):
    return (_apps(f, Application.decided_at).where(Application.state == 'refused')
            .select(Application.id, Application.number, Application.business_type, Person.name, Person.id_number,
                    Enterprise.name, _text(Application.decided_at), Application.refusal_text)
            .join(Person).switch(Application).join(Enterprise, pw.JOIN.LEFT_OUTER))


def _shape_refusals(rows):
    rows = [list(r) for r in rows]
    grounds = {}
    for aid, text in (ApplicationRefusalGround.select(ApplicationRefusalGround.application, RefusalGround.text)
                      .join(RefusalGround).where(ApplicationRefusalGround.application.in_([r[0] for r in rows]))
                      .order_by(RefusalGround.sort).tuples()):
        grounds.setdefault(aid, []).append(text)
    for row in rows:
        row[2], row[4] = BUSINESS_TYPES[row[2]], mask_id_number(row[4])
        yield row[:7] + ['；'.join(grounds.get(row[0], []))] + row[7:]


def _expiry(f):
    today = datetime.date.today()
    until = f.date_to or today + datetime.timedelta(days=90)
    # here the date filter is the expiry window, not the registration date
    return _registered_base(f).where(RegisteredSpecialty.valid_until.between(f.date_from or today, until))


def _as_date(value):
    return datetime.date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _shape_expiry(rows):
    today = datetime.date.today()
    for row in rows:
        row = list(row)
        row[3] = mask_id_number(row[3])
        yield [row[0], row[4], row[5], row[2], row[3], row[1], row[7], row[9], (_as_date(row[9]) - today).days]


EXPORTS = {e.name: e for e in [
    Export('registrations', '注册人员及专业有效期',
           ['注册编号', '姓名', '身份证号', '聘用企业', '统一社会信用代码', '注册省份', '注册专业', '有效期起', '有效期至', '注册日期'],
           _registrations, RegisteredSpecialty.id, _mask_column(3), copy_query=_registrations_copy),
    Export('applications', '注册申请及办理环节',
           ['申请编号', '业务类型', '状态', '姓名', '身份证号', '聘用企业', '创建时间', '提交时间', '上报时间', '受理时间',
            '决定时间', '公告时间', '办理期限'], _applications, Application.id, _shape_applications,
           lambda f: _apps(f).count(), _applications_copy),
    Export('notices', '公告及公告明细',
           ['公告编号', '公告标题', '发布时间', '申请编号', '姓名', '身份证号', '聘用企业', '业务类型', '注册编号'],
           _notices, NoticeItem.id, _shape_notices),
    Export('refusals', '不予注册决定及依据',
           ['申请编号', '业务类型', '姓名', '身份证号', '聘用企业', '决定时间', '不予注册依据', '说明'],
           _refusals, Application.id, _shape_refusals,
           lambda f: _apps(f, Application.decided_at).where(Application.state == 'refused').count()),
    Export('expiry', '企业注册专业到期清单（默认90天内）',
           ['聘用企业', '统一社会信用代码', '姓名', '身份证号', '注册编号', '注册专业', '有效期至', '剩余天数'],
           _expiry, RegisteredSpecialty.id, _shape_expiry),
]}


def batches(export, f):
    """The export's rows (key column dropped), BATCH at a time, read by keyset.

    The batch runs on the raw cursor: values come as the driver gives them (SQLite: text dates),
    without peewee's per-value conversion, which cost more than everything else together.
    """
    last = 0
    while True:
        sql, params = export.query(f).where(export.key > last).order_by(export.key).limit(BATCH).sql()
        batch = database.execute_sql(sql, params).fetchall()
        if not batch:
            return
        last = batch[-1][0]
        shaped = export.shape(batch) if export.shape else batch
        yield [row[1:] for row in shaped]     # csv.writer writes None as '' and dates as ISO text


def rows(export, f):
    for batch in batches(export, f):
        yield from batch


def count(export, f):
    return export.counter(f) if export.counter else export.query(f).count()


def csv_chunks(export, f):
    """UTF-8 with BOM, so that Excel opens the Chinese correctly; yields bytes, a batch at a time."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')         # the same line ends as PostgreSQL's COPY
    buf.write('\ufeff')
    writer.writerow(export.headers)
    for batch in batches(export, f):
        writer.writerows(batch)
        yield buf.getvalue().encode('utf-8')
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue().encode('utf-8')


def write_csv(export, f, path, progress=None, fast=True):
    """Write the export to a CSV file. On PostgreSQL, exports that declare copy_query are written by
    the server itself (COPY … TO STDOUT WITH CSV): the same bytes as the keyset path, several times faster."""
    from backoffice import db as dbmod
    if fast and export.copy_query is not None and dbmod.is_postgres():
        return _copy_csv(export, f, path, progress)
    n = 0
    with open(path, 'wb') as fh:
        for chunk in csv_chunks(export, f):
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


def write_xlsx(export, f, path, progress=None):
    import xlsxwriter
    book = xlsxwriter.Workbook(path, {'constant_memory': True})
    sheet = book.add_worksheet(export.label[:31])
    bold = book.add_format({'bold': True})
    sheet.write_row(0, 0, export.headers, bold)
    for i, row in enumerate(rows(export, f), 1):
        sheet.write_row(i, 0, [_dt(v) for v in row])
        if progress and i % 1000 == 0:
            progress(i)
    book.close()
    if progress:
        progress(count(export, f))
    return path

"""Batch printing of certificates by provincial officers, with a print log."""
import os
import zipfile

from models import Certificate, PrintLog, Province, Registration, database, now

from backoffice.background import jobs
from backoffice.issuing.documents import write_print_batch
from backoffice.roles import ADMIN, PROVINCIAL

PART_SIZE = 500          # pages per PDF file: ReportLab holds a document in memory until save()


class PrintError(Exception):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.message, self.field = message, field


def selection(province_id, date_from=None, date_to=None, only_unprinted=True):
    query = (Certificate.select().join(Registration)
             .where((Registration.province == province_id) & (Certificate.state == 'valid')))
    if date_from:
        query = query.where(Certificate.issued_on >= date_from)
    if date_to:
        query = query.where(Certificate.issued_on <= date_to)
    if only_unprinted:
        query = query.where(Certificate.printed == False)  # noqa: E712
    return query.order_by(Certificate.id)


def request_batch(actor, province_id, date_from=None, date_to=None, only_unprinted=True, reason=''):
    """Check the request and queue a print job. Returns the Job."""
    if actor.role not in (PROVINCIAL, ADMIN):
        raise PrintError('您无权打印证书')
    try:
        province_id = int(province_id)
    except (TypeError, ValueError):
        raise PrintError('请选择省份', 'province') from None
    if actor.role == PROVINCIAL and province_id != actor.province_id:
        raise PrintError('只能打印本省的证书', 'province')
    province = Province.get_or_none(Province.id == province_id)
    if province is None:
        raise PrintError('请选择省份', 'province')
    if date_from and date_to and date_from > date_to:
        raise PrintError('开始日期不能晚于结束日期', 'date_to')
    query = selection(province_id, date_from, date_to, only_unprinted)
    count = query.count()
    if count == 0:
        raise PrintError('没有符合条件的证书可打印')
    reprints = query.where(Certificate.printed == True).count()  # noqa: E712
    if reprints and not (reason or '').strip():
        raise PrintError(f'所选证书中有 {reprints} 本已打印过，重印须填写原因', 'reason')
    title = f'{province.name} 证书批量打印（{count} 本）'
    return jobs.start('print_certificates', title, actor, {
        'province': province_id, 'date_from': date_from, 'date_to': date_to,
        'only_unprinted': bool(only_unprinted), 'reason': (reason or '').strip(), 'user': actor.id})


@jobs.handler('print_certificates')
def _print_job(job, params):
    certs = list(selection(params['province'], jobs.parse_date(params['date_from']),
                           jobs.parse_date(params['date_to']), params['only_unprinted']))
    if not certs:
        raise jobs.JobError('没有符合条件的证书可打印')
    out = jobs.job_dir(job)
    progress = jobs.Progress(job, len(certs))
    paths = []
    for k in range(0, len(certs), PART_SIZE):
        part = certs[k:k + PART_SIZE]
        path = os.path.join(out, f'certificates-{k // PART_SIZE + 1:03d}.pdf')
        write_print_batch(part, path, progress=lambda done, base=k: progress(base + done))
        paths.append(path)
        with database.atomic():
            PrintLog.insert_many([{'certificate': c.id, 'printed_by': params['user'], 'job': job.id,
                                   'printed_at': now(), 'reprint': c.printed,
                                   'reason': params['reason'] if c.printed else ''} for c in part]).execute()
            Certificate.update(printed=True).where(Certificate.id.in_([c.id for c in part])).execute()
    if len(paths) == 1:
        return paths[0]
    archive = os.path.join(out, 'certificates.zip')
    with zipfile.ZipFile(archive, 'w', zipfile.ZIP_STORED) as zf:
        for p in paths:
            zf.write(p, os.path.basename(p))
    return archive

"""Batch printing of certificates by provincial officers, with a print log."""
import os
import zipfile

from flask import current_app, has_app_context

from models import Certificate, PrintLog, Province, Registration, database, now

from backoffice.background import jobs
from backoffice.issuing.documents import write_print_batch
from backoffice.roles import ADMIN, PROVINCIAL
from backoffice.workflow import summaries

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


def _checked_province(actor, province_id, date_from, date_to):
    """The province a print of `actor` may cover (role, province scope, dates checked); PrintError."""
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
    return province


def count_batch(actor, province_id, date_from=None, date_to=None, only_unprinted=True):
    """How many certificates a print with these conditions would include, before it starts:
    (total, reprints). The same checks as request_batch (role, province scope, dates); PrintError."""
    province = _checked_province(actor, province_id, date_from, date_to)
    query = selection(province.id, date_from, date_to, only_unprinted)
    total = query.count()
    reprints = query.where(Certificate.printed == True).count() if total and not only_unprinted else 0  # noqa: E712
    return total, reprints


def request_batch(actor, province_id, date_from=None, date_to=None, only_unprinted=True, reason=''):
    """Check the request and queue a print job. Returns the Job."""
    province = _checked_province(actor, province_id, date_from, date_to)
    province_id = province.id
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


def processes_for(parts):
    """Worker processes for a print of `parts` files: PRINT_PROCESSES if set, else one per core
    beyond the first, at most 4 (one on a 2-core machine: the web server and the database need
    the other core); never more than there are files."""
    configured = (current_app.config.get('PRINT_PROCESSES') if has_app_context() else None) \
        or os.environ.get('PRINT_PROCESSES')
    try:
        wanted = int(configured)
    except (TypeError, ValueError):
        wanted = min(4, (os.cpu_count() or 1) - 1)
    return max(1, min(wanted, parts))


def _log_printed(job, params, part):
    with database.atomic():
        counted = summaries.Tracker(certs=[c.id for c in part])      # 待打印 (workflow.summaries)
        PrintLog.insert_many([{'certificate': c.id, 'printed_by': params['user'], 'job': job.id,
                               'printed_at': now(), 'reprint': c.printed,
                               'reason': params['reason'] if c.printed else ''} for c in part]).execute()
        Certificate.update(printed=True).where(Certificate.id.in_([c.id for c in part])).execute()
        counted.finish()


def _print_in_processes(job, params, parts, workers, progress):
    """Each file drawn by a worker process (spawned: no database connection or app state is
    inherited) from data this process reads. Memory stays bounded: at most `workers` files are in
    flight, each at most PART_SIZE pages, and the next file's data is read only when one is done."""
    import concurrent.futures
    import multiprocessing

    from backoffice.issuing.certificates import certificate_data_many
    from print_templates import batch

    done_pages = 0
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers,
                                                mp_context=multiprocessing.get_context('spawn')) as pool:
        pending = {}
        for part, path, _ in parts:
            while len(pending) >= workers:
                finished, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    done_pages += future.result()
                    _log_printed(job, params, pending.pop(future))
                progress(done_pages)
            pages = [batch.portable(d) for d in certificate_data_many(part)]
            pending[pool.submit(batch.write_pages, path, 'sheet', pages)] = part
        for future in concurrent.futures.as_completed(list(pending)):
            done_pages += future.result()
            _log_printed(job, params, pending.pop(future))
            progress(done_pages)


@jobs.handler('print_certificates')
def _print_job(job, params):
    certs = list(selection(params['province'], jobs.parse_date(params['date_from']),
                           jobs.parse_date(params['date_to']), params['only_unprinted']))
    if not certs:
        raise jobs.JobError('没有符合条件的证书可打印')
    out = jobs.job_dir(job)
    progress = jobs.Progress(job, len(certs))
    parts = [(certs[k:k + PART_SIZE], os.path.join(out, f'certificates-{k // PART_SIZE + 1:03d}.pdf'), k)
             for k in range(0, len(certs), PART_SIZE)]
    workers = processes_for(len(parts))
    if workers == 1:
        for part, path, k in parts:
            write_print_batch(part, path, progress=lambda done, base=k: progress(base + done))
            _log_printed(job, params, part)
    else:
        _print_in_processes(job, params, parts, workers, progress)
    paths = [path for _, path, _ in parts]
    if len(paths) == 1:
        return paths[0]
    archive = os.path.join(out, 'certificates.zip')
    with zipfile.ZipFile(archive, 'w', zipfile.ZIP_STORED) as zf:
        for p in paths:
            zf.write(p, os.path.basename(p))
    return archive

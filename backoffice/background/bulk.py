"""Background jobs for large exports and imports (see backoffice.background.jobs)."""
import os

from backoffice.background import imports, jobs


@jobs.handler('export')
def _export_job(job, params):
    from reports import exports, filters
    export = exports.EXPORTS[params['export']]
    # the province scope was applied when the job was requested and is part of the stored filters
    f = filters.parse({k: str(v) for k, v in params['filters'].items()})
    total = exports.count(export, f)
    if total == 0:
        raise jobs.JobError('没有符合条件的数据可导出')
    progress = jobs.Progress(job, total, every=5000)
    path = os.path.join(jobs.job_dir(job), f'{export.name}.{params["format"]}')
    writer = exports.write_xlsx if params['format'] == 'xlsx' else exports.write_csv
    writer(export, f, path, progress=lambda n: progress(min(n, total)), full_id=bool(params.get('full_id')))
    return path


@jobs.handler('import')
def _import_job(job, params):
    from models import Job
    Job.update(state='running').where(Job.id == job.id).execute()

    def progress(n):
        Job.update(progress=n, total=max(n, params.get('estimate', 0))).where(Job.id == job.id).execute()
    try:
        with jobs.input_file(params) as path:        # local disk, or fetched from object storage
            result = imports.run(params['kind'], path, params['filename'], progress=progress)
    except imports.ImportError_ as exc:
        raise jobs.JobError(exc.message) from None
    report = os.path.join(jobs.job_dir(job), 'rejected.csv')
    with open(report, 'wb') as fh:
        fh.write(imports.report_csv(result))
    Job.update(total=result.total, message=result.summary()).where(Job.id == job.id).execute()
    return report

"""Supervisor dashboard, exports and bulk imports."""
from flask import Response, abort, flash, jsonify, redirect, request, stream_with_context
from flask_admin import BaseView, expose
from flask_login import current_user

from backoffice import access
from backoffice.background import jobs
from backoffice.roles import ACCEPTOR, ADMIN, PROVINCIAL, SUPERVISOR
from backoffice.workflow.states import BUSINESS_TYPES
from models import Job, Province, Specialty
from reports import charts, exports, filters, stats

from .base import RoleMixin

STREAM_LIMIT = 2_000_000       # CSV up to this many rows streams straight to the browser


def _filter_form():
    provinces = ([current_user.province] if current_user.role == PROVINCIAL
                 else list(Province.select().order_by(Province.code)))
    return {'provinces': provinces, 'specialties': list(Specialty.select().order_by(Specialty.sort)),
            'types': BUSINESS_TYPES}


def _parse():
    try:
        return filters.parse(request.args, current_user), {}
    except filters.FilterError as exc:
        return None, exc.errors


class DashboardView(RoleMixin, BaseView):
    read_roles = (SUPERVISOR, ADMIN, PROVINCIAL)

    @expose('/')
    def index(self):
        f, errors = _parse()
        data = stats.dashboard(f) if f is not None else None
        figures = {}
        if data is not None:
            figures = {
                'by_month': charts.stacked_columns('按月申请量（按业务类型）', data['by_month'],
                                                   list(BUSINESS_TYPES.values()), '申请月份', '申请量（件）', '件'),
                'decisions': charts.columns('审批结果', [('准予注册', data['approved']), ('不予注册', data['refused'])],
                                            '决定', '申请数（件）', '件', colours=['#2e7d4f', '#c8423b'], width=340),
                'grounds': charts.bars('主要不予注册依据', data['grounds'], '不予注册依据', '引用次数（件）', '件',
                                       colour='#c8423b', width=900),
                'histogram': charts.columns('受理至决定用时', data['histogram'], '用时（日历日，天）',
                                            '申请数（件）', '件', colour='#8b5fbf', width=360),
                'by_province': charts.bars('各省有效注册人数', data['by_province'], '省份', '注册人数（人）', '人',
                                           width=360),
                'by_specialty': charts.bars('各专业有效注册人数', data['by_specialty'], '专业', '注册人数（人）', '人',
                                            colour='#3a9d5d', width=360),
                'expiring': charts.columns('即将到期的注册专业', data['expiring'], '距到期（天）', '注册专业（项）', '项',
                                           colour='#e07b39', width=360),
            }
        return self.render('admin/dashboard.html', data=data, figures=figures, errors=errors,
                           values=request.args, **_filter_form())


class ExportView(RoleMixin, BaseView):
    read_roles = (SUPERVISOR, ADMIN, PROVINCIAL)

    @expose('/')
    def index(self):
        f, errors = _parse()
        values = {k: v for k, v in request.args.items() if k != 'full_id'}
        return self.render('admin/exports.html', exports=exports.EXPORTS, errors=errors, values=values,
                           full_id_allowed=access.can_export_full_id(current_user), job_info=jobs.describe,
                           jobs=Job.select().where((Job.kind == 'export') & (Job.created_by == current_user.id))
                           .order_by(Job.id.desc()).limit(10), **_filter_form())

    @expose('/<export_name>.csv')
    def csv(self, export_name):
        export = exports.EXPORTS.get(export_name) or abort(404)
        f, errors = _parse()
        if f is None:
            flash('；'.join(errors.values()), 'error')
            return redirect(self.get_url('.index', **request.args))
        total = exports.count(export, f)
        if total == 0:
            flash('没有符合条件的数据可导出，请调整筛选条件', 'warning')
            return redirect(self.get_url('.index', **request.args))
        full_id = _full_id()
        if full_id:
            exports.log_full_id_export(current_user.id, export, total, 'csv')
        if total > STREAM_LIMIT:
            return self._job(export, f, 'csv', full_id)
        return Response(stream_with_context(exports.csv_chunks(export, f, full_id)),
                        mimetype='text/csv; charset=utf-8',
                        headers={'Content-Disposition': f"attachment; filename*=UTF-8''{_quote(export.label)}.csv"})

    @expose('/<export_name>.xlsx', methods=('POST',))
    def xlsx(self, export_name):
        export = exports.EXPORTS.get(export_name) or abort(404)
        f, errors = _parse()
        if f is None:
            flash('；'.join(errors.values()), 'error')
            return redirect(self.get_url('.index', **request.args))
        total = exports.count(export, f)
        if total == 0:
            flash('没有符合条件的数据可导出，请调整筛选条件', 'warning')
            return redirect(self.get_url('.index', **request.args))
        full_id = _full_id()
        if full_id:
            exports.log_full_id_export(current_user.id, export, total, 'xlsx')
        return self._job(export, f, 'xlsx', full_id)

    def _job(self, export, f, fmt, full_id=False):
        params = {'export': export.name, 'format': fmt, 'filters': f.as_args()}
        if full_id:
            params['full_id'] = True
        job = jobs.start('export', f'导出：{export.label}（{fmt.upper()}{"，完整身份证号" if full_id else ""}）',
                         current_user, params)
        return redirect(self.get_url('job.job_view', job_id=job.id))


class ImportView(RoleMixin, BaseView):
    read_roles = (ADMIN, ACCEPTOR)

    @expose('/', methods=('GET', 'POST'))
    def index(self):
        from backoffice.background.imports import KINDS
        errors, kind = {}, None
        if request.method == 'POST':
            kind = request.form.get('kind')
            file = request.files.get('file')
            if kind not in KINDS:               # each problem at its field, both at once
                errors['kind'] = '请选择导入类型'
            if file is None or not file.filename:
                errors['file'] = '请选择要导入的 CSV 或 XLSX 文件'
            if not errors:
                job = jobs.start('import', f'导入{KINDS[kind][0]}：{file.filename}', current_user,
                                 {'kind': kind, **jobs.save_input(file), 'filename': file.filename})
                return redirect(self.get_url('job.job_view', job_id=job.id))
        return self.render('admin/imports.html', kinds=KINDS, errors=errors, kind=kind,
                           jobs=Job.select().where((Job.kind == 'import') & (Job.created_by == current_user.id))
                           .order_by(Job.id.desc()).limit(10))


class JobView(RoleMixin, BaseView):
    """Progress and result of one's own background jobs (exports, imports, batch printing)."""
    read_roles = (SUPERVISOR, ADMIN, PROVINCIAL, ACCEPTOR)

    def is_visible(self):
        return False

    def _job(self, job_id):
        job = Job.get_or_none(Job.id == job_id)
        if job is None:
            abort(404)
        if job.created_by_id != current_user.id:
            abort(403)              # one's own jobs only, whatever the role
        return job

    @expose('/<int:job_id>/')
    def job_view(self, job_id):
        job = jobs.check(self._job(job_id))
        return self.render('admin/job.html', job=job, info=jobs.describe(job))

    @expose('/<int:job_id>/status')
    def status(self, job_id):
        job = jobs.check(self._job(job_id))          # a job whose worker died is settled on read
        return jsonify(progress=job.progress, total=job.total, **jobs.describe(job))

    @expose('/<int:job_id>/retry', methods=('POST',))
    def retry(self, job_id):
        try:
            job = jobs.retry(jobs.check(self._job(job_id)), current_user)
        except jobs.JobError as exc:
            flash(exc.message, 'error')
            return redirect(self.get_url('.job_view', job_id=job_id))
        flash('已重新提交任务', 'success')
        return redirect(self.get_url('.job_view', job_id=job.id))

    @expose('/<int:job_id>/download')
    def download(self, job_id):
        try:
            return jobs.send_result(self._job(job_id))
        except KeyError:
            abort(404)

    @expose('/')
    def index(self):
        own = [jobs.check(j) for j in Job.select().where(Job.created_by == current_user.id)
               .order_by(Job.id.desc()).limit(50)]
        return self.render('admin/jobs.html', jobs=[(j, jobs.describe(j)) for j in own])


def _full_id():
    """An export with whole ID numbers was asked for (full_id=1): only for the roles access.py names."""
    if request.values.get('full_id') != '1':
        return False
    if not access.can_export_full_id(current_user):
        abort(403)
    return True


def _quote(text):
    from urllib.parse import quote
    return quote(text)

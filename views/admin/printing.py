"""Certificate batch printing for provincial officers: request, progress, download; the print log."""
from flask import flash, redirect, request
from flask_admin import BaseView, expose
from flask_login import current_user

from backoffice.issuing import printing
from backoffice.validators import form_date
from backoffice.roles import ADMIN, PROVINCIAL, SUPERVISOR
from models import Job, PrintLog, Province, Registration

from .base import RoleMixin, SecureModelView


class PrintView(RoleMixin, BaseView):
    read_roles = (PROVINCIAL, ADMIN)

    def _provinces(self):
        if current_user.role == PROVINCIAL:
            return [current_user.province]
        return list(Province.select().order_by(Province.code))

    @expose('/', methods=('GET', 'POST'))
    def index(self):
        errors, values = {}, dict(request.form) if request.method == 'POST' else {'only_unprinted': 'y'}
        if request.method == 'POST':
            date_from = form_date(request.form.get('date_from'), 'date_from', errors)
            date_to = form_date(request.form.get('date_to'), 'date_to', errors)
            if not errors:
                try:
                    job = printing.request_batch(current_user, request.form.get('province'), date_from, date_to,
                                                 only_unprinted=bool(request.form.get('only_unprinted')),
                                                 reason=request.form.get('reason', ''))
                except printing.PrintError as exc:
                    errors[exc.field or 'form'] = exc.message
                else:
                    flash(f'已提交打印任务：{job.title}', 'success')
                    return redirect(self.get_url('job.job_view', job_id=job.id))
        jobs = (Job.select().where((Job.kind == 'print_certificates') & (Job.created_by == current_user.id))
                .order_by(Job.id.desc()).limit(20))
        return self.render('admin/print_index.html', provinces=self._provinces(), errors=errors, values=values,
                           jobs=jobs)


class PrintLogView(SecureModelView):
    read_roles = (PROVINCIAL, ADMIN, SUPERVISOR)
    province_field = Registration.province
    column_list = ('printed_at', 'certificate', 'printed_by', 'reprint', 'reason', 'job')
    column_labels = {'printed_at': '打印时间', 'printed_by': '打印人', 'reprint': '重印', 'reason': '重印原因',
                     'job': '打印任务', 'certificate': '证书'}
    column_default_sort = ('id', True)

    def scope(self, query):
        if current_user.role == PROVINCIAL:
            from models import Certificate
            query = query.switch(PrintLog).join(Certificate).join(Registration).where(
                Registration.province == current_user.province_id)
        return query

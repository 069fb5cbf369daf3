"""Certificate batch printing for provincial officers: request, progress, download; the print log."""
from flask import flash, redirect, request
from flask_admin import BaseView, expose
from flask_login import current_user

from backoffice.background import jobs
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
        """The conditions, how many certificates they select (shown before anything starts), then
        the print job. 统计数量 (action=count) only counts; 生成打印文件 starts the job only when the
        count the page showed (hidden field `count`) is still the count of the conditions sent, else
        it shows the new count and asks again (a client that sends no `count` is not asked)."""
        provinces = self._provinces()
        if request.method == 'POST':
            values = dict(request.form)
        else:
            values = {'only_unprinted': 'y', 'province': str(provinces[0].id) if provinces else ''}
        errors, count, notice = {}, None, None
        date_from = form_date(values.get('date_from'), 'date_from', errors)
        date_to = form_date(values.get('date_to'), 'date_to', errors)
        only_unprinted = bool(values.get('only_unprinted'))
        if not errors:
            try:
                count = printing.count_batch(current_user, values.get('province'), date_from, date_to,
                                             only_unprinted=only_unprinted)
            except printing.PrintError as exc:
                errors[exc.field or 'form'] = exc.message
        if request.method == 'POST' and request.form.get('action', 'print') == 'print' and count is not None:
            if 'count' in request.form and request.form['count'] != str(count[0]):
                notice = f'按当前条件将打印 {count[0]} 本证书，请核对数量后再点击“生成打印文件”'
            else:
                try:
                    job = printing.request_batch(current_user, values.get('province'), date_from, date_to,
                                                 only_unprinted=only_unprinted, reason=values.get('reason', ''))
                except printing.PrintError as exc:
                    errors[exc.field or 'form'] = exc.message
                else:
                    flash(f'已提交打印任务：{job.title}', 'success')
                    return redirect(self.get_url('job.job_view', job_id=job.id))
        own = (Job.select().where((Job.kind == 'print_certificates') & (Job.created_by == current_user.id))
               .order_by(Job.id.desc()).limit(20))
        return self.render('admin/print_index.html', provinces=provinces, errors=errors, values=values,
                           count=count, notice=notice, jobs=[(j, jobs.describe(j)) for j in own])


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

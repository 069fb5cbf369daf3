"""Announcements: build from approved decisions, preview, publish."""

from flask import abort, flash, redirect, request, send_file
from flask_admin import expose
from flask_login import current_user

from backoffice.issuing import documents, notices
from backoffice.workflow import states
from backoffice.validators import form_date
from backoffice.roles import ADMIN, REVIEWER

from .registry import NoticeView


class AnnouncementView(NoticeView):
    """公告 list plus the build / preview / publish pages. Published notices are never edited."""
    details_template = 'admin/notice_details.html'
    list_template = 'admin/notice_list.html'
    publish_roles = (ADMIN, REVIEWER)

    def _require_publisher(self):
        if current_user.role not in self.publish_roles:
            abort(403)

    @expose('/build/', methods=('GET', 'POST'))
    def build_view(self):
        self._require_publisher()
        errors = {}
        date_from = form_date(request.values.get('date_from'), 'date', errors)
        date_to = form_date(request.values.get('date_to'), 'date', errors)
        rows = list(notices.announceable().limit(2000)) if not errors else []
        if request.method == 'POST' and not errors:
            ids = request.form.getlist('ids') if request.form.get('mode') == 'selected' else None
            if ids is not None and not ids:
                errors['ids'] = '请勾选要公告的申请'
            else:
                try:
                    notice = notices.create_draft(current_user, ids=ids, date_from=date_from, date_to=date_to,
                                                  title=request.form.get('title') or None)
                except notices.NoticeError as exc:
                    errors['form'] = exc.message
                else:
                    flash(f'已生成公告草稿，共 {notice.items.count()} 条，请预览后发布', 'success')
                    return redirect(self.get_url('.details_view', id=notice.id))
        return self.render('admin/notice_build.html', rows=rows, errors=errors, types=states.BUSINESS_TYPES,
                           date_from=request.values.get('date_from', ''), date_to=request.values.get('date_to', ''))

    @expose('/details/')
    def details_view(self):
        notice = self.get_one(request.args.get('id'))
        if notice is None:
            flash('公告不存在', 'error')
            return redirect(self.get_url('.index_view'))
        return self.render(self.details_template, notice=notice,
                           rows=notices.items_for_display(notice, with_application=True),
                           can_publish=current_user.role in self.publish_roles)

    @expose('/publish/', methods=('POST',))
    def publish_view(self):
        self._require_publisher()
        notice_id = request.form.get('id', '')
        try:
            notice = notices.publish(int(notice_id), current_user)
        except ValueError:
            flash('公告不存在', 'error')
            return redirect(self.get_url('.index_view'))
        except notices.NoticeError as exc:
            flash(exc.message, 'error')
            return redirect(self.get_url('.details_view', id=notice_id))
        flash(f'公告 {notice.number} 已发布，{notice.items.count()} 项决定已生效', 'success')
        return redirect(self.get_url('.details_view', id=notice.id))

    @expose('/remove-item/', methods=('POST',))
    def remove_item_view(self):
        self._require_publisher()
        notice = self.get_one(request.form.get('id'))
        if notice is None:
            abort(404)
        try:
            removed = notices.remove_items(notice, [int(request.form.get('application', '0') or 0)])
        except ValueError:
            flash('所选申请无效', 'error')
        except notices.NoticeError as exc:
            flash(exc.message, 'error')
        else:
            flash(f'申请 {"、".join(removed)}：已从公告草稿中移出，可在下一期公告中列出', 'success')
        return redirect(self.get_url('.details_view', id=notice.id))

    @expose('/pdf/')
    def pdf_view(self):
        notice = self.get_one(request.args.get('id'))
        if notice is None or notice.state != 'published':
            abort(404)
        from io import BytesIO
        return send_file(BytesIO(documents.announcement_pdf(notice)), mimetype='application/pdf',
                         download_name=f'{notice.number}.pdf')

"""Announcements (公告): built from approved decisions, published in one transaction."""
import datetime

import peewee as pw

from models import Application, Enterprise, Notice, NoticeItem, Person, Registration, database, now

from backoffice.workflow import numbering, transitions, states
from backoffice.validators import mask_id_number


class NoticeError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def announceable():
    """Approved decisions not yet in any announcement, oldest decision first."""
    taken = NoticeItem.select(NoticeItem.application)
    return (Application.select().where((Application.state == 'approved') & (Application.id.not_in(taken)))
            .order_by(Application.decided_at, Application.id))


def create_draft(actor, ids=None, date_from=None, date_to=None, title=None):
    """A draft announcement of the chosen rows, or of every decision in the date range."""
    if actor.role not in transitions.get_transition('announce', 'initial').roles:
        raise NoticeError('您无权编制公告')
    if date_from and date_to and date_from > date_to:
        raise NoticeError('开始日期不能晚于结束日期')
    query = announceable()
    if ids is not None:
        try:
            ids = [int(i) for i in ids]
        except (TypeError, ValueError):
            raise NoticeError('所选申请无效') from None
        query = query.where(Application.id.in_(ids))
    if date_from:
        query = query.where(Application.decided_at >= datetime.datetime.combine(date_from, datetime.time.min))
    if date_to:
        query = query.where(Application.decided_at <= datetime.datetime.combine(date_to, datetime.time.max))
    app_ids = [a.id for a in query]
    if not app_ids:
        raise NoticeError('没有可公告的准予注册决定（所选范围内没有已准予且未公告的申请）')
    with database.atomic():
        notice = Notice.create(title=title or f'一级建造师注册公告（{datetime.date.today():%Y年%m月%d日}）',
                               created_by=actor)
        NoticeItem.insert_many([{'notice': notice.id, 'application': i} for i in app_ids]).execute()
    return notice


def remove_items(notice, app_ids):
    """Drop items from a draft before it is published; returns the numbers of the applications dropped
    (they become announceable again). An id that is not an item of this draft is refused."""
    with database.atomic():
        notice = Notice.get_by_id(notice.id)
        if notice.state != 'draft':
            raise NoticeError('已发布的公告不能修改，更正请另行发布公告')
        app_ids = {int(i) for i in app_ids}
        items = list(NoticeItem.select(NoticeItem, Application).join(Application)
                     .where((NoticeItem.notice == notice) & (NoticeItem.application.in_(app_ids))))
        if not app_ids or len(items) != len(app_ids):
            raise NoticeError('所选申请不在本公告草稿中（可能已被移出），请刷新页面')
        NoticeItem.delete().where(NoticeItem.id.in_([i.id for i in items])).execute()
    return sorted(i.application.number for i in items)


def publish(notice_id, actor, today=None):
    """Give the notice its number and date; every decision in it takes effect. All or nothing."""
    with database.atomic():
        notice = Notice.get_or_none(Notice.id == notice_id)
        if notice is None:
            raise NoticeError('公告不存在')
        if notice.state != 'draft':
            raise NoticeError('该公告已发布，不能重复发布或修改；更正请另行发布公告')
        items = list(NoticeItem.select().where(NoticeItem.notice == notice).order_by(NoticeItem.id))
        if not items:
            raise NoticeError('公告没有任何条目，不能发布')
        number = numbering.notice_number(today)
        updated = (Notice.update(state='published', number=number, published_by=actor, published_at=now())
                   .where((Notice.id == notice.id) & (Notice.state == 'draft')).execute())
        if updated != 1:
            raise NoticeError('该公告刚刚已由他人发布')
        try:
            transitions.perform_many([i.application_id for i in items], 'announce', actor, comment=f'公告 {number}',
                                  today=today)
        except states.WorkflowError as exc:
            raise NoticeError(f'公告不能发布：{exc}') from None
        except pw.IntegrityError:
            raise NoticeError('公告不能发布：注册数据发生冲突（可能有人同时办理了同一人员的注册），请刷新后重试') from None
    return Notice.get_by_id(notice_id)


def items_for_display(notice, with_application=False):
    """Rows for the public page and the PDF: masked ID numbers only. with_application (the staff's
    preview of a draft) puts the application's id and number before each row."""
    from backoffice.workflow.states import BUSINESS_TYPES
    from backoffice.workflow.rules import chosen_specialties
    rows = []
    query = (NoticeItem.select(NoticeItem, Application, Person, Enterprise)
             .join(Application).join(Person).switch(Application).join(Enterprise, on=(
                 Application.enterprise == Enterprise.id)).where(NoticeItem.notice == notice)
             .order_by(NoticeItem.id))
    for i, item in enumerate(query, 1):
        app = item.application
        reg = Registration.get_or_none(Registration.id == app.registration_id) if app.registration_id else None
        row = (i, app.person.name, mask_id_number(app.person.id_number), app.enterprise.name,
               BUSINESS_TYPES[app.business_type], '、'.join(s.name for s in chosen_specialties(app)) or '—',
               reg.number if reg else '—')
        rows.append((app.id, app.number, row) if with_application else row)
    return rows

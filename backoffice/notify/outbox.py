"""The notification outbox: rows written in the same transaction as the state change, SMS sent
after commit by the job queue.

Writing: `on_transition(ctx)` / `on_transitions(contexts)` are called by
workflow.transitions.perform / perform_many after the transition's effect, inside its transaction;
`on_lapse(ids, reason, today)` by workflow.lifecycle in each lapse batch. RULES below says, per
transition name (and business type), which template goes to whom. Every message is an in-app row
(delivered when committed) and, when the recipient has a mobile number, an SMS row in state
`queued` — unless it is an information message and the recipient switched SMS off for those.
A rollback of the state change rolls the rows back with it: nothing is sent for a change that
did not happen, and nothing is lost for one that did.

Sending (`send_due`, run by backoffice.notify.tasks every minute and right after a request that
wrote rows): each due row is claimed with a guarded UPDATE (state and claim time must still be
what this worker read), so two workers never send the same row. A gateway error moves the row to
`retrying` with exponential backoff (NOTIFY_RETRY_BASE_SECONDS × 2^(attempts-1)), and after
NOTIFY_MAX_ATTEMPTS to `failed`, where administrators see it and can resend. A row claimed by a
worker that died (claim older than NOTIFY_CLAIM_STALE_SECONDS) is claimed again: a message is
delayed, never dropped (at-least-once: a worker killed between the gateway's answer and the
final UPDATE may cause one duplicate).
"""
import dataclasses
import datetime
import logging

from flask import current_app, g, has_request_context
from peewee import fn

from backoffice import metrics
from backoffice.db import Prepared, bulk_insert
from models import (Enterprise, EnterpriseSignup, Notification, NotifyPreference, Person, SmsMessage, User,
                    database, now)

from backoffice.intake import sms
from backoffice.notify import templates
from backoffice.workflow.states import BUSINESS_TYPES, LAPSE_REASONS, WITH_ENTERPRISE

log = logging.getLogger(__name__)

DEFAULTS = {'NOTIFY_MAX_ATTEMPTS': 6, 'NOTIFY_RETRY_BASE_SECONDS': 60, 'NOTIFY_CLAIM_STALE_SECONDS': 300,
            'NOTIFY_BATCH': 200}
DELIVERY_STATES = {'queued': '待发送', 'sending': '发送中', 'sent': '已发送', 'retrying': '等待重试', 'failed': '发送失败'}
CHANNELS = {'sms': '短信', 'inapp': '站内消息'}
PERSON, ENTERPRISE = 'person', 'enterprise'


def setting(name):
    try:
        return int(current_app.config.get(name, DEFAULTS[name]))
    except RuntimeError:
        return DEFAULTS[name]


@dataclasses.dataclass(frozen=True)
class Rule:
    """Transition `transition` (on these business types; () = any) sends `template` to each recipient."""
    transition: str
    recipients: tuple            # ((PERSON | ENTERPRISE, template key), ...)
    types: tuple = ()
    except_types: tuple = ()


_CANCELLED = ((PERSON, 'cancelled'), (ENTERPRISE, 'enterprise_cancelled'))
RULES = (
    Rule('submit', ((ENTERPRISE, 'enterprise_inbox'),), types=WITH_ENTERPRISE + ('cancellation',)),
    Rule('return', ((PERSON, 'returned'),)),
    Rule('report', ((PERSON, 'reported'),)),
    Rule('request_correction', ((PERSON, 'correction'),)),
    Rule('accept', ((PERSON, 'accepted'),)),
    Rule('approve', ((PERSON, 'approved'),), except_types=('cancellation',)),
    Rule('approve', _CANCELLED, types=('cancellation',)),          # 准予强制注销: in effect at once
    Rule('refuse', ((PERSON, 'refused'),)),
    Rule('announce', ((PERSON, 'announced'),), except_types=('cancellation',)),
    Rule('confirm_cancel', _CANCELLED),
    Rule('registry_cancel', _CANCELLED),
    Rule('registry_change', ((PERSON, 'changed'),)),
)


def rules_for(name, business_type):
    return [r for r in RULES if r.transition == name and (not r.types or business_type in r.types)
            and business_type not in r.except_types]


# --- writing ----------------------------------------------------------------------

@dataclasses.dataclass
class Message:
    template: str
    values: dict
    person: int = None
    enterprise: int = None
    application: int = None


def on_transition(ctx):
    """Called by perform() inside its transaction, after the effect."""
    on_transitions([ctx])


def on_transitions(contexts):
    """Called by perform_many() inside its transaction, after the effects (one batch of writes)."""
    contexts = [c for c in contexts if rules_for(c.transition.name, c.app.business_type)]
    if not contexts:
        return 0
    people = _by_id(Person, {c.app.person_id for c in contexts})
    firms = _by_id(Enterprise, {c.app.enterprise_id for c in contexts if c.app.enterprise_id})
    messages = []
    for ctx in contexts:
        app, person = ctx.app, people.get(ctx.app.person_id)
        firm = firms.get(app.enterprise_id)
        values = {'name': person.name if person else '', 'number': app.number,
                  'business': BUSINESS_TYPES.get(app.business_type, ''), 'enterprise': firm.name if firm else '',
                  'comment': ctx.comment or '见系统中的办理意见', 'date': ctx.today.isoformat()}
        for rule in rules_for(ctx.transition.name, app.business_type):
            for who, key in rule.recipients:
                if who == PERSON:
                    messages.append(Message(key, values, person=app.person_id, application=app.id))
                elif app.enterprise_id:
                    messages.append(Message(key, values, enterprise=app.enterprise_id, application=app.id))
    messages += _bans([c for c in contexts if c.transition.name in BAN_TRANSITIONS], people)
    return write(messages)


BAN_TRANSITIONS = ('refuse', 'registry_cancel')      # their effects may start a ban (workflow.effects)


def _bans(contexts, people):
    """A ban started by these transitions' effects (a Sanction of the application): the holder is told."""
    if not contexts:
        return []
    from models import Sanction
    from backoffice.workflow.states import SANCTIONS
    out = []
    for ban in Sanction.select().where(Sanction.application.in_([c.app.id for c in contexts])):
        person = people.get(ban.person_id)
        out.append(Message('banned', {'name': person.name if person else '',
                                      'reason': SANCTIONS.get(ban.kind, ('', ban.kind))[1],
                                      'date': ban.starts_on.isoformat(), 'until': ban.ends_on.isoformat()},
                           person=ban.person_id, application=ban.application_id))
    return out


def on_lapse(registration_ids, reason, today):
    """Called by workflow.lifecycle in each lapse batch's transaction: the holder and the enterprise."""
    from models import Registration
    regs = []
    for k in range(0, len(registration_ids), 900):        # plain tuples: a lapse batch has thousands
        regs += list(Registration.select(Registration.person, Registration.enterprise, Registration.number)
                     .where(Registration.id.in_(registration_ids[k:k + 900])).tuples())
    names = _values(Person.name, {person for person, _e, _n in regs})
    firms = _values(Enterprise.name, {ent for _p, ent, _n in regs if ent})
    reason_text, day = LAPSE_REASONS.get(reason, reason), today.isoformat()
    messages = [Message('lapsed', {'name': names.get(person, ''), 'reg_number': number, 'date': day,
                                   'reason': reason_text, 'enterprise': firms.get(ent, '')}, person=person)
                for person, ent, number in regs]
    return write(messages)


def _values(field, ids):
    """{id: value of field} for the ids, 900 at a time, as plain tuples."""
    model, ids, out = field.model, sorted(i for i in ids if i), {}
    for k in range(0, len(ids), 900):
        out.update(model.select(model.id, field).where(model.id.in_(ids[k:k + 900])).tuples())
    return out


def _by_id(model, ids):
    """{id: row} for the ids, 900 at a time."""
    ids = sorted(i for i in ids if i)
    out = {}
    for k in range(0, len(ids), 900):
        out.update({row.id: row for row in model.select().where(model.id.in_(ids[k:k + 900]))})
    return out


def enterprise_mobiles(enterprise_ids):
    """{enterprise id: the contact mobile}: the approved sign-up's, else its first user's with a number."""
    ids = sorted(set(enterprise_ids))
    out = {}
    for k in range(0, len(ids), 900):
        chunk = ids[k:k + 900]
        for user in (User.select(User.enterprise, User.mobile)
                     .where(User.enterprise.in_(chunk) & (User.mobile != '') & (User.active == True))  # noqa: E712
                     .order_by(User.id.desc())):
            out[user.enterprise_id] = user.mobile
        for row in (EnterpriseSignup.select(EnterpriseSignup.enterprise, EnterpriseSignup.mobile)
                    .where(EnterpriseSignup.enterprise.in_(chunk) & (EnterpriseSignup.state == 'approved'))):
            out[row.enterprise_id] = row.mobile
    return out


def write(messages):
    """Insert the in-app and SMS rows of `messages` (in the caller's transaction). Returns rows written."""
    if not messages:
        return 0
    texts = templates.load()
    person_ids = sorted({m.person for m in messages if m.person})
    person_mobiles = _values(Person.mobile, person_ids)
    users = {}
    for k in range(0, len(person_ids), 900):
        users.update({person: (user, mobile) for user, person, mobile in User.select(User.id, User.person, User.mobile)
                      .where(User.person.in_(person_ids[k:k + 900]) & (User.role == 'applicant')).tuples()})
    sms_off = {p.user_id for p in NotifyPreference.select().where(NotifyPreference.sms_info == False)}  # noqa: E712
    firm_mobiles = enterprise_mobiles({m.enterprise for m in messages if m.enterprise})
    stamp = now()
    rows = []
    for m in messages:
        text, needs_action = texts[m.template]
        body = templates.render(text, m.values)
        if m.person:
            user, account_mobile = users.get(m.person, (None, ''))
            # the mobile the holder verified for their account, else the one on the person record
            mobile = account_mobile or person_mobiles.get(m.person, '')
            wants_sms = needs_action or user not in sms_off
        else:
            user, mobile, wants_sms = None, firm_mobiles.get(m.enterprise, ''), True
        base = {'person': m.person, 'user': user, 'enterprise': m.enterprise, 'application': m.application,
                'template_key': m.template, 'text': body, 'needs_action': needs_action, 'created_at': stamp,
                'attempts': 0, 'last_error': ''}
        rows.append({**base, 'channel': 'inapp', 'mobile': '', 'state': 'sent', 'sent_at': stamp,
                     'next_attempt_at': None})
        if mobile and wants_sms:
            rows.append({**base, 'channel': 'sms', 'mobile': mobile, 'state': 'queued', 'sent_at': None,
                         'next_attempt_at': stamp})
    # through the driver: building one large INSERT in peewee cost more than the write (a lapse batch)
    bulk_insert(Notification, _COLUMNS, ([r[name] for name in _FIELDS] for r in rows))
    kick()
    return len(rows)


_FIELDS = ('person', 'user', 'enterprise', 'application', 'channel', 'template_key', 'text', 'mobile',
           'needs_action', 'state', 'attempts', 'next_attempt_at', 'last_error', 'created_at', 'sent_at')
_COLUMNS = tuple(Notification._meta.fields[name].column_name for name in _FIELDS)


def kick():
    """Ask for a send right after this request (backoffice.notify.tasks queues it after commit)."""
    if has_request_context():
        g.notify_kick = True


# --- sending ----------------------------------------------------------------------

def _due(clock, limit):
    stale = clock - datetime.timedelta(seconds=setting('NOTIFY_CLAIM_STALE_SECONDS'))
    return list(Notification.select(Notification.id, Notification.state, Notification.claimed_at)
                .where((Notification.channel == 'sms')
                       & ((Notification.state.in_(('queued', 'retrying')) & (Notification.next_attempt_at <= clock))
                          | ((Notification.state == 'sending') & (Notification.claimed_at < stale))))
                .order_by(Notification.next_attempt_at, Notification.id).limit(limit))


def claim(row, clock):
    """Guarded claim: only the worker whose UPDATE finds the row as it read it gets it."""
    claimed = row.claimed_at
    cond = (Notification.id == row.id) & (Notification.state == row.state)
    cond &= Notification.claimed_at.is_null() if claimed is None else (Notification.claimed_at == claimed)
    return (Notification.update(state='sending', claimed_at=clock, attempts=Notification.attempts + 1)
            .where(cond).execute()) == 1


def backoff(attempts):
    return datetime.timedelta(seconds=setting('NOTIFY_RETRY_BASE_SECONDS') * 2 ** max(0, attempts - 1))


def send_one(row_id, clock, gw):
    """Deliver one claimed row; returns its new state."""
    row = Notification.get_by_id(row_id)
    mine = (Notification.id == row.id) & (Notification.state == 'sending') & (Notification.claimed_at == clock)
    try:
        gw.send(row.mobile, row.text)
    except Exception as exc:        # a gateway error, or anything else: the row must not stay claimed
        error = str(exc)[:300] or type(exc).__name__
        log.warning('notification %s: SMS not sent (attempt %s): %s', row.id, row.attempts, error)
        SmsMessage.create(mobile=row.mobile, text=row.text[:300], created_at=clock, purpose='notify',
                          gateway=gw.name, status='failed', error=error)
        metrics.sms('notify', 'failed')
        if row.attempts >= setting('NOTIFY_MAX_ATTEMPTS'):
            Notification.update(state='failed', last_error=error, claimed_at=None).where(mine).execute()
            return 'failed'
        Notification.update(state='retrying', last_error=error, claimed_at=None,
                            next_attempt_at=clock + backoff(row.attempts)).where(mine).execute()
        return 'retrying'
    SmsMessage.create(mobile=row.mobile, text=row.text[:300], created_at=clock, purpose='notify',
                      gateway=gw.name, status='sent')
    metrics.sms('notify', 'sent')
    Notification.update(state='sent', sent_at=clock, claimed_at=None, last_error='').where(mine).execute()
    return 'sent'


def send_due(clock=None, limit=None, gw=None):
    """Send every due SMS row (claimed one by one). Returns {'sent': n, 'retrying': n, 'failed': n}."""
    clock = clock or now()
    gw = gw or sms.gateway()
    counts = {'sent': 0, 'retrying': 0, 'failed': 0}
    for row in _due(clock, limit or setting('NOTIFY_BATCH')):
        with database.atomic():
            won = claim(row, clock)
        if not won:
            continue                  # another worker has it
        counts[send_one(row.id, clock, gw)] += 1
    return counts


def resend(ids, clock=None):
    """Administrators: put failed (or retrying) SMS rows back in the queue. Returns how many."""
    clock = clock or now()
    return (Notification.update(state='queued', next_attempt_at=clock, attempts=0, claimed_at=None)
            .where(Notification.id.in_(list(ids)) & (Notification.channel == 'sms')
                   & Notification.state.in_(('failed', 'retrying'))).execute())


# --- the message centre -----------------------------------------------------------

def inbox_query(user):
    """In-app messages of a signed-in applicant (their person) or enterprise user (their enterprise)."""
    inapp = Notification.channel == 'inapp'
    if getattr(user, 'person_id', None) and user.role == 'applicant':
        return Notification.select().where(inapp & (Notification.person == user.person_id))
    if getattr(user, 'enterprise_id', None) and user.role == 'enterprise':
        return Notification.select().where(inapp & (Notification.enterprise == user.enterprise_id))
    return None


def _unread(column):
    return Prepared(lambda owner: Notification.select(fn.COUNT(Notification.id)).where(
        (Notification.channel == 'inapp') & (column == owner) & Notification.read_at.is_null()))


# shown in every portal page's navigation: composed once (db.Prepared)
_UNREAD = {'applicant': (_unread(Notification.person), 'person_id'),
           'enterprise': (_unread(Notification.enterprise), 'enterprise_id')}


def unread_count(user):
    """How many in-app messages the user has not read (the same messages as inbox_query)."""
    query, owner = _UNREAD.get(getattr(user, 'role', None), (None, None))
    if query is None or not getattr(user, owner, None):
        return 0
    return query.rows(getattr(user, owner))[0][0]


def mark_read(user, ids=None, clock=None):
    """Mark the user's messages read (all unread ones when ids is None). Returns how many."""
    query = inbox_query(user)
    if query is None:
        return 0
    cond = (Notification.channel == 'inapp') & Notification.read_at.is_null()
    cond &= (Notification.person == user.person_id) if user.role == 'applicant' else \
        (Notification.enterprise == user.enterprise_id)
    if ids is not None:
        cond &= Notification.id.in_(list(ids) or [0])
    return Notification.update(read_at=clock or now()).where(cond).execute()


def sms_info_enabled(user):
    pref = NotifyPreference.get_or_none(NotifyPreference.user == user.id)
    return True if pref is None else pref.sms_info


def set_sms_info(user, enabled):
    with database.atomic():
        updated = NotifyPreference.update(sms_info=bool(enabled)).where(NotifyPreference.user == user.id).execute()
        if not updated:
            NotifyPreference.create(user=user.id, sms_info=bool(enabled))

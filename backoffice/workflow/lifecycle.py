"""The registration's life over time (domain §12): the daily lapse (失效, Art. 16).

Registration changes are declared like the application workflow: each names its source and
target states and who fires it. `run_lapse(today)` finds what is due and applies it in bounded
batches; each batch is one transaction holding the state change, the voided certificates and
the audit events. Every step re-reads the state it changes, so running the task twice (or two
consumers at once) changes nothing the second time.

    1. a specialty whose valid-until date has passed without renewal → expired
    2. a registration with no valid specialty left → lapsed ('expired')
    3. a registration whose holder is over 65 → lapsed ('age')
    4. a registration whose enterprise is bankrupt, or lost its licence or 资质 → lapsed ('enterprise')
"""
import dataclasses
import datetime

from peewee import fn

from models import Enterprise, Person, RegisteredSpecialty, Registration, Specialty, database, now

from backoffice import audit
from backoffice.db import is_postgres
from backoffice.roles import ADMIN, REVIEWER
from backoffice.notify import outbox
from backoffice.workflow import changes, summaries
from backoffice.workflow.calendar import add_years
from backoffice.workflow.states import LAPSE_REASONS, SPECIALTY_STATES, SYSTEM_ROLE

BATCH = 5000
MAX_AGE = 65


@dataclasses.dataclass(frozen=True)
class RegistrationTransition:
    name: str
    label: str
    sources: tuple
    target: str
    roles: tuple


REGISTRATION_TRANSITIONS = {t.name: t for t in (
    RegistrationTransition('expire_specialty', '专业有效期届满', ('active',), 'expired', (SYSTEM_ROLE,)),
    RegistrationTransition('lapse', '注册失效', ('active',), 'lapsed', (SYSTEM_ROLE,)),
)}


def age_limit_birth_date(today):
    """Holders born before this date are over 65 on `today` (the 65th birthday itself is not over)."""
    return add_years(today, -MAX_AGE)


def _sql(text, params=()):
    """Raw SQL with '?' placeholders on either backend: a list of thousands of ids costs
    little to bind this way, where building the same IN list through the query builder cost more
    than the statement (SQLite is serialised already; PostgreSQL rows are locked FOR UPDATE)."""
    if is_postgres():
        text = text.replace('?', '%s')
    return database.execute_sql(text, params)


def _marks(values):
    return ', '.join('?' * len(values))


def _event(action, registration_id, from_state, to_state, comment, stamp):
    return {'application': None, 'object_type': 'registration', 'object_id': registration_id, 'action': action,
            'actor': None, 'actor_role': SYSTEM_ROLE, 'from_state': from_state, 'to_state': to_state,
            'comment': comment, 'created_at': stamp}


def _expire_specialties(today, batch):
    """Step 1. Returns how many specialties expired."""
    t = REGISTRATION_TRANSITIONS['expire_specialty']
    names = {s.id: s.name for s in Specialty.select(Specialty.id, Specialty.name)}
    lock = ' FOR UPDATE' if is_postgres() else ''
    done = 0
    while True:
        with database.atomic():
            # on the (state, valid_until) index, no sort: each batch moves its rows out of 'active'
            rows = _sql('SELECT id, registration_id, specialty_id, valid_until FROM registered_specialty '
                        f'WHERE state = ? AND valid_until < ? LIMIT {int(batch)}', ('active', today)).fetchall()
            if not rows:
                return done
            # the summary counters lock registrations before their specialties (summaries.Tracker),
            # then the rows found are re-read under that lock
            counted = summaries.Tracker(regs={r[1] for r in rows})
            found = [r[0] for r in rows]
            rows = _sql('SELECT id, registration_id, specialty_id, valid_until FROM registered_specialty '
                        f'WHERE state = ? AND valid_until < ? AND id IN ({_marks(found)}){lock}',
                        ('active', today, *found)).fetchall()
            ids = [r[0] for r in rows]
            if not ids:
                continue                # another run expired them meanwhile
            _sql(f'UPDATE registered_specialty SET state = ? WHERE state = ? AND id IN ({_marks(ids)})',
                 [t.target, 'active', *ids])
            counted.finish()
            changes.record(sorted({r[1] for r in rows}), 'specialty_expired')
            stamp = now()
            audit.record_many([_event(t.name, reg_id, 'active', t.target,
                                      f'{names.get(spec_id, spec_id)}：有效期至 {until}，{SPECIALTY_STATES[t.target]}',
                                      stamp)
                               for (_id, reg_id, spec_id, until) in rows])
            done += len(rows)


def _due_queries(today):
    """Step 2-4: (reason, query of active registration ids that must lapse for it)."""
    active = Registration.state == 'active'
    no_valid = ~fn.EXISTS(RegisteredSpecialty.select(RegisteredSpecialty.id).where(
        (RegisteredSpecialty.registration == Registration.id) & (RegisteredSpecialty.state == 'active')))
    return [
        ('age', Registration.select(Registration.id).join(Person, on=(Person.id == Registration.person))
         .where(active & (Person.birth_date < age_limit_birth_date(today)))),
        ('enterprise', Registration.select(Registration.id)
         .join(Enterprise, on=(Enterprise.id == Registration.enterprise))
         .where(active & (Enterprise.status != 'normal'))),
        ('expired', Registration.select(Registration.id).where(active & no_valid)),
    ]


def _lapse(ids, reason, today):
    """Lapse the registrations `ids` that are still active: one transaction. Returns how many."""
    t = REGISTRATION_TRANSITIONS['lapse']
    lock = ' FOR UPDATE' if is_postgres() else ''
    with database.atomic():
        still = [r for (r,) in _sql(f'SELECT id FROM registration WHERE state = ? AND id IN ({_marks(ids)}){lock}',
                                    ['active', *ids]).fetchall()]
        if not still:
            return 0
        counted = summaries.Tracker(regs=still)          # the home and dashboard counters
        marks = _marks(still)
        _sql(f'UPDATE registration SET state = ?, lapsed_on = ?, end_reason = ? WHERE state = ? AND id IN ({marks})',
             [t.target, today, reason, 'active', *still])
        _sql(f'UPDATE registered_specialty SET state = ? WHERE state = ? AND registration_id IN ({marks})',
             ['lapsed', 'active', *still])
        _sql(f'UPDATE certificate SET state = ? WHERE state = ? AND registration_id IN ({marks})',
             ['void', 'valid', *still])
        counted.finish()
        changes.record(still, 'lapsed')
        stamp = now()
        audit.record_many([_event(t.name, reg_id, 'active', t.target, f'{t.label}：{LAPSE_REASONS[reason]}', stamp)
                           for reg_id in still])
        outbox.on_lapse(still, reason, today)       # holder told, in this batch's transaction
        return len(still)


def run_lapse(today=None, batch=BATCH, progress=None):
    """The daily task. Returns counts: {'specialties_expired': n, 'expired': n, 'age': n, 'enterprise': n}."""
    today = today or datetime.date.today()
    counts = {'specialties_expired': _expire_specialties(today, batch)}
    if progress:
        progress('specialties_expired', counts['specialties_expired'])
    for reason, query in _due_queries(today):
        # one scan finds what is due (ids only); the changes are then made in bounded transactions
        due = sorted(r for (r,) in query.tuples())
        counts[reason] = 0
        for k in range(0, len(due), batch):
            counts[reason] += _lapse(due[k:k + batch], reason, today)
            if progress:
                progress(reason, counts[reason])
    return counts


# --- 依法注销 (Art. 17): the registry cancels a registration ------------------------------

# Reasons the registry itself cancels for (CancellationReason texts); the holder's own reasons
# such as 已与聘用单位解除聘用合同关系 stay with the holder's 注销 application.
REGISTRY_REASONS = ('聘用单位破产', '聘用单位被吊销营业执照', '聘用单位被吊销或者撤回资质证书',
                    '注册有效期满且未延续注册', '年龄超过65周岁', '死亡或不具有完全民事行为能力', '依法被撤销注册',
                    '依法被吊销注册证书', '受到刑事处罚', '其他导致注册失效的情形', '法律、法规规定应当注销注册的其他情形')


class CancelError(Exception):
    def __init__(self, errors):
        super().__init__('；'.join(errors.values()))
        self.errors = errors            # {field: Chinese message}


def registry_reasons():
    from models import CancellationReason
    return list(CancellationReason.select().where(CancellationReason.text.in_(REGISTRY_REASONS))
                .order_by(CancellationReason.sort))


def cancel_by_registry(registration, actor, reason_ids, explanation, today=None, deception=False):
    """Open and decide a 依法注销 in one transaction: the decision record is an Application of type
    注销 started by the registry, with its reasons and explanation; it takes effect at once and is
    listed in the next announcement. `deception`: the registration was obtained by deception or bribery
    and is 撤销 (Art. 34), which bans new applications for 3 years. Raises CancelError({field: message})."""
    from models import Application, ApplicationCancelReason
    from backoffice.workflow import numbering, transitions
    from backoffice.workflow.states import WorkflowError
    allowed = {r.id for r in registry_reasons()}
    try:
        chosen = sorted({int(i) for i in reason_ids or ()})
    except (TypeError, ValueError):
        chosen = [0]
    errors = {}
    if not chosen:
        errors['reasons'] = '请勾选注销原因'
    elif not set(chosen) <= allowed:
        errors['reasons'] = '注销原因无效，请重新勾选'
    if not (explanation or '').strip():
        errors['explanation'] = '请填写注销决定说明（事实、依据）'
    revoked = [r.id for r in registry_reasons() if r.text == '依法被撤销注册']
    if deception and not errors.get('reasons') and not set(revoked) & set(chosen):
        errors['deception'] = '以欺骗、贿赂等不正当手段取得注册的，注销原因须勾选“依法被撤销注册”'
    if errors:
        raise CancelError(errors)
    with database.atomic():
        reg = Registration.get_by_id(registration.id)
        if reg.state != 'active':
            raise CancelError({'form': '该注册已不是有效状态，无需注销'})
        app = Application.create(number=numbering.application_number(), business_type='cancellation',
                                 person=reg.person_id, enterprise=reg.enterprise_id, registration=reg.id,
                                 state='draft', initiated_by='registry', commitment_accepted=True)
        summaries.added(apps=[app.id])
        ApplicationCancelReason.insert_many([{'application': app.id, 'reason': i} for i in chosen]).execute()
        try:
            return transitions.perform(app, 'registry_cancel', actor, comment=explanation.strip(), today=today,
                                       deception=bool(deception))
        except WorkflowError as exc:
            raise CancelError({'form': '；'.join(exc.messages)}) from None


# --- 变更注册 (Art. 13): the enterprise's name changed, same USCC ------------------------------

def enterprise_renamed(enterprise, old_name, actor, today=None):
    """Each active registration at the enterprise gets a 变更注册 decided by the registry: the
    validity is unchanged, a new certificate carries the new name, the next announcement lists it.
    Runs in the caller's transaction (the enterprise's save). Returns the decision records."""
    from models import Application
    from backoffice.workflow import numbering, transitions
    explanation = f'聘用企业名称由“{old_name}”变更为“{enterprise.name}”（统一社会信用代码 {enterprise.uscc} 不变）'
    done = []
    for reg in Registration.select().where((Registration.enterprise == enterprise.id)
                                           & (Registration.state == 'active')).order_by(Registration.id):
        app = Application.create(number=numbering.application_number(), business_type='change',
                                 person=reg.person_id, enterprise=enterprise.id, registration=reg.id, state='draft',
                                 initiated_by='registry', commitment_accepted=True, change_explanation=explanation)
        summaries.added(apps=[app.id])
        done.append(transitions.perform(app, 'registry_change', actor, comment=explanation, today=today))
    return done


# --- 变更注册 (Art. 13): enterprises merged, the registrations move to a new USCC -------------

MERGE_ROLES = (REVIEWER, ADMIN)


def enterprises_merged(source, target, actor, explanation, today=None):
    """A registry decision moves every active registration of `source` to `target` (a merger: the
    staff now work for the enterprise with the new USCC). Each registration gets a 变更注册 decided
    at once (`registry_change`): the enterprise, and the province when it differs, change; the 注册编号
    and the validity stay (no new 3 years); a new certificate carries the new enterprise; the next
    announcement lists it; the registration change feed records it (in the effect). One transaction.
    Raises CancelError({field: Chinese message}). Returns the decision records."""
    from models import Application
    from backoffice.workflow import numbering, transitions
    from backoffice.workflow.states import WorkflowError
    errors = {}
    if getattr(actor, 'role', None) not in MERGE_ROLES:
        errors['form'] = '只有注册审查人员或系统管理员可以作出企业合并的变更注册决定'
    if target is None:
        errors['target'] = '请填写合并后企业的统一社会信用代码'
    elif target.id == source.id or target.uscc == source.uscc:
        errors['target'] = '合并后的企业不能是原企业本身（统一社会信用代码须不同）'
    elif not target.verified:
        errors['target'] = f'“{target.name}”尚未完成企业实名认证，不能接收注册人员'
    elif target.status != 'normal':
        errors['target'] = f'“{target.name}”的企业状态为非正常，不能接收注册人员'
    if not (explanation or '').strip():
        errors['explanation'] = '请填写变更决定说明（合并的事实和依据）'
    if errors:
        raise CancelError(errors)
    with database.atomic():
        query = (Registration.select().where((Registration.enterprise == source.id) & (Registration.state == 'active'))
                 .order_by(Registration.id))
        regs = list(query.for_update() if is_postgres() else query)
        if not regs:
            raise CancelError({'form': f'“{source.name}”没有有效的注册人员，无需变更注册'})
        moved = target.province_id != source.province_id
        text = (f'企业合并：聘用企业由“{source.name}”（统一社会信用代码 {source.uscc}）变更为'
                f'“{target.name}”（统一社会信用代码 {target.uscc}）'
                + ('，注册所在省份随之变更，注册编号不变' if moved else '') + f'。{explanation.strip()}')
        audit.record('enterprise_merged', object_type='enterprise', object_id=source.id, actor=actor,
                     actor_role=actor.role, comment=f'{text}（{len(regs)} 名注册人员）')
        done = []
        for reg in regs:
            counted = summaries.Tracker(regs=[reg.id])       # the province may change: counters move with it
            Registration.update(enterprise=target.id, province=target.province_id).where(
                Registration.id == reg.id).execute()
            counted.finish()
            app = Application.create(number=numbering.application_number(), business_type='change',
                                      person=reg.person_id, enterprise=target.id, registration=reg.id, state='draft',
                                      initiated_by='registry', commitment_accepted=True, change_explanation=text)
            summaries.added(apps=[app.id])
            try:
                done.append(transitions.perform(app, 'registry_change', actor, comment=text, today=today))
            except WorkflowError as exc:
                raise CancelError({'form': '；'.join(exc.messages)}) from None
        return done

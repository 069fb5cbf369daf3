"""What a transition does besides moving the state. Each runs inside perform()'s transaction."""
import datetime

from flask import current_app, has_app_context

from models import (Application, ApplicationRefusalGround, ApplicationSpecialty, Person,
                    Qualification, RefusalGround, RegisteredSpecialty, Registration, Sanction, Specialty)

from backoffice.issuing import certificates
from backoffice.workflow import changes, numbering
from backoffice.workflow.calendar import add_working_days, add_years
from backoffice.workflow.rules import chosen_specialties
from backoffice.workflow.states import CONCEALMENT_GROUND, SANCTIONS, WorkflowError
from backoffice.validators import ValidationError, id_number_facts, validate_id_number

VALIDITY_YEARS = 3


def _config(key, default):
    return current_app.config.get(key, default) if has_app_context() else default


def start_acceptance_clock(ctx):
    """上报 (or a submission that goes straight to the registry): 受理 or one 补正 notice is due
    within ACCEPTANCE_WORKING_DAYS (5) working days."""
    deadline = add_working_days(ctx.today, _config('ACCEPTANCE_WORKING_DAYS', 5), _config('HOLIDAYS', []))
    Application.update(deadline=deadline).where(Application.id == ctx.app.id).execute()


def start_review_clock(ctx):
    """受理: the decision is due 20 working days later (+10 when a joint review is needed);
    延续注册 has its own settings (the 2007 rules were shorter)."""
    renewal = ctx.app.business_type == 'renewal'
    days = _config('RENEWAL_DECISION_WORKING_DAYS' if renewal else 'DECISION_WORKING_DAYS', 20)
    joint = (Specialty.select().join(ApplicationSpecialty)
             .where((ApplicationSpecialty.application == ctx.app) & (Specialty.joint_review == True))  # noqa
             .exists())
    if joint:
        days += _config('RENEWAL_JOINT_REVIEW_WORKING_DAYS' if renewal else 'JOINT_REVIEW_WORKING_DAYS', 10)
    deadline = add_working_days(ctx.today, days, _config('HOLIDAYS', []))
    Application.update(deadline=deadline, accepted_by=ctx.actor, correction_note='').where(
        Application.id == ctx.app.id).execute()


def record_correction_note(ctx):
    Application.update(correction_note=ctx.comment.strip(), deadline=None).where(
        Application.id == ctx.app.id).execute()


def record_return_reason(ctx):
    Application.update(return_reason=ctx.comment.strip()).where(Application.id == ctx.app.id).execute()


def decision_facts(accepted_at, decided_on, deadline):
    """(calendar days from acceptance to decision, decided after the deadline), None where unknown.
    The one rule for these statistics facts: record_decider and any bulk loader (seed.demo) use it."""
    days = (decided_on - accepted_at.date()).days if accepted_at else None
    late = (decided_on > deadline) if deadline else None
    return days, late


def record_decider(ctx):
    """Who decided, and the decision's facts for statistics: days since acceptance, late or not."""
    app = ctx.app
    days, late = decision_facts(app.accepted_at, ctx.today, app.deadline)
    Application.update(decided_by=ctx.actor, processing_days=days, decided_late=late).where(
        Application.id == app.id).execute()


def record_refusal(ctx):
    record_decider(ctx)
    ids = sorted({int(i) for i in ctx.data.get('grounds', [])})
    ApplicationRefusalGround.insert_many(
        [{'application': ctx.app.id, 'ground': i} for i in ids]).on_conflict_ignore().execute()
    if ids and RefusalGround.select().where(RefusalGround.id.in_(ids)
                                           & (RefusalGround.text == CONCEALMENT_GROUND)).exists():
        start_sanction(ctx, 'concealment')
    Application.update(refusal_text=ctx.data.get('text', '') or ctx.comment or '').where(
        Application.id == ctx.app.id).execute()


def apply_info_change(ctx):
    """信息修改 approved: the person's name / ID number change now."""
    record_decider(ctx)
    app = ctx.app
    person = Person.get_by_id(app.person_id)
    old_id_number = person.id_number
    if app.new_id_number:
        try:
            number = validate_id_number(app.new_id_number)
        except ValidationError as exc:
            raise WorkflowError(exc.message)
        clash = Person.get_or_none((Person.id_number == number) & (Person.id != person.id))
        if clash is not None:
            raise WorkflowError('新身份证号码已被其他人员使用，请核实')
        person.id_number = number
        person.birth_date, person.gender = id_number_facts(number)
    if app.new_name:
        person.name = app.new_name.strip()
    person.updated_at = datetime.datetime.now().replace(microsecond=0)
    person.save()
    _correct_qualifications(ctx, person, old_id_number)
    changes.record([r for (r,) in Registration.select(Registration.id).where(
        (Registration.person == person.id) & (Registration.state == 'active')).tuples()], 'holder_changed')


def _correct_qualifications(ctx, person, old_id_number):
    """FAQ 8: an approved 信息修改 corrects the 资格库 records too; the old values stay in the audit."""
    from backoffice import audit
    rows = Qualification.select().where((Qualification.person == person.id)
                                        | Qualification.holder_id_number.in_({old_id_number, person.id_number}))
    for q in rows:
        diff = [{"field": f, "label": label, "old": old, "new": new} for f, label, old, new in (
            ('holder_name', '姓名（资格库）', q.holder_name, person.name),
            ('holder_id_number', '身份证号（资格库）', q.holder_id_number, person.id_number)) if old != new]
        if not diff:
            continue
        Qualification.update(holder_name=person.name, holder_id_number=person.id_number, person=person.id).where(
            Qualification.id == q.id).execute()
        audit.record('correct_qualification', object_type='qualification', object_id=q.id, actor=ctx.actor,
                     comment=f'信息修改 {ctx.app.number} 准予变更，更正资格库记录 {q.cert_number}', changes=diff)


def cancel_registration(ctx):
    """注销 takes effect now (enterprise confirmation or registry decision): the registration ends,
    its specialties and certificates with it, and 重新注册 is possible at once (FAQ 14). Idempotent:
    the announcement that later lists the 注销 finds nothing left to do."""
    app = ctx.app
    reg = Registration.get_or_none((Registration.person == app.person_id) & (Registration.state == 'active'))
    if reg is None:
        return
    Registration.update(state='cancelled', cancelled_on=ctx.today).where(Registration.id == reg.id).execute()
    RegisteredSpecialty.update(state='cancelled').where(
        (RegisteredSpecialty.registration == reg) & (RegisteredSpecialty.state.in_(('active', 'expired')))).execute()
    certificates.void_for(reg)
    Application.update(registration=reg).where(Application.id == app.id).execute()
    changes.record([reg.id], 'cancelled')


def start_sanction(ctx, kind):
    """A ban on new applications from today (Art. 33: 1 year, Art. 34: 3 years), the last day inclusive."""
    years = SANCTIONS[kind][0]
    Sanction.create(person=ctx.app.person_id, kind=kind, starts_on=ctx.today,
                    ends_on=add_years(ctx.today, years) - datetime.timedelta(days=1), application=ctx.app.id,
                    decided_by=ctx.actor, note=(ctx.comment or '').strip())


def decide_registry_cancellation(ctx):
    """依法注销 (Art. 17): the registry's decision, recorded and in effect at once; a registration
    obtained by deception (Art. 34) also bans new applications for 3 years."""
    Application.update(decided_by=ctx.actor, change_explanation=ctx.comment.strip()).where(
        Application.id == ctx.app.id).execute()
    cancel_registration(ctx)
    if ctx.data.get('deception'):
        start_sanction(ctx, 'deception')


def decide_forced_cancellation(ctx):
    """强制注销 approved: the registration ends at once, as with the enterprise's confirmation."""
    record_decider(ctx)
    cancel_registration(ctx)


def apply_enterprise_change(ctx):
    """变更注册 (Art. 13): the registration stays, with its validity; a new certificate carries the
    enterprise's new name (the old one is void)."""
    record_decider(ctx)
    reg = Registration.get((Registration.person == ctx.app.person_id) & (Registration.state == 'active'))
    Application.update(registration=reg).where(Application.id == ctx.app.id).execute()
    certificates.issue(reg, ctx.today)
    changes.record([reg.id], 'enterprise_changed')


def take_effect(ctx):
    """The announced decision takes effect on the registry (domain §4, §7)."""
    app, today = ctx.app, ctx.today
    kind = app.business_type
    person = Person.get_by_id(app.person_id)
    if kind in ('initial', 'reregister'):
        reg = _create_registration(app, person, today)
    elif kind == 'addition':
        reg = Registration.get((Registration.person == person) & (Registration.state == 'active'))
        until = add_years(today, VALIDITY_YEARS)
        for s in chosen_specialties(app):
            RegisteredSpecialty.insert(registration=reg, specialty=s, valid_from=today, valid_until=until,
                                       state='active').on_conflict(
                conflict_target=[RegisteredSpecialty.registration, RegisteredSpecialty.specialty],
                update={RegisteredSpecialty.valid_from: today, RegisteredSpecialty.valid_until: until,
                        RegisteredSpecialty.state: 'active'}).execute()
        Application.update(registration=reg).where(Application.id == app.id).execute()
    elif kind == 'renewal':
        reg = Registration.get((Registration.person == person) & (Registration.state == 'active'))
        for s in chosen_specialties(app):
            rs = RegisteredSpecialty.get((RegisteredSpecialty.registration == reg)
                                         & (RegisteredSpecialty.specialty == s))
            rs.valid_until = add_years(max(rs.valid_until, today), VALIDITY_YEARS)
            rs.save()
        Application.update(registration=reg).where(Application.id == app.id).execute()
    elif kind == 'cancellation':
        cancel_registration(ctx)           # normally done already, when the enterprise confirmed
        return
    elif kind == 'change':                 # in effect since the registry's decision
        return
    # a new certificate reflects the registration as it now stands
    certificates.issue(reg, today)
    changes.record([reg.id], {'addition': 'specialty_added', 'renewal': 'renewed'}.get(kind, 'registered'))


def _create_registration(app, person, today):
    ent = app.enterprise
    province = ent.province
    if not person.reg_core:
        # The number is drawn once per person, at the first registration, and kept for life.
        quals = {q.specialty_id: q for q in Qualification.select().where(
            (Qualification.person == person) | (Qualification.holder_id_number == person.id_number))}
        chosen = chosen_specialties(app)
        issued = min((quals[s.id].issue_date for s in chosen if s.id in quals), default=today)
        person.reg_core = numbering.registration_core(province.code, issued.year, today)
        seal_check = 0
    else:
        seal_check = person.seal_count      # a new seal for the new registration
    person.seal_count = seal_check + 1
    person.save()
    reg = Registration.create(person=person, enterprise=ent, province=province,
                              number=province.abbr + person.reg_core, seal_check=seal_check,
                              state='active', registered_on=today)
    until = add_years(today, VALIDITY_YEARS)
    RegisteredSpecialty.insert_many([
        {'registration': reg.id, 'specialty': s.id, 'valid_from': today, 'valid_until': until,
         'state': 'active'} for s in chosen_specialties(app)]).execute()
    Application.update(registration=reg).where(Application.id == app.id).execute()
    return reg


def take_effect_many(contexts):
    """take_effect for many announced decisions: new registrations in bulk, the rest one by one."""
    fresh = [c for c in contexts if c.app.business_type in ('initial', 'reregister')]
    for ctx in contexts:
        if ctx.app.business_type not in ('initial', 'reregister'):
            take_effect(ctx)
    if fresh:
        _create_registrations_bulk(fresh)


def _create_registrations_bulk(contexts):
    """The bulk form of _create_registration + certificates.issue, for the same result."""
    import collections

    from models import ApplicationSpecialty, Enterprise, Province
    today = contexts[0].today
    apps = [c.app for c in contexts]
    app_ids = [a.id for a in apps]
    persons = {}
    for k in range(0, len(apps), 900):
        persons.update({p.id: p for p in Person.select().where(
            Person.id.in_([a.person_id for a in apps[k:k + 900]]))})
    ents = {e.id: e for e in Enterprise.select(Enterprise, Province).join(Province).where(
        Enterprise.id.in_(list({a.enterprise_id for a in apps})))}
    chosen = collections.defaultdict(list)
    for k in range(0, len(app_ids), 900):
        for aid, sid in (ApplicationSpecialty.select(ApplicationSpecialty.application, ApplicationSpecialty.specialty)
                         .where(ApplicationSpecialty.application.in_(app_ids[k:k + 900])).tuples()):
            chosen[aid].append(sid)
    issued = {}
    numbers = [p.id_number for p in persons.values()]
    for k in range(0, len(numbers), 900):
        for holder, sid, day in (Qualification.select(Qualification.holder_id_number, Qualification.specialty,
                                                      Qualification.issue_date)
                                 .where(Qualification.holder_id_number.in_(numbers[k:k + 900])).tuples()):
            issued[(holder, sid)] = day
    # reserve the provincial serials this batch needs, one counter update per province and year
    need = collections.Counter(numbering.registration_key(ents[a.enterprise_id].province.code, today)
                               for a in apps if not persons[a.person_id].reg_core)
    next_serial = {key: numbering.reserve(key, n) for key, n in need.items()}
    until = add_years(today, VALIDITY_YEARS)
    reg_rows = []
    for app in apps:
        person, ent = persons[app.person_id], ents[app.enterprise_id]
        province = ent.province
        if not person.reg_core:
            key = numbering.registration_key(province.code, today)
            serial, next_serial[key] = next_serial[key], next_serial[key] + 1
            first = min((issued[(person.id_number, sid)] for sid in chosen[app.id]
                         if (person.id_number, sid) in issued), default=today)
            person.reg_core = numbering.format_core(province.code, first.year, today, serial)
            seal_check = 0
        else:
            seal_check = person.seal_count
        person.seal_count = seal_check + 1
        reg_rows.append({'person': person.id, 'enterprise': ent.id, 'province': province.id,
                         'number': province.abbr + person.reg_core, 'seal_check': seal_check, 'state': 'active',
                         'registered_on': today, 'created_at': datetime.datetime.now().replace(microsecond=0)})
    Person.bulk_update(list(persons.values()), fields=[Person.reg_core, Person.seal_count], batch_size=300)
    for k in range(0, len(reg_rows), 500):
        Registration.insert_many(reg_rows[k:k + 500]).execute()
    reg_ids = {}
    pids = [a.person_id for a in apps]
    for k in range(0, len(pids), 900):
        reg_ids.update(dict(Registration.select(Registration.person, Registration.id).where(
            Registration.person.in_(pids[k:k + 900]) & (Registration.state == 'active')).tuples()))
    spec_rows = [{'registration': reg_ids[a.person_id], 'specialty': sid, 'valid_from': today,
                  'valid_until': until, 'state': 'active'} for a in apps for sid in chosen[a.id]]
    for k in range(0, len(spec_rows), 500):
        RegisteredSpecialty.insert_many(spec_rows[k:k + 500]).execute()
    for app in apps:
        app.registration = reg_ids[app.person_id]
    Application.bulk_update(apps, fields=[Application.registration], batch_size=300)
    certificates.issue_new(
        [(reg_ids[a.person_id], persons[a.person_id], until if chosen[a.id] else None) for a in apps], today)
    changes.record([reg_ids[a.person_id] for a in apps], 'registered')

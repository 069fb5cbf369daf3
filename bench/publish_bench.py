"""Benchmark: publish one announcement of N approved initial registrations (default 5,000).

    .venv/bin/python bench/publish_bench.py [--decisions 5000] [--database URL]

Each decision takes effect inside the one publishing transaction: registration with its
注册编号, registered specialties, certificate, audit event.
"""
import argparse
import datetime
import time

from _setup import fresh_app, peak_rss_mb


def prepare(n):
    from models import (Application, ApplicationSpecialty, Enterprise, Person, Qualification, User, database)
    from seed.demo import generate
    generate(int(n / 0.3) + 500)
    reviewer = User.get(User.username == 'shencha')
    busy = Application.select(Application.person)
    free = list(Person.select(Person.id, Person.id_number).where(
        Person.reg_core.is_null() & Person.id.not_in(busy)).limit(n).tuples())
    if len(free) < n:
        raise SystemExit(f'only {len(free)} free persons')
    ents = [e.id for e in Enterprise.select(Enterprise.id).where(Enterprise.verified == True)]  # noqa: E712
    quals = dict(Qualification.select(Qualification.holder_id_number, Qualification.specialty).tuples())
    now = datetime.datetime.now().replace(microsecond=0)
    with database.atomic():
        rows = [{'number': f'SQP{k:010d}', 'business_type': 'initial', 'person': pid, 'enterprise': ents[k % len(ents)],
                 'state': 'approved', 'decided_at': now, 'decided_by': reviewer.id, 'commitment_accepted': True}
                for k, (pid, _) in enumerate(free)]
        for i in range(0, n, 1000):
            Application.insert_many(rows[i:i + 1000]).execute()
        ids = dict(Application.select(Application.number, Application.id).where(
            Application.number.startswith('SQP')).tuples())
        specs = [{'application': ids[f'SQP{k:010d}'], 'specialty': quals[number]} for k, (_, number) in enumerate(free)]
        for i in range(0, n, 1000):
            ApplicationSpecialty.insert_many(specs[i:i + 1000]).execute()
    return reviewer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--decisions', type=int, default=5000)
    parser.add_argument('--database', default=None)
    args = parser.parse_args()
    app, _ = fresh_app(args.database)
    from backoffice.issuing import notices
    from models import Application, Certificate, Registration, database
    with app.app_context(), database.connection_context():
        reviewer = prepare(args.decisions)
        started = time.perf_counter()
        notice = notices.create_draft(reviewer, ids=None)
        drafted = time.perf_counter() - started
        count = notice.items.count()
        started = time.perf_counter()
        notice = notices.publish(notice.id, reviewer)
        elapsed = time.perf_counter() - started
        assert Application.select().where(Application.state == 'approved').count() == 0
        print(f'database: {app.config["DATABASE_URL"].split(":")[0]}')
        print(f'decisions in the announcement: {count}  (draft built in {drafted:.2f} s)')
        print(f'publish: {elapsed:.2f} s -> {count / elapsed:.0f} decisions/s; '
              f'registrations {Registration.select().count()}, certificates {Certificate.select().count()}')
        print(f'peak RSS: {peak_rss_mb():.0f} MB')


if __name__ == '__main__':
    main()

"""The daily lapse task at national scale: N registrations (default 1,000,000), on SQLite or PostgreSQL.

    .venv/bin/python bench/lapse_bench.py [--registrations 1000000] [--database-url postgresql://…]

Builds the registry with bench/big_registry.py (60 % of persons registered, one specialty each,
valid-until dates spread from 100 days ago to 1,000 days ahead), declares 1 % of enterprises
bankrupt, then times: the first run (expiries, over-65s and bankrupt employers all at once),
a second run on the same day (nothing left to do: the cost of a quiet day), and a run a month
later. Prints counts, seconds and peak memory. Goal: 1M registrations in at most 60 s.
"""
import argparse
import datetime
import os
import time

from _setup import fresh_app, peak_rss_mb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--registrations', type=int, default=1_000_000)
    ap.add_argument('--database-url', default=None)
    args = ap.parse_args()
    app, _tmp = fresh_app(args.database_url)
    from big_registry import build
    from backoffice import db as dbmod
    from backoffice.workflow import lifecycle
    from models import Enterprise, Registration, database
    with app.app_context(), database.connection_context():
        t0 = time.perf_counter()
        build(persons=args.registrations * 10 // 6, apps_per_person=0, say=lambda m: None)
        n = Registration.select().count()
        ids = [e for (e,) in Enterprise.select(Enterprise.id).order_by(Enterprise.id).tuples()][1::100]
        bankrupt = Enterprise.update(status='bankrupt', status_date=datetime.date.today(),
                                     status_source='bench').where(Enterprise.id.in_(ids)).execute()
        old = datetime.date.today().replace(year=datetime.date.today().year - 70, day=1)
        sql = ('UPDATE person SET birth_date = %s WHERE id %% 50 = 1' if dbmod.is_postgres()
               else 'UPDATE person SET birth_date = ? WHERE id % 50 = 1')
        over_65 = database.execute_sql(sql, (old,)).rowcount
        database.execute_sql('ANALYZE')
        print(f'{"PostgreSQL" if dbmod.is_postgres() else "SQLite"}: {n:,} registrations, '
              f'{bankrupt} bankrupt enterprises, {over_65:,} persons born 70 years ago, '
              f'built in {time.perf_counter() - t0:.0f} s')
        today = datetime.date.today()
        for label, day in (('first run', today), ('same day again', today),
                           ('a month later', today + datetime.timedelta(days=30))):
            t = time.perf_counter()
            if os.environ.get('PROFILE') and label == 'first run':
                import cProfile
                import pstats
                prof = cProfile.Profile()
                counts = prof.runcall(lifecycle.run_lapse, today=day)
                pstats.Stats(prof).sort_stats('cumulative').print_stats(25)
            else:
                counts = lifecycle.run_lapse(today=day)
            print(f'  {label:<15} {time.perf_counter() - t:6.1f} s  {counts}')
        print(f'  peak memory {peak_rss_mb():.0f} MB')


if __name__ == '__main__':
    main()

"""Benchmark: load N demo persons (default 100,000) into a fresh SQLite file; print the figures.

    .venv/bin/python bench/seed_bench.py [--persons N] [--database URL]
"""
import argparse
import os
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--persons', type=int, default=100_000)
    parser.add_argument('--database', default=None)
    args = parser.parse_args()
    from backoffice import db as dbmod
    from models import ALL_MODELS, database
    from seed.demo import generate

    url = args.database or 'sqlite:///' + os.path.join(tempfile.mkdtemp(prefix='seed-bench-'), 'bench.db')
    dbmod.bind(url)
    if dbmod.is_postgres():
        with database.connection_context():
            database.execute_sql('DROP SCHEMA public CASCADE; CREATE SCHEMA public')
    dbmod.migrate()
    started = time.perf_counter()
    with database.connection_context():
        counts = generate(args.persons)
    elapsed = time.perf_counter() - started
    with database.connection_context():
        rows = sum(m.select().count() for m in ALL_MODELS)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f'database: {url.split(":")[0]}')
    print(f'persons: {counts["persons"]}  qualifications: {counts["qualifications"]}  '
          f'registrations: {counts["registrations"]}  applications: {counts["applications"]}')
    print(f'total rows: {rows}')
    print(f'elapsed: {elapsed:.1f} s  ({counts["persons"] / elapsed:,.0f} persons/s, {rows / elapsed:,.0f} rows/s)')
    print(f'peak RSS: {peak:.0f} MB')


if __name__ == '__main__':
    main()

"""Benchmark: import N qualification rows (default 1,000,000) from a CSV into a fresh SQLite database.

    .venv/bin/python bench/import_bench.py [--rows 1000000] [--database URL]

Every row goes through the same validation as the back-office page and the CLI. A second import
of the same file is timed too (it must change nothing).
"""
import argparse
import csv
import os
import time

from _setup import fresh_app, peak_rss_mb

SPECIALTIES = ['建筑工程', '公路工程', '铁路工程', '民航机场工程', '港口与航道工程', '水利水电工程', '市政公用工程',
               '通信与广电工程', '矿业工程', '机电工程']


def write_csv(path, rows):
    from seed.demo import _region_codes, id_number_for
    regions = list(_region_codes().values())
    with open(path, 'w', encoding='utf-8-sig', newline='') as fh:
        w = csv.writer(fh)
        w.writerow(['资格证书管理号', '姓名', '身份证号', '专业', '签发日期'])
        for i in range(rows):
            number = id_number_for(i, regions)[0]
            w.writerow([f'ZGB{i:010d}', f'考生{i}', number, SPECIALTIES[i % 10], f'20{15 + i % 10}-09-{1 + i % 28:02d}'])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--rows', type=int, default=1_000_000)
    parser.add_argument('--database', default=None)
    args = parser.parse_args()
    app, tmp = fresh_app(args.database)
    from backoffice.background import imports
    from models import Qualification, database
    from seed.reference import load_reference
    path = os.path.join(tmp, 'qualifications.csv')
    with app.app_context(), database.connection_context():
        load_reference()
        t = time.perf_counter()
        write_csv(path, args.rows)
        print(f'generated {args.rows} rows ({os.path.getsize(path) / 1e6:.0f} MB) in {time.perf_counter() - t:.0f} s')
        t = time.perf_counter()
        result = imports.run('qualifications', path)
        first = time.perf_counter() - t
        print(f'import: {result.summary()}')
        print(f'first import: {first:.1f} s ({result.total / first:,.0f} rows/s); '
              f'table now {Qualification.select().count()} rows')
        t = time.perf_counter()
        again = imports.run('qualifications', path)
        print(f'second import of the same file: {time.perf_counter() - t:.1f} s — {again.summary()}')
    print(f'peak RSS: {peak_rss_mb():.0f} MB')


if __name__ == '__main__':
    main()

"""Lean export command: binds the database only (no web app), for large exports from cron or a shell.

    .venv/bin/python -m reports EXPORT --out FILE [--format csv|xlsx] [--date-from D] [--date-to D]
                                       [--province CODE] [--business-type T] [--specialty NAME]
"""
import argparse
import sys

from backoffice import db as dbmod
from backoffice.config import Config


def main(argv=None):
    from reports import exports, filters
    parser = argparse.ArgumentParser(prog='python -m reports', description='导出报表（CSV 或 XLSX）')
    parser.add_argument('export', choices=list(exports.EXPORTS))
    parser.add_argument('--out', required=True)
    parser.add_argument('--format', choices=('csv', 'xlsx'), default='csv')
    parser.add_argument('--database', default=Config.DATABASE_URL)
    for name in ('date-from', 'date-to', 'province', 'business-type', 'specialty'):
        parser.add_argument('--' + name, default='')
    args = parser.parse_args(argv)
    dbmod.bind(args.database)
    from models import Province, Specialty, database
    with database.connection_context():
        if not dbmod.is_postgres():
            # a streaming read needs no big page cache: keep the process small
            database.execute_sql('PRAGMA cache_size = -8000')
        values = {'date_from': args.date_from, 'date_to': args.date_to, 'business_type': args.business_type}
        if args.province:
            p = Province.get_or_none(Province.code == args.province)
            if p is None:
                parser.error(f'省份代码无效：{args.province}')
            values['province_id'] = str(p.id)
        if args.specialty:
            s = Specialty.get_or_none(Specialty.name == args.specialty)
            if s is None:
                parser.error(f'专业无效：{args.specialty}')
            values['specialty_id'] = str(s.id)
        try:
            f = filters.parse(values)
        except filters.FilterError as exc:
            parser.error(str(exc))
        export = exports.EXPORTS[args.export]
        total = exports.count(export, f)
        if total == 0:
            print('没有符合条件的数据可导出', file=sys.stderr)
            return 1

        def progress(n):
            sys.stderr.write(f'\r{export.label}：{min(n, total)}/{total}')
        writer = exports.write_xlsx if args.format == 'xlsx' else exports.write_csv
        writer(export, f, args.out, progress=progress)
        sys.stderr.write('\n')
    print(f'已导出 {total} 行到 {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

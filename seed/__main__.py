"""python -m seed [--persons N]: load reference data and demo data into DATABASE_URL."""
import argparse
import sys
import time

from backoffice import db as dbmod
from backoffice.config import Config


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m seed', description='载入基础数据和演示数据')
    parser.add_argument('--persons', type=int, default=2000, help='演示人员数量（默认 2000）')
    parser.add_argument('--database', default=Config.DATABASE_URL, help='数据库地址')
    args = parser.parse_args(argv)
    if args.persons < 1:
        parser.error('--persons 必须为正整数')
    dbmod.bind(args.database)
    dbmod.migrate()
    from seed.demo import generate

    started = time.perf_counter()

    def progress(stage, done, total):
        width = 30
        filled = int(width * done / total) if total else width
        sys.stderr.write(f'\r{stage:<6} [{"#" * filled}{"." * (width - filled)}] {done}/{total}')
        if done >= total:
            sys.stderr.write('\n')

    counts = generate(args.persons, progress=progress)
    print(f'完成：{counts}，用时 {time.perf_counter() - started:.1f} 秒')


if __name__ == '__main__':
    main()

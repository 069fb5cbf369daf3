"""The open API at national scale: the whole registration change feed, and point lookups.

    .venv/bin/python bench/api_feed_bench.py [--registrations 1000000] [--database-url postgresql://…]

Builds N registrations with bench/big_registry.py, enters them in the change feed (backfill), then
reads the whole feed through GET /api/v1/registrations/changes page by page with a bearer token
(the WSGI app in-process, no network), and times 300 lookups GET /api/v1/persons?reg_number=…
(server time per request). Goals (issue 14): the full feed of 1M in at most 60 s; lookups p95 ≤ 10 ms.
"""
import argparse
import random
import time

import orjson

from _setup import fresh_app, peak_rss_mb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--registrations', type=int, default=1_000_000)
    ap.add_argument('--database-url', default=None)
    ap.add_argument('--page', type=int, default=0, help='page size (default: the API maximum)')
    args = ap.parse_args()
    app, _tmp = fresh_app(args.database_url)
    app.config['RATELIMIT_ENABLED'] = False           # the benchmark measures the server, not the limiter
    from big_registry import build
    from backoffice import db as dbmod
    from backoffice.api import clients
    from backoffice.workflow import changes
    from models import Registration, database
    from views.api.schemas import MAX_PAGE
    http = app.test_client()
    with app.app_context(), database.connection_context():
        t0 = time.perf_counter()
        build(persons=args.registrations * 10 // 6, apps_per_person=0, say=lambda m: None)
        t1 = time.perf_counter()
        fed = changes.backfill()
        print(f'{"PostgreSQL" if dbmod.is_postgres() else "SQLite"}: {Registration.select().count():,} registrations '
              f'built in {t1 - t0:.0f} s; {fed:,} feed entries in {time.perf_counter() - t1:.0f} s')
        row, secret = clients.create('基准测试', 'national', 'registry:read')
        numbers = [n for (n,) in Registration.select(Registration.number).tuples()]
    token = http.post('/api/v1/token', data={'grant_type': 'client_credentials', 'client_id': row.client_id,
                                             'client_secret': secret}).get_json()['access_token']
    headers = {'Authorization': f'Bearer {token}'}
    limit = args.page or MAX_PAGE
    cursor, items, pages = 0, 0, 0
    t = time.perf_counter()
    while True:
        # the client decodes with orjson, as a syncing system would (the standard decoder would be a
        # fifth of the time here, where client and server share one process)
        body = orjson.loads(http.get(f'/api/v1/registrations/changes?cursor={cursor}&limit={limit}',
                                     headers=headers).data)
        items += len(body['items'])
        cursor, pages = body['next_cursor'], pages + 1
        if not body['has_more']:
            break
    feed_s = time.perf_counter() - t
    print(f'  whole feed: {items:,} changes in {pages:,} pages of {limit} in {feed_s:.1f} s '
          f'({items / feed_s:,.0f} changes/s)')
    rng = random.Random(7)
    times = []
    for number in rng.sample(numbers, 300):
        t = time.perf_counter()
        r = http.get(f'/api/v1/persons?reg_number={number}', headers=headers)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.get_json()
    times.sort()
    print(f'  lookup by 注册编号: p50 {times[149]:.1f} ms, p95 {times[284]:.1f} ms, max {times[-1]:.1f} ms')
    print(f'  peak memory {peak_rss_mb():.0f} MB')


if __name__ == '__main__':
    main()

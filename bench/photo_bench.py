"""Photo tool under load: 6 clients post a 40-megapixel JPEG to /portal/photo-tool at once.

    .venv/bin/python bench/photo_bench.py [--clients 6] [--megapixels 40] [--action fix|check]

Prints the wall time, each request's time and status, and the process's peak RSS (the goal is
under 600 MB; before the photo tool's cost was bounded the same load took 13 s a request and
3.4 GB). The JPEG is made in a child process, so that building it does not count in the peak.
"""
import argparse
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._setup import fresh_app, peak_rss_mb  # noqa: E402

MAKE_JPEG = r'''
import io, math, sys
sys.path.insert(0, {root!r})
from PIL import Image
from tests import images
mp = float(sys.argv[1])
w = int(math.sqrt(mp * 1e6 * 3 / 4)); h = w * 4 // 3            # a portrait 3:4 camera frame
import numpy as np
img = images.portrait().resize((w, h), Image.BICUBIC)
arr = np.asarray(img).astype(np.int16)
arr += np.random.default_rng(1).integers(-3, 4, size=arr.shape, dtype=np.int16)   # a camera's sensor noise
img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
img.save(sys.argv[2], 'JPEG', quality=85)
print(w, h)
'''


def make_jpeg(megapixels, path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, '-c', MAKE_JPEG.format(root=root), str(megapixels), path],
                         check=True, capture_output=True, text=True)
    w, h = map(int, out.stdout.split())
    return w, h


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--clients', type=int, default=6)
    parser.add_argument('--megapixels', type=float, default=40)
    parser.add_argument('--action', choices=('fix', 'check'), default='fix')
    args = parser.parse_args(argv)

    app, tmp = fresh_app()
    app.config.update(RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=False)
    path = os.path.join(tmp, 'big.jpg')
    w, h = make_jpeg(args.megapixels, path)
    with open(path, 'rb') as fh:
        data = fh.read()
    print(f'input: {w}×{h} JPEG ({w * h / 1e6:.1f} MP, {len(data) / 1024 / 1024:.1f} MB), '
          f'{args.clients} clients at once, action={args.action}, '
          f'PHOTO_MAX_CONCURRENT={app.config["PHOTO_MAX_CONCURRENT"]}')
    rss_before = peak_rss_mb()

    results = [None] * args.clients
    start = threading.Barrier(args.clients)

    def client(i):
        import io
        c = app.test_client()
        start.wait()
        t0 = time.perf_counter()
        r = c.post('/portal/photo-tool', data={'action': args.action, 'file': (io.BytesIO(data), 'me.jpg')},
                   content_type='multipart/form-data')
        body = r.get_data()
        if args.action == 'fix':
            ok = r.status_code == 200 and r.mimetype == 'image/jpeg'
        else:
            ok = r.status_code == 200 and 'alert-danger' not in body.decode('utf-8', 'ignore')
        if not ok:
            import re
            error = re.search(r'id="result">(.*?)<', body.decode('utf-8', 'ignore'), re.S)
            print(f'  request {i + 1} not processed: {error.group(1).strip() if error else body[:200]!r}')
        results[i] = (time.perf_counter() - t0, r.status_code, r.mimetype, ok)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    for i, (seconds, status, mimetype, ok) in enumerate(results):
        print(f'  request {i + 1}: {seconds:5.2f} s  HTTP {status} {mimetype}{"" if ok else "  (not processed)"}')
    peak = peak_rss_mb()
    print(f'wall time: {wall:.2f} s for {args.clients} requests')
    print(f'peak RSS: {peak:.0f} MB (before the requests: {rss_before:.0f} MB) — goal under 600 MB: '
          f'{"met" if peak < 600 else "NOT met"}')
    return 0 if peak < 600 and all(r[3] for r in results) else 1


if __name__ == '__main__':
    sys.exit(main())

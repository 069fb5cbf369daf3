"""Benchmark: certificates per second through the batch print path, with photo, signature and QR.

    .venv/bin/python bench/certificates_bench.py [--count 1000] [--big 10000] [--layout certificate|sheet]
                                                 [--processes 2] [--profile out.prof]

Prints certificates/s by the clock and per CPU-second of this process (the machine is shared: the
load average is printed beside the figures), and peak memory (ru_maxrss).

Every person gets their own photo and signature JPEG, distinct in content (an identical image is
embedded only once per document, so shared images would flatter the figure). --big renders a batch of that
many certificates through the real print job (split into files of printing.PART_SIZE pages) and
reports peak memory.
"""
import argparse
import datetime
import os
import time

from _setup import fresh_app, peak_rss_mb


def make_images(folder, n):
    from PIL import Image, ImageDraw
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(n):
        photo = Image.new('RGB', (295, 413), 'white')
        d = ImageDraw.Draw(photo)
        d.ellipse((90 + i % 20, 80, 205, 230), fill=(200 + i % 50, 170, 140))
        d.rectangle((60, 260, 235, 413), fill=(20 + i % 200, 50, 90))
        d.text((8, 8), f'{i:06d}', fill='black')          # every image distinct (images are deduplicated by content)
        p = os.path.join(folder, f'p{i}.jpg')
        photo.save(p, quality=85)
        sig = Image.new('RGB', (400, 150), 'white')
        sd = ImageDraw.Draw(sig)
        sd.line((20, 100, 120, 40 + i % 50, 200, 110, 380, 50), fill='black', width=6)
        sd.text((8, 130), f'{i:06d}', fill='black')
        s = os.path.join(folder, f's{i}.jpg')
        sig.save(s, quality=85)
        paths.append((f'bench/p{i}.jpg', f'bench/s{i}.jpg'))
    return paths


def prepare(app, persons, distinct_images):
    """Demo registry, one valid certificate per active registration, materials with real images."""
    from models import Application, Certificate, Material, Registration, database
    from seed.demo import generate
    generate(persons)
    images = make_images(os.path.join(app.config['UPLOAD_DIR'], 'bench'), distinct_images)
    regs = list(Registration.select().where(Registration.state == 'active'))
    today = datetime.date.today()
    with database.atomic():
        rows, mats = [], []
        app_ids = dict(Application.select(Application.person, Application.id).tuples())
        for k, reg in enumerate(regs):
            rows.append({'serial': f'ZSB{k:08d}', 'registration': reg.id, 'person': reg.person_id,
                         'issued_on': today, 'use_until': today + datetime.timedelta(days=180), 'state': 'valid'})
        for chunk in range(0, len(rows), 1000):
            Certificate.insert_many(rows[chunk:chunk + 1000]).execute()
        # one application per person carries the photo and signature
        for k, reg in enumerate(regs):
            aid = app_ids.get(reg.person_id)
            if aid is None:
                aid = Application.create(number=f'SQB{k:010d}', business_type='initial', person=reg.person_id,
                                         enterprise=reg.enterprise_id, state='announced').id
            photo, sig = images[k % len(images)]
            for kind, path in (('photo', photo), ('signature', sig)):
                mats.append({'application': aid, 'kind': kind, 'original_name': kind + '.jpg', 'stored_path': path,
                             'size': 1, 'content_type': 'image/jpeg', 'sha256': '0' * 64})
        for chunk in range(0, len(mats), 1000):
            Material.insert_many(mats[chunk:chunk + 1000]).execute()
    return list(Certificate.select().order_by(Certificate.id))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--count', type=int, default=1000)
    parser.add_argument('--big', type=int, default=0, help='also run a print job of this many certificates')
    parser.add_argument('--layout', default='certificate', choices=('certificate', 'sheet'))
    parser.add_argument('--database', default=None)
    parser.add_argument('--processes', type=int, default=1,
                        help='PRINT_PROCESSES for the --big print job (worker processes drawing its files)')
    parser.add_argument('--profile', default='', help='write a cProfile of the throughput run to this file')
    args = parser.parse_args()
    app, tmp = fresh_app(args.database)
    need = max(args.count, args.big)
    from models import database
    with app.app_context(), database.connection_context():
        certs = prepare(app, int(need / 0.65) + 50, min(need, 2000))
        from backoffice.issuing.documents import write_print_batch
        batch = certs[:args.count]
        from print_templates.fonts import cjk_font
        cjk_font()              # the font is read once per process (about 0.5 s), not per batch: not timed
        started, cpu = time.perf_counter(), time.process_time()
        if args.profile:
            import cProfile
            prof = cProfile.Profile()
            prof.enable()
        path = write_print_batch(batch, os.path.join(tmp, 'out', 'throughput.pdf'), layout=args.layout)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if args.profile:
            prof.disable()
            prof.dump_stats(args.profile)
        print(f'layout: {args.layout}  certificates: {len(batch)}  distinct photos: {min(need, 2000)}')
        print(f'elapsed: {elapsed:.2f} s  -> {len(batch) / elapsed:.0f} certificates/s (one process); '
              f'CPU {cpu:.2f} s -> {len(batch) / cpu:.0f} per CPU-second; load average {os.getloadavg()[0]:.1f} '
              f'on {os.cpu_count()} cores')
        print(f'file: {os.path.getsize(path) / 1e6:.1f} MB  peak RSS so far: {peak_rss_mb():.0f} MB')
        if args.big:
            from backoffice.issuing import printing
            from models import Certificate, Registration, User
            import collections
            by_province = collections.Counter(Registration.select(Registration.province).join(Certificate).tuples())
            province_id = by_province.most_common(1)[0][0][0] if by_province else None
            admin = User.create(username='bench', name='bench', password_hash='x', role='admin')
            # all certificates into one province so that one job prints them all
            Registration.update(province=province_id).execute()
            os.environ['HUEY_IMMEDIATE'] = '1'
            from backoffice.background import jobs
            jobs.huey.immediate = True
            app.config['PRINT_PROCESSES'] = args.processes
            before = peak_rss_mb()
            started = time.perf_counter()
            job = printing.request_batch(admin, province_id)
            elapsed = time.perf_counter() - started
            from models import Job
            job = Job.get_by_id(job.id)
            print(f'print job: {job.total} certificates in {elapsed:.1f} s ({job.total / elapsed:.0f}/s), '
                  f'state {job.state}, files of {printing.PART_SIZE} pages')
            import resource
            children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f'peak RSS before job: {before:.0f} MB, after: {peak_rss_mb():.0f} MB; '
                  f'{printing.processes_for(job.total // printing.PART_SIZE + 1)} drawing process(es), '
                  f'largest worker peak RSS {children:.0f} MB; load average {os.getloadavg()[0]:.1f}')


if __name__ == '__main__':
    main()

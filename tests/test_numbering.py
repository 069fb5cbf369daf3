"""注册编号: unique and never reused, also under parallel approvals (run on PostgreSQL by CI)."""
import datetime
import threading

from backoffice.workflow import numbering
from backoffice.workflow.transitions import perform
from models import Person, Registration, Sequence, database

from .conftest import build_application, make_enterprise

WORKERS = 8


def test_parallel_announcements_never_share_a_number(app, users):
    ent = make_enterprise(code='11')
    apps = [build_application('initial', 'approved', enterprise=ent) for _ in range(WORKERS * 2)]
    barrier = threading.Barrier(WORKERS)
    errors = []

    def worker(chunk):
        with app.app_context():
            database.connect(reuse_if_open=True)
            try:
                barrier.wait()
                for row in chunk:
                    perform(row.id, 'announce', users['reviewer'])
            except Exception as exc:         # collected and asserted below
                errors.append(exc)
            finally:
                database.close()

    threads = [threading.Thread(target=worker, args=(apps[i::WORKERS],)) for i in range(WORKERS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    numbers = [r.number for r in Registration.select()]
    assert len(numbers) == len(apps)
    assert len(set(numbers)) == len(numbers)
    serials = sorted(int(n[-5:]) for n in numbers)
    assert serials == list(range(1, len(apps) + 1))       # no gap, no duplicate
    key = f'reg:11:{datetime.date.today().year % 100:02d}'
    assert Sequence.get(Sequence.key == key).value == len(apps)
    assert len({p.reg_core for p in Person.select()}) == len(apps)


def test_rolled_back_serial_is_not_handed_out_twice(app):
    with database.atomic() as tx:
        first = numbering.next_value('t:x')
        tx.rollback()
    assert numbering.next_value('t:x') == first
    assert numbering.next_value('t:x') == first + 1


def test_registration_core_layout():
    core = numbering.registration_core('32', 2019, datetime.date(2026, 3, 1))
    assert core == '132192600001'
    assert numbering.registration_core('32', 2019, datetime.date(2026, 3, 1)) == '132192600002'
    assert numbering.registration_core('32', 2020, datetime.date(2027, 3, 1)) == '132202700001'


def test_application_and_notice_numbers():
    day = datetime.date(2026, 11, 24)
    assert numbering.application_number(day) == 'SQ2026112400001'
    assert numbering.application_number(day) == 'SQ2026112400002'
    assert numbering.notice_number(day) == '建一注公告〔2026〕第001号'

"""Staff search and lists at national scale (issue 15): name search on a trigram index (SQLite FTS5 /
PostgreSQL pg_trgm), prefix search for 1-2 characters, exact keys, honest count labels, bounded paging
and a bounded number of queries per list page. Correctness and query counts only, never time."""
import logging
import re

import pytest

from backoffice.desks import staff_lists
from models import Application, Enterprise, Person, Registration, database

from .conftest import build_application, login, make_enterprise, make_person, make_registration

NAMES = re.compile(r'<td class="col-name">\s*(.*?)\s*</td>', re.S)
NUMBERS = re.compile(r'<td class="col-number">\s*(.*?)\s*</td>', re.S)


@pytest.fixture
def staff(client, users):
    r = login(client, 'reviewer')
    assert r.status_code == 302
    return client


@pytest.fixture
def small_limits(app):
    """A small exact-count threshold and page cap, restored afterwards."""
    old = {k: app.config.get(k) for k in ('LIST_EXACT_COUNT_LIMIT', 'LIST_MAX_ROWS')}
    app.config.update(LIST_EXACT_COUNT_LIMIT=5, LIST_MAX_ROWS=20)
    yield app
    for k, v in old.items():
        if v is None:
            app.config.pop(k, None)
        else:
            app.config[k] = v


def names(client, url):
    return sorted(NAMES.findall(client.get(url).get_data(as_text=True)))


def select_count(caplog, fn):
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger='peewee'):
        result = fn()
    queries = [r.getMessage() for r in caplog.records if r.name == 'peewee'
               and r.getMessage().lstrip("('\"").upper().startswith(('SELECT', 'WITH', 'EXPLAIN', '/* SELECT'))]
    return result, queries


# --- the search itself ------------------------------------------------------

def test_name_fragment_finds_the_person_and_a_wrong_one_finds_nobody(staff):
    make_person(name='欧阳建国')
    make_person(name='欧阳修文')
    make_person(name='司马光明')
    assert names(staff, '/admin/person/?search=阳建国') == ['欧阳建国']          # trigram, middle of the name
    assert names(staff, '/admin/person/?search=欧阳建国') == ['欧阳建国']         # the whole name
    assert names(staff, '/admin/person/?search=欧阳') == ['欧阳修文', '欧阳建国']    # 2 characters: prefix
    assert names(staff, '/admin/person/?search=司') == ['司马光明']               # 1 character: surname
    assert names(staff, '/admin/person/?search=阳建明') == []                    # wrong fragment: nobody
    assert names(staff, '/admin/person/?search=建国') == []                      # 2 characters, not a prefix
    assert len(names(staff, '/admin/person/')) == 3


def test_search_helpers_use_the_index_on_both_backends():
    a = make_person(name='诸葛亮亮')
    make_person(name='诸葛瑾')
    assert staff_lists.name_ids(Person, '葛亮亮') == ([a.id], False)
    ids, capped = staff_lists.name_ids(Person, '诸葛')
    assert len(ids) == 2 and not capped
    ids, capped = staff_lists.name_ids(Person, '诸葛', limit=1)
    assert len(ids) == 1 and capped
    assert staff_lists.name_ids(Person, '亮亮亮') == ([], False)
    assert staff_lists.name_ids(Person, '%') == ([], False)                  # wildcards are literal
    assert staff_lists.name_ids(Person, '"葛亮') == ([], False)                # quotes do not break MATCH


def test_enterprise_name_fragment_in_enterprise_application_and_registration_lists(staff):
    ent = make_enterprise(name='中铁建设集团第九工程有限公司')
    other = make_enterprise(name='华北城建有限公司')
    mine = build_application('initial', state='reported', enterprise=ent, person=make_person(name='李四'))
    build_application('initial', state='reported', enterprise=other, person=make_person(name='王五'))
    reg = make_registration(make_person(name='赵六'), ent)
    make_registration(make_person(name='钱七'), other)
    assert names(staff, '/admin/enterprise/?search=第九工程') == ['中铁建设集团第九工程有限公司']
    assert names(staff, '/admin/enterprise/?search=中铁') == ['中铁建设集团第九工程有限公司']
    assert names(staff, '/admin/enterprise/?search=第十工程') == []
    page = staff.get('/admin/application/?search=第九工程').get_data(as_text=True)
    assert NUMBERS.findall(page) == [mine.number]
    page = staff.get('/admin/application/?search=李四').get_data(as_text=True)      # the person's name
    assert NUMBERS.findall(page) == [mine.number]
    page = staff.get('/admin/registration/?search=第九工程').get_data(as_text=True)
    assert [n.split('(')[0] for n in NUMBERS.findall(page)] == [reg.number]
    # two words: both must match (person 李四 at an enterprise named …第九工程…)
    page = staff.get('/admin/application/?search=李四 第九工程').get_data(as_text=True)
    assert NUMBERS.findall(page) == [mine.number]
    page = staff.get('/admin/application/?search=王五 第九工程').get_data(as_text=True)
    assert NUMBERS.findall(page) == []


def test_the_index_follows_inserts_updates_and_deletes():
    p = make_person(name='上官婉儿')
    e = make_enterprise(name='上海浦东新区建工有限公司')
    assert staff_lists.name_ids(Person, '官婉儿')[0] == [p.id]
    assert staff_lists.name_ids(Enterprise, '浦东新区')[0] == [e.id]
    Person.update(name='上官飞燕').where(Person.id == p.id).execute()
    e.name = '上海闵行建工有限公司'
    e.save()
    assert staff_lists.name_ids(Person, '官婉儿')[0] == []
    assert staff_lists.name_ids(Person, '官飞燕')[0] == [p.id]
    assert staff_lists.name_ids(Enterprise, '浦东新区')[0] == []
    assert staff_lists.name_ids(Enterprise, '闵行建工')[0] == [e.id]
    with database.atomic():                          # a person inserted in a transaction is found in it
        q = Person.create(id_number='11010519850615999X', name='上官云霞', birth_date='1985-06-15', gender='男')
        assert staff_lists.name_ids(Person, '官云霞')[0] == [q.id]
    Person.delete().where(Person.id == q.id).execute()
    assert staff_lists.name_ids(Person, '官云霞')[0] == []


def test_index_matches_a_full_recount():
    """The trigram index answers exactly what a LIKE scan answers."""
    for name in ('张三丰', '张无忌', '张翠山', '殷素素', '张三', '三丰道人'):
        make_person(name=name)
    for fragment in ('三丰', '张三丰', '无忌', '素素', '丰道人', '张', '道人'):
        scan = sorted(i for (i,) in Person.select(Person.id).where(
            (Person.name.contains(fragment)) if len(fragment) >= 3 else Person.name.startswith(fragment)).tuples())
        assert sorted(staff_lists.name_ids(Person, fragment)[0]) == scan, fragment


def test_exact_keys_stay_exact(staff):
    a = make_person(name='甲一')
    make_person(name='乙二')
    ent = make_enterprise(name='精确查找建设有限公司')
    make_enterprise(name='另一家建设有限公司')
    assert names(staff, f'/admin/person/?search={a.id_number.lower()}') == ['甲一']
    assert names(staff, f'/admin/enterprise/?search={ent.uscc}') == ['精确查找建设有限公司']
    reg = make_registration(a, ent)
    page = staff.get(f'/admin/registration/?search={reg.number}').get_data(as_text=True)
    assert [n.split('(')[0] for n in NUMBERS.findall(page)] == [reg.number]
    app1 = build_application('initial', state='reported')
    build_application('initial', state='reported')
    page = staff.get(f'/admin/application/?search={app1.number.lower()}').get_data(as_text=True)
    assert NUMBERS.findall(page) == [app1.number]                  # a key: exact (prefix of the unique index)
    page = staff.get(f'/admin/application/?search={app1.number[:-1]}X').get_data(as_text=True)
    assert NUMBERS.findall(page) == []


def test_search_uses_the_trigram_index_not_a_scan(staff, caplog):
    from backoffice import db as dbmod
    make_person(name='公孙胜利')
    page, queries = select_count(caplog, lambda: staff.get('/admin/application/?search=公孙胜').get_data(as_text=True))
    if not dbmod.is_postgres():
        assert [q for q in queries if 'person_fts MATCH' in q], queries
        assert not [q for q in queries if 'LIKE' in q.upper() and '"name"' in q], queries
        return
    # PostgreSQL: the planner can answer both searches from the indexes of migration 0019
    with database.atomic():
        database.execute_sql('SET LOCAL enable_seqscan = off')
        plan = ' '.join(r[0] for r in database.execute_sql(
            'EXPLAIN SELECT id FROM person WHERE name ILIKE %s', ('%公孙胜%',)).fetchall())
        assert 'person_name_trgm' in plan, plan
        plan = ' '.join(r[0] for r in database.execute_sql(
            'EXPLAIN SELECT id FROM person WHERE name LIKE %s', ('公孙%',)).fetchall())
        assert 'person_name_prefix' in plan or 'person_name_trgm' in plan, plan


# --- counts and paging ----------------------------------------------------------

def test_count_is_exact_under_the_threshold(staff, small_limits):
    for k in range(4):
        make_person(name=f'计数{k}号')
    page = staff.get('/admin/person/').get_data(as_text=True)
    assert '共 4 条' in page
    assert '超过' not in page and '约' not in page.split('list-count')[1][:30]


def test_count_above_the_threshold_is_labelled_not_counted(staff, small_limits):
    for k in range(8):
        make_person(name=f'很多{k}号')
    page = staff.get('/admin/person/').get_data(as_text=True)
    label = re.search(r'<span class="list-count">(.*?)</span>', page).group(1)
    from backoffice import db as dbmod
    if dbmod.is_postgres():
        assert label == '超过 5 条' or re.fullmatch(r'约 [\d,]+ 条（估算）', label), label
    else:
        assert label == '超过 5 条'
    assert '共 8 条' not in page
    assert len(NAMES.findall(page)) == 8                       # page size 50: every row still shown


def test_count_label_helper():
    for k in range(7):
        make_person(name=f'标签{k}')
    query = Person.select()
    assert staff_lists.count_label(query, 10) == (7, '共 7 条')
    count, label = staff_lists.count_label(query, 3)
    assert count is None
    assert label == '超过 3 条' or label.startswith('约 ')
    assert staff_lists.bounded_count(query, 3) == 4              # never counts past threshold + 1


def test_deep_pages_are_bounded(staff, small_limits):
    for k in range(8):
        make_person(name=f'翻页{k}')
    # page size 50 with LIST_MAX_ROWS 20: page 2 and beyond are refused with a message, no rows read
    page = staff.get('/admin/person/?page=1').get_data(as_text=True)
    assert '列表只能翻到前 20 条' in page and NAMES.findall(page) == []
    page = staff.get('/admin/person/?page=999999').get_data(as_text=True)
    assert '列表只能翻到前 20 条' in page
    page = staff.get('/admin/person/').get_data(as_text=True)        # the first page is not refused
    assert len(NAMES.findall(page)) == 8 and '列表只能翻到' not in page


def test_list_page_query_count_is_bounded(staff, caplog):
    """The 申请 list's query count does not grow with the rows shown (related persons and enterprises
    are loaded in one query each), and the deep page runs the same queries as the first."""
    for _ in range(3):
        build_application('initial', state='reported')
    staff.get('/admin/application/')                      # warm-up
    _page, few = select_count(caplog, lambda: staff.get('/admin/application/').get_data(as_text=True))
    for _ in range(12):
        build_application('initial', state='reported')
    page, many = select_count(caplog, lambda: staff.get('/admin/application/').get_data(as_text=True))
    assert len(NUMBERS.findall(page)) == 15
    assert len(many) == len(few), many
    assert len(many) <= 8, many
    _deep, deep = select_count(caplog, lambda: staff.get('/admin/application/?page=3').get_data(as_text=True))
    assert len(deep) <= len(many)


def test_count_query_reads_at_most_threshold_plus_one_rows(staff, small_limits, caplog):
    for _ in range(3):
        make_person(name='限量')
    _page, queries = select_count(caplog, lambda: staff.get('/admin/person/').get_data(as_text=True))
    counts = [q for q in queries if 'COUNT(' in q.upper()]
    assert counts and all('LIMIT' in q.upper() for q in counts), counts
    assert not [q for q in queries if 'COUNT(' in q.upper() and 'LIMIT' not in q.upper()]


def test_a_name_matching_too_many_is_labelled_as_partial(staff, monkeypatch):
    from views.admin.base import SecureModelView
    monkeypatch.setattr(SecureModelView, 'NAME_MATCH_LIMIT', 2)
    for k in range(3):
        make_person(name=f'欧阳{k}号')
    page = staff.get('/admin/person/?search=欧阳').get_data(as_text=True)
    assert len(NAMES.findall(page)) == 2
    assert '至少 2 条' in page and '共 2 条' not in page
    assert '与“欧阳”匹配的名称超过 2 个' in page

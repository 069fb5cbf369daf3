#!/usr/bin/env python3
"""One entry point.

    python3 run.py            install (first time), migrate, seed demo data, start the server
    python3 run.py test       install test dependencies, run the whole suite (SQLite, then PostgreSQL)
    python3 run.py seed N     load demo data for N persons

On first use it creates .venv/ beside this file and installs the pinned requirements
there, then re-runs itself inside it. Only the Python 3.11 standard library is needed.
"""
import hashlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.environ.get('REGISTRY_VENV', os.path.join(HERE, '.venv'))
VENV_PY = os.path.join(VENV, 'bin', 'python')
DEFAULT_PG_TEST_URL = 'postgresql://postgres@127.0.0.1:5432/test'


def _in_venv():
    return os.path.realpath(sys.prefix) == os.path.realpath(VENV)


def _ensure_venv(requirements):
    """Create .venv and install `requirements` when their content changed since last install."""
    req_path = os.path.join(HERE, requirements)
    digest = hashlib.sha256()
    for name in ('requirements.txt', requirements):
        with open(os.path.join(HERE, name), 'rb') as fh:
            digest.update(fh.read())
    stamp = os.path.join(VENV, f'.installed-{requirements}')
    if os.path.exists(stamp) and open(stamp).read() == digest.hexdigest():
        return
    if not os.path.exists(VENV_PY):
        print(f'创建虚拟环境 {VENV} ...', flush=True)
        subprocess.check_call([sys.executable, '-m', 'venv', VENV])
    print(f'安装依赖 {requirements} ...', flush=True)
    subprocess.check_call([VENV_PY, '-m', 'pip', 'install', '--disable-pip-version-check', '-q',
                           '-r', req_path])
    with open(stamp, 'w') as fh:
        fh.write(digest.hexdigest())


def _reexec(requirements):
    if os.environ.get('REGISTRY_NO_VENV') == '1':
        return
    _ensure_venv(requirements)
    if not _in_venv():
        os.execv(VENV_PY, [VENV_PY, os.path.abspath(__file__)] + sys.argv[1:])


def serve():
    _reexec('requirements.txt')
    sys.path.insert(0, HERE)
    from backoffice import create_app
    from backoffice.config import Config
    from models import Person, database
    from seed.demo import DEMO_ACCOUNTS, generate

    app = create_app(Config)
    with app.app_context(), database.connection_context():
        if Config.SEED_DEMO and not Person.select().exists():
            print('首次启动：载入基础数据和演示数据（2000 名人员）...', flush=True)
            generate(int(os.environ.get('SEED_PERSONS', '2000')))
        else:
            from seed.reference import load_reference
            load_reference()
    consumer = _start_job_consumer()
    host = os.environ.get('HOST', '127.0.0.1')
    port = int(os.environ.get('PORT', '5000'))
    print('\n一级建造师注册管理信息系统已启动')
    print(f'  地址：http://{host}:{port}/    工作台：http://{host}:{port}/admin/')
    print(f'  数据库：{Config.DATABASE_URL}')
    print('  演示账号（用户名 / 密码 / 角色）：')
    from backoffice.roles import ROLES
    for username, password, role, _name, _p in DEMO_ACCOUNTS:
        print(f'    {username:<10} {password:<14} {ROLES[role]}')
    print(f'  后台任务进程：pid {consumer.pid}（批量打印、导出、导入）', flush=True)
    print(flush=True)
    try:
        app.run(host=host, port=port, threaded=True, debug=False)
    finally:
        consumer.terminate()


def _start_job_consumer():
    """The huey consumer for background jobs, as a child process that ends with the server."""
    import atexit
    proc = subprocess.Popen([sys.executable, '-m', 'huey.bin.huey_consumer', 'backoffice.background.consumer.huey',
                             '-w', '2', '-k', 'thread', '-q'], cwd=HERE)
    atexit.register(proc.terminate)
    return proc


def test(extra):
    _reexec('requirements-dev.txt')
    env = dict(os.environ)
    runs = [('SQLite', 'sqlite')]
    pg_url = env.get('TEST_POSTGRES_URL', DEFAULT_PG_TEST_URL)
    if _postgres_reachable(pg_url):
        runs.append(('PostgreSQL', pg_url))
    elif env.get('REQUIRE_POSTGRES') == '1':
        print(f'PostgreSQL 不可用：{pg_url}', file=sys.stderr)
        return 1
    else:
        print(f'提示：PostgreSQL（{pg_url}）不可用，本次只在 SQLite 上运行测试。', flush=True)
    status = 0
    for label, url in runs:
        print(f'\n===== 测试数据库：{label} =====', flush=True)
        env['TEST_DATABASE'] = url
        code = subprocess.call([sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', *extra], cwd=HERE,
                               env=env)
        status = status or code
    return status


def _postgres_reachable(url):
    try:
        import psycopg2
        psycopg2.connect(url, connect_timeout=3).close()
        return True
    except Exception:
        return False


def seed(args):
    _reexec('requirements.txt')
    sys.path.insert(0, HERE)
    from seed.__main__ import main
    main(args)


if __name__ == '__main__':
    command = sys.argv[1] if len(sys.argv) > 1 else 'serve'
    if command == 'serve':
        serve()
    elif command == 'test':
        sys.exit(test(sys.argv[2:]))
    elif command == 'seed':
        seed(sys.argv[2:])
    else:
        print(__doc__)
        sys.exit(2)

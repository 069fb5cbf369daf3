#!/usr/bin/env python3
"""One entry point.

    python3 run.py            install (first time), migrate, seed demo data, start the server
    python3 run.py test       install test dependencies, run the whole suite (SQLite, then PostgreSQL)
    python3 run.py seed N     load demo data for N persons
    python3 run.py migrate    apply pending migrations only (a deployment's release step)

Serving: gunicorn (gthread; WEB_WORKERS, WEB_THREADS) on HOST:PORT (default 127.0.0.1:5000)
plus the job consumer (JOB_WORKERS threads); both stop together on SIGTERM or Ctrl-C.

On first use it creates .venv/ beside this file and installs the pinned requirements
there, then re-runs itself inside it. Only the Python 3.11 standard library is needed.
"""
import hashlib
import os
import signal
import subprocess
import sys
import time

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
        _ensure_system_packages({'python3-venv': _has_ensurepip}, '创建虚拟环境')
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
    """Migrate and seed once here, then run gunicorn and the job consumer as children.

    This process supervises both: SIGTERM, SIGINT (Ctrl-C) or SIGHUP stops both, and when one of
    them exits the other is stopped too. Each child runs in its own process group, which is
    ended as a whole (gunicorn's workers included), and gets SIGTERM from the kernel should this
    process die without cleaning up (PR_SET_PDEATHSIG): no orphan is left behind.
    """
    _reexec('requirements.txt')
    sys.path.insert(0, HERE)
    host = os.environ.get('HOST', '127.0.0.1')
    port = int(os.environ.get('PORT', '5000'))
    # before the config is imported: QR codes and links point at the address actually served
    os.environ.setdefault('PUBLIC_BASE_URL', f'http://{_public_host(host)}:{port}')
    from backoffice import create_app
    from backoffice.config import config_from_env
    from models import Person, database
    from seed.demo import DEMO_ACCOUNTS, generate

    Config = config_from_env()          # APP_ENV=production: ProductionConfig
    app = create_app(Config)
    with app.app_context(), database.connection_context():
        if Config.SEED_DEMO and not Person.select().exists():
            persons = int(os.environ.get('SEED_PERSONS', '2000'))
            print(f'首次启动：载入基础数据和演示数据（{persons} 名人员）...', flush=True)
            generate(persons)
        else:
            from seed.reference import load_reference
            load_reference()
    _close_connections(database)

    env = dict(os.environ, AUTO_MIGRATE='0', HOST=host, PORT=str(port))
    children = {}
    stopping = {'signal': None}

    def on_signal(signum, _frame):
        stopping['signal'] = signum
        raise _Stop()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    status = 0
    metrics_dir = None
    if not env.get('PROMETHEUS_MULTIPROC_DIR'):
        # one directory for the web workers and the job consumer: /metrics shows both (job durations)
        import tempfile
        metrics_dir = env['PROMETHEUS_MULTIPROC_DIR'] = tempfile.mkdtemp(prefix='registry-metrics-')
    try:
        children['web'] = _spawn([sys.executable, '-m', 'gunicorn', '-c', 'python:backoffice.gunicorn_conf',
                                  'backoffice.wsgi:app'], env)
        children['jobs'] = _spawn([sys.executable, '-m', 'backoffice.background.consumer',
                                   *_consumer_args()], env)
        _wait_ready(host, port, children)
        _banner(host, port, Config, DEMO_ACCOUNTS, children)
        while True:
            for name, proc in children.items():
                if proc.poll() is not None:
                    label = {'web': 'Web 服务', 'jobs': '后台任务'}[name]
                    print(f'{label}进程已退出（{proc.returncode}），正在停止其余进程', file=sys.stderr, flush=True)
                    status = proc.returncode or 1
                    raise _Stop()
            time.sleep(0.5)
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)       # a second Ctrl-C must not cut the clean-up short
        _stop_children(children.values())
        if metrics_dir:
            import shutil
            shutil.rmtree(metrics_dir, ignore_errors=True)
    if stopping['signal'] is not None:
        print('已停止。', flush=True)
    return status


class _Stop(Exception):
    pass


def _public_host(host):
    """The host name a browser (or a phone scanning a QR code) uses to reach a server bound to `host`."""
    if host in ('0.0.0.0', '::', ''):
        import socket
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(('192.0.2.1', 9))         # no packet is sent: this only picks the outgoing address
                return s.getsockname()[0]
        except OSError:
            return '127.0.0.1'
    return f'[{host}]' if ':' in host else host


def _close_connections(database):
    """Close every connection this process opened (a pool's idle ones too) before the servers start."""
    if not database.is_closed():
        database.close()
    close_all = getattr(database.obj, 'close_all', None)
    if close_all:
        close_all()


def _consumer_args():
    workers = os.environ.get('JOB_WORKERS', '2')
    return ['-w', workers, '-k', 'thread', '-d', '0.1', '-m', '0.5', '-b', '1.15']


def _die_with_parent():
    """In the child before exec: SIGTERM when the parent dies (Linux), whatever killed it."""
    try:
        import ctypes
        libc = ctypes.CDLL('libc.so.6', use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)          # PR_SET_PDEATHSIG
    except Exception:
        pass


def _spawn(cmd, env):
    return subprocess.Popen(cmd, cwd=HERE, env=env, process_group=0, preexec_fn=_die_with_parent)


def _stop_children(procs, timeout=15):
    """SIGTERM to each child's whole process group, then SIGKILL what is left after `timeout` s."""
    procs = [p for p in procs if p is not None]
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            pass
    for proc in procs:
        _signal_group(proc, signal.SIGKILL)   # stragglers, gunicorn workers included (same group)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _wait_ready(host, port, children, timeout=60):
    """Until /healthz answers (or a child exits)."""
    import urllib.request
    local = {'0.0.0.0': '127.0.0.1', '': '127.0.0.1', '::': '[::1]'}.get(host) or _public_host(host)
    url = f'http://{local}:{port}/healthz'
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in children.values()):
            return
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)


def _banner(host, port, Config, accounts, children):
    from backoffice.roles import ROLES
    base = os.environ['PUBLIC_BASE_URL']
    print('\n一级建造师注册管理信息系统已启动（gunicorn）')
    print(f'  地址：{base}/    工作台：{base}/admin/    （监听 {host}:{port}）')
    print(f'  数据库：{Config.DATABASE_URL}')
    print('  演示账号（用户名 / 密码 / 角色）：')
    for username, password, role, _name, _p in accounts:
        print(f'    {username:<10} {password:<14} {ROLES[role]}')
    print('  新申请人注册（/portal/signup）须填资格证书管理号：演示时以 admin 登录，在“人员与企业 → 资格库”按姓名查找。')
    if Config.SMS_DEMO_OUTBOX:
        print('  短信验证码不真正发出：以 admin 登录后在 /portal/sms-outbox 查看（演示发件箱，生产配置下不存在）。')
    print(f'  Web 服务进程：pid {children["web"].pid}；后台任务进程：pid {children["jobs"].pid}（批量打印、导出、导入）')
    print('  按 Ctrl-C 停止。', flush=True)


def migrate():
    """Apply pending migrations and load the reference lists (a deployment's release step)."""
    _reexec('requirements.txt')
    sys.path.insert(0, HERE)
    from backoffice import create_app
    from models import database
    from seed.reference import load_reference
    app = create_app(AUTO_MIGRATE=True)
    with app.app_context(), database.connection_context():
        load_reference()
    print('数据库已是最新结构。', flush=True)


CHROMIUM = os.environ.get('CHROMIUM_PATH', '/usr/bin/chromium')
CJK_FONT = '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc'


def _has_ensurepip():
    import importlib.util
    return importlib.util.find_spec('ensurepip') is not None


def _ensure_system_packages(checks, purpose):
    """{Debian package: check()}. Installs the missing ones with apt-get when run as root;
    otherwise says in one line what to install and exits non-zero."""
    missing = [pkg for pkg, present in checks.items() if not present()]
    if not missing:
        return
    if os.geteuid() == 0 and _which('apt-get'):
        print(f'安装系统软件包：{" ".join(missing)} ...', flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        subprocess.check_call(['apt-get', 'update', '-qq'], env=env)
        subprocess.check_call(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', *missing], env=env)
        still = [pkg for pkg, present in checks.items() if not present()]
        if not still:
            return
        missing = still
    print(f'{purpose}需要系统软件包，请先安装：sudo apt-get install -y {" ".join(missing)}', file=sys.stderr, flush=True)
    sys.exit(1)


def _which(name):
    import shutil
    return shutil.which(name)


def _runs_browser_tests(extra):
    """True unless the arguments name only test files or folders other than the browser tests."""
    paths = [a for a in extra if not a.startswith('-') and (a.startswith('tests') or '.py' in a)]
    return not paths or any('test_browser' in p or p.rstrip('/') == 'tests' for p in paths)


def test(extra):
    _reexec('requirements-dev.txt')
    env = dict(os.environ)
    if _runs_browser_tests(extra):
        # the browser tests drive Debian's Chromium; PDFs embed the WenQuanYi font
        _ensure_system_packages({'chromium': lambda: os.path.exists(CHROMIUM),
                                 'fonts-wqy-zenhei': lambda: os.path.exists(CJK_FONT)}, '运行全部测试（含浏览器测试）')
        env['REQUIRE_BROWSER'] = '1'        # from here on a missing browser is a failure, not a skip
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
        # one -q: pytest still prints its closing "N passed in …" line (pytest.ini adds no -q)
        code = subprocess.call([sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '-q', *extra], cwd=HERE,
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
        sys.exit(serve())
    elif command == 'migrate':
        migrate()
    elif command == 'test':
        sys.exit(test(sys.argv[2:]))
    elif command == 'seed':
        seed(sys.argv[2:])
    else:
        print(__doc__)
        sys.exit(2)

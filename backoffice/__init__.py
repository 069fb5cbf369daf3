"""Application factory: create_app(config) wires the database, extensions and blueprints."""
import logging
import os

from flask import Flask, render_template
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect

from models import database

from backoffice import db as dbmod
from backoffice import limits
from backoffice.auth import login_manager
from backoffice.config import BASE_DIR, _secret_key, config_from_env

csrf = CSRFProtect()
babel = Babel()
log = logging.getLogger(__name__)


def create_app(config=None, **overrides):
    app = Flask(__name__, template_folder=os.path.join(BASE_DIR, 'views', 'templates'),
                static_folder=os.path.join(BASE_DIR, 'views', 'static'), static_url_path='/static')
    app.config.from_object(config or config_from_env())
    app.config.update(overrides)
    from backoffice import logs
    logs.init_app(app)          # first: JSON log lines, a request id on each, personal data scrubbed
    if app.config.get('PROXY_COUNT'):       # behind N reverse proxies: trust their X-Forwarded-* headers
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = int(app.config['PROXY_COUNT'])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)
    if not app.config.get('SECRET_KEY'):
        app.config['SECRET_KEY'] = _secret_key()
    for key in ('UPLOAD_DIR', 'OUTPUT_DIR'):
        os.makedirs(app.config[key], exist_ok=True)

    from backoffice.intake import sms
    sms.init_app(app)           # an unknown or incomplete SMS_GATEWAY stops the start here, not a request
    dbmod.bind(app.config['DATABASE_URL'])
    if app.config.get('AUTO_MIGRATE', True):
        dbmod.migrate()

    csrf.init_app(app)
    babel.init_app(app, locale_selector=lambda: 'zh_Hans_CN')
    login_manager.init_app(app)
    limits.init_app(app)
    from backoffice import headers, urls
    urls.init_app(app)          # before any route: an id above 2^63-1 matches no rule (404)
    headers.init_app(app)       # security headers on every response
    from backoffice import metrics
    metrics.init_app(app)       # Prometheus request latency per endpoint (/metrics: views/health.py)

    @app.before_request
    def _db_connect():
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _db_close(exc):
        if not database.is_closed():
            database.close()

    from backoffice.roles import ROLES

    @app.context_processor
    def _globals():
        return {'role_labels': ROLES}

    from views import register_views
    register_views(app)
    from backoffice.background import bulk  # noqa: F401  (registers the background job handlers)
    from backoffice.issuing import printing  # noqa: F401
    from backoffice.notify import tasks as notify_tasks   # sends the notification outbox after commit
    notify_tasks.init_app(app)
    from backoffice.background.cli import register_commands
    register_commands(app)
    _register_error_pages(app)
    return app


def _register_error_pages(app):
    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        return render_template('error.html', code=400, title='页面已过期',
                               message='表单已过期或缺少安全校验码（CSRF），请刷新页面后重新提交。'), 400

    for code, title, message in (
            (403, '无权访问', '您的账号没有访问此页面或执行此操作的权限。'),
            (404, '页面不存在', '您要访问的页面或记录不存在。'),
            (405, '请求方式不正确', '该地址不接受此请求方式。'),
            (413, '文件过大', '上传的文件超过大小限制。')):
        app.register_error_handler(
            code, (lambda c, t, m: lambda exc: (render_template('error.html', code=c, title=t, message=m), c))(
                code, title, message))

    @app.errorhandler(500)
    def _server_error(exc):
        log.exception('server error')
        return render_template('error.html', code=500, title='系统错误',
                               message='系统处理请求时出错，已记录，请稍后再试。'), 500

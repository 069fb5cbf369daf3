"""Web-facing code: blueprints by audience, plus the Flask-Admin staff back office."""
import os

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme


# Messages Flask-Admin's own zh_Hans_CN catalogue leaves in English ("Failed to create record."): its
# admin.mo predates them. Admin(translations_path=...) adds this folder inside an admin view only, and
# Flask-Admin's translation domain caches the first catalogue it builds per locale, so the folder is
# also put on the domain itself: every call sees it, whatever was translated first.
TRANSLATIONS = os.path.join(os.path.dirname(__file__), 'translations')


def _admin_translations():
    from flask_admin import babel as admin_babel
    domain = getattr(admin_babel, 'domain', None)
    dirs = getattr(domain, '_translation_directories', None)
    if dirs is not None and TRANSLATIONS not in dirs:
        domain._translation_directories = [TRANSLATIONS, *dirs]
        domain.cache.clear()


def register_views(app):
    _admin_translations()
    from backoffice.roles import STAFF_ROLES
    from backoffice.validators import mask_id_number, mask_mobile

    # templates mask through the one rule in backoffice.validators, never by slicing
    app.add_template_filter(mask_id_number, 'mask_id')
    app.add_template_filter(mask_mobile, 'mask_mobile')
    from . import layout
    layout.init_app(app)                   # the public pages' frame, drawn once (views/layout.py)

    # Flask-Admin's return addresses (`url=`) go through the one safe-redirect check as well.
    import flask_admin.helpers
    from backoffice.redirects import is_safe_path
    flask_admin.helpers.is_safe_url = is_safe_path

    from . import auth, enterprise, enterprise_account, files, health, messages, portal, public
    from .admin import register as register_admin
    from .admin.base import StaffIndexView

    app.register_blueprint(health.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(enterprise.bp)
    app.register_blueprint(messages.bp)
    app.register_blueprint(enterprise_account.bp)
    from .api import register as register_api
    register_api(app)                      # the open API under /api/v1 (views/api, backoffice/api)
    admin = Admin(app, name='一级建造师注册管理信息系统',
                  theme=Bootstrap4Theme(base_template='admin/staff_base.html', fluid=True),
                  translations_path=TRANSLATIONS,
                  index_view=StaffIndexView(read_roles=STAFF_ROLES))
    register_admin(admin)
    app.extensions['registry_admin'] = admin
    from .policies import install as install_route_policies
    install_route_policies(app)            # every endpoint has a declared policy, enforced (views/policies.py)
    return admin

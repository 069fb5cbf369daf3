"""Web-facing code: blueprints by audience, plus the Flask-Admin staff back office."""
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme


def register_views(app):
    from backoffice.roles import STAFF_ROLES

    from . import auth, enterprise, files, portal, public
    from .admin import register as register_admin
    from .admin.base import StaffIndexView

    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(enterprise.bp)
    admin = Admin(app, name='一级建造师注册管理信息系统',
                  theme=Bootstrap4Theme(base_template='admin/staff_base.html', fluid=True),
                  index_view=StaffIndexView(read_roles=STAFF_ROLES))
    register_admin(admin)
    app.extensions['registry_admin'] = admin
    return admin

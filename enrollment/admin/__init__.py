"""The staff admin panel (Flask-Admin), at /admin/, staff only."""
from flask import Flask
from flask_admin import Admin

from .security import StaffIndexView


def init_app(app: Flask) -> None:
    admin = Admin(
        app,
        name="Enrollment admin",
        index_view=StaffIndexView(url="/admin", template="admin/dashboard.html"),
        theme=_theme(),
    )
    from . import guard
    from .views import register_views

    guard.init_app(app)
    register_views(admin)


def _theme():
    from flask_admin.theme import Bootstrap4Theme

    return Bootstrap4Theme(swatch="default", fluid=True, base_template="admin/site_base.html")

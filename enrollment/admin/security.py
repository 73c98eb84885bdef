"""Staff-only access for every admin view, including the index, AJAX lookups and exports."""
from flask import abort
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from ..extensions import login_manager


class StaffOnly:
    """Mixin for Flask-Admin views: anonymous → login page, non-staff → 403."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.is_staff

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        abort(403)


class StaffIndexView(StaffOnly, AdminIndexView):
    @expose("/")
    def index(self):
        from .dashboard import dashboard_data

        return self.render(self._template, **dashboard_data())

"""Access decorators shared by the student site, the reports and the admin panel."""
from functools import wraps

from flask import abort
from flask_login import current_user

from ..extensions import login_manager


def staff_required(view):
    """Anonymous users go to the login page; logged-in non-staff users get 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def student_required(view):
    """Anonymous users go to the login page; users without a student profile get 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.student is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapped

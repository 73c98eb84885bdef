"""Access decorators shared by the student site, the teaching pages, the reports and the admin
panel, and the one rule of who may see a course's roster."""
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


def teaching_required(view):
    """Instructors and staff; anonymous users go to the login page, everyone else gets 403.

    Which courses an instructor may see is the view's to check, with `may_teach`.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not (current_user.is_staff or current_user.is_instructor):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def may_teach(user, course) -> bool:
    """Staff see every course; an instructor only the courses they teach."""
    if not user.is_authenticated:
        return False
    return user.is_staff or (user.is_instructor and course.instructor_id == user.id)


def require_teaching(course) -> None:
    """403 unless the logged-in user may see this course's roster (`may_teach`)."""
    if not may_teach(current_user, course):
        abort(403)


def student_required(view):
    """Anonymous users go to the login page; users without a student profile get 403, and so
    do instructors (an instructor's account does not act as a student's)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.student is None or current_user.is_instructor:
            abort(403)
        return view(*args, **kwargs)

    return wrapped

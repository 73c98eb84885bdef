"""User accounts in the admin: roles and the active flag; passwords are set, never shown."""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import PasswordField
from wtforms.validators import Optional

from ..auth.passwords import password_problem
from ..extensions import db
from ..fields import strip_nul
from ..models import Enrollment, Student, User
from ..records import UserFields
from .base import StaffModelView, flash_outcome, time_filters
from .records import RecordFormMixin


class AccountRefused(Exception):
    """A change to an account that the admin refuses; `.code` is stable, `.message` is shown."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class UserView(RecordFormMixin, StaffModelView):
    column_list = ["email", "name", "role", "active", "student.student_number", "created_at"]
    column_labels = {"student.student_number": "Student number", "created_at": "Created"}
    column_exclude_list = ["password_hash"]
    column_export_exclude_list = ["password_hash"]
    column_export_list = ["email", "name", "role", "active", "created_at"]
    column_sortable_list = ["email", "name", "role", "active", "created_at"]
    column_default_sort = [("email", False)]
    column_searchable_list = ["email", "name"]
    column_filters = ["role", "active", *time_filters(User.created_at, "Created")]
    column_details_exclude_list = ["password_hash"]

    # Email and name come from `records.UserFields` (as in the student import and
    # create-staff); the role and the active flag are scaffolded. The rules set the order.
    record_fields = UserFields
    form_columns = ["role", "active", "new_password"]
    form_create_rules = form_edit_rules = ("email", "name", "role", "active", "new_password")
    unique_fields = {"email": "Another account already uses this email."}
    form_extra_fields = {
        "new_password": PasswordField(
            "New password", validators=[Optional()], filters=[strip_nul],
            description="Leave empty to keep the current password. Required for a new "
                        "account that should be able to log in."),
    }

    def get_query(self):
        return super().get_query().options(joinedload(User.student))

    def validate_form(self, form):
        ok = super().validate_form(form)
        field = getattr(form, "new_password", None)
        if field is not None and field.data:
            problem = password_problem(field.data)
            if problem:
                field.errors = [*field.errors, problem]
                ok = False
        return ok

    def on_model_change(self, form, model, is_created):
        if model.id == current_user.id and (not model.active or not model.is_staff):
            # Locking yourself out of the admin is never what was meant. Flask-Admin rolls the
            # populated form back and shows the message (handle_view_exception).
            raise AccountRefused("own_account",
                                 "You cannot remove your own staff role or deactivate yourself.")
        if form.new_password.data:
            model.set_password(form.new_password.data)

    def handle_view_exception(self, exc):
        if isinstance(exc, AccountRefused):
            flash_outcome(exc.message, "danger")
            return True
        return super().handle_view_exception(exc)

    def delete_blocker(self, model):
        if model.id == current_user.id:
            return "You cannot delete your own account."
        links = db.session.scalar(select(func.count()).select_from(Enrollment)
                                  .join(Student, Student.id == Enrollment.student_id)
                                  .where(Student.user_id == model.id))
        if links:
            return (f"{model.email} cannot be deleted: their student profile has {links} "
                    "enrollments. Drop them first, or untick Active to block the login.")
        return None


"""User accounts in the admin: roles and the active flag; passwords are set, never shown."""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import EmailField, PasswordField
from wtforms.validators import Email, InputRequired, Length, Optional

from ..auth.passwords import password_problem
from ..extensions import db
from ..fields import strip, strip_nul
from ..models import Enrollment, Student, User, normalize_email
from .base import StaffModelView, editing_id, flash_outcome, time_filters


class UserView(StaffModelView):
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

    form_columns = ["email", "name", "role", "active", "new_password"]
    form_excluded_columns = ["password_hash", "student", "created_at"]
    form_overrides = {"email": EmailField}
    form_extra_fields = {
        "new_password": PasswordField(
            "New password", validators=[Optional()], filters=[strip_nul],
            description="Leave empty to keep the current password. Required for a new "
                        "account that should be able to log in."),
    }
    form_args = {
        "email": {"validators": [InputRequired(), Email(), Length(max=254)], "filters": [strip]},
        "name": {"validators": [InputRequired(), Length(max=120)], "filters": [strip]},
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
        email = getattr(form, "email", None)
        if email is not None and email.data and not email.errors:
            owner = db.session.scalar(select(User.id).where(
                User.email == normalize_email(email.data)))
            if owner is not None and owner != editing_id():
                email.errors = [*email.errors, "Another account already uses this email."]
                ok = False
        return ok

    def on_model_change(self, form, model, is_created):
        if form.new_password.data:
            model.set_password(form.new_password.data)
        if model.id == current_user.id and (not model.active or not model.is_staff):
            # Locking yourself out of the admin is never what was meant.
            raise ValueError("You cannot remove your own staff role or deactivate yourself.")

    def handle_view_exception(self, exc):
        if isinstance(exc, ValueError):
            flash_outcome(str(exc), "danger")
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


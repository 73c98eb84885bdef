"""The base of every admin model view: staff only, safe exports, no direct writes by default."""
from __future__ import annotations

import enum
from datetime import datetime

from flask import flash, request
from flask_admin.contrib.sqla import ModelView, filters
from flask_admin.contrib.sqla.typefmt import DEFAULT_FORMATTERS
from flask_admin.model.typefmt import EXPORT_FORMATTERS
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..reports.safe_cells import safe_cell
from .security import StaffOnly


def time_filters(column, label: str) -> list:
    """Between / after / before filters for a UTC datetime column.

    Flask-Admin does not recognise our `UTCDateTime` type decorator, so these are explicit.
    """
    return [filters.DateTimeBetweenFilter(column, label),
            filters.DateTimeGreaterFilter(column, label),
            filters.DateTimeSmallerFilter(column, label)]


def _enum_value(view, value, name):
    return value.value


def _utc_minutes(view, value, name):
    return value.strftime("%Y-%m-%d %H:%M")


# Enums as their stored words ("waitlisted", not "WAITLISTED"); times in UTC to the minute.
# Ours first: Flask-Admin picks the first formatter whose type matches.
OURS = {enum.Enum: _enum_value, datetime: _utc_minutes}
LIST_FORMATTERS = {**OURS, **{k: v for k, v in DEFAULT_FORMATTERS.items() if k not in OURS}}
EXPORT_TYPE_FORMATTERS = {**OURS, **{k: v for k, v in EXPORT_FORMATTERS.items() if k not in OURS}}


class StaffModelView(StaffOnly, ModelView):
    """A Flask-Admin model view for staff, exporting CSV/XLSX with neutralised formulas."""

    column_type_formatters = LIST_FORMATTERS
    column_type_formatters_export = EXPORT_TYPE_FORMATTERS

    page_size = 50
    can_set_page_size = True
    can_view_details = False
    can_export = True
    export_types = ["csv", "xlsx"]
    export_max_rows = 50_000
    # Refusal messages for `delete_model` when the database refuses (FK RESTRICT).
    delete_refused_message = "This record is still in use and cannot be deleted."

    def __init__(self, model, **kwargs):
        # Flask-Admin 2 wants the SQLAlchemy object; a bare session is deprecated (warns).
        super().__init__(model, db, **kwargs)

    # Flask-Admin's form scaffolding already adds an "Already exists." check on unique columns;
    # this message covers a race past it, or a CHECK constraint.
    integrity_message = "The database refused the change (a duplicate or a broken link)."

    def handle_view_exception(self, exc):
        if isinstance(exc, IntegrityError):
            # Say so, never show the SQL.
            flash(self.integrity_message, "danger")
            return True
        return super().handle_view_exception(exc)

    def get_export_value(self, model, name):
        return safe_cell(super().get_export_value(model, name))

    def delete_blocker(self, model) -> str | None:
        """Why `model` cannot be deleted right now, or None (views override)."""
        return None

    def delete_model(self, model) -> bool:
        reason = self.delete_blocker(model)
        if reason:
            flash(reason, "danger")
            return False
        try:
            db.session.delete(model)
            db.session.commit()
        except IntegrityError:
            # A link appeared between the check and the delete: the FKs restrict, we explain.
            db.session.rollback()
            flash(self.delete_refused_message, "danger")
            return False
        return True


class ReadOnlyModelView(StaffModelView):
    """A list-only view: nothing can be created, edited or deleted from it."""

    can_create = False
    can_edit = False
    can_delete = False


def editing_id() -> int | None:
    """The id of the record on an edit page (None on a create page)."""
    try:
        return int(request.args.get("id", ""))
    except ValueError:
        return None

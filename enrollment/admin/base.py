"""The base of every admin model view: staff only, safe exports, no direct writes by default."""
from __future__ import annotations

import enum
from datetime import datetime

from flask import flash, g, request, session
from flask_admin.babel import gettext
from flask_admin.contrib.sqla import ModelView, filters
from flask_admin.contrib.sqla.typefmt import DEFAULT_FORMATTERS
from flask_admin.model.typefmt import EXPORT_FORMATTERS
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..reports.safe_cells import safe_cell
from .enum_filters import FilterConverter
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


def flash_outcome(message: str, category: str) -> None:
    """Flash the one message that says how a save went.

    Flask-Admin adds its own generic "Record was successfully saved." / "Failed to save record."
    after our hooks return; once a view has said what happened, those are dropped (see
    `StaffModelView._tidy_flashes`), so staff read one message per outcome.
    """
    flash(message, category)
    g.admin_outcome_flashed = True


def _generic_outcomes() -> tuple[set[str], set[str]]:
    """Flask-Admin's generic (success, failure) messages of the create and edit views."""
    return ({gettext("Record was successfully created."), gettext("Record was successfully saved.")},
            {gettext("Failed to create record."), gettext("Failed to save record.")})


def _error_labels(form) -> list[str]:
    labels = []
    for name in form.errors:
        field = form._fields.get(name)
        labels.append(field.label.text if field is not None and field.label else name)
    return labels


class StaffModelView(StaffOnly, ModelView):
    """A Flask-Admin model view for staff, exporting CSV/XLSX with neutralised formulas."""

    column_type_formatters = LIST_FORMATTERS
    column_type_formatters_export = EXPORT_TYPE_FORMATTERS

    page_size = 50
    can_set_page_size = True
    # Filter arguments by name (?flt0_status_equals=waitlisted), not by position: links such
    # as the dashboard's keep working when a filter is added to a view.
    named_filter_urls = True
    filter_converter = FilterConverter()
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
            flash_outcome(self.integrity_message, "danger")
            return True
        return super().handle_view_exception(exc)

    # --- one message per outcome ------------------------------------------------------------
    def _run_view(self, fn, *args, **kwargs):
        # `g` outlives the request when an app context was already pushed (tests, CLI).
        g.admin_outcome_flashed = False
        response = super()._run_view(fn, *args, **kwargs)
        # After a redirect the messages wait in the session for the next page: tidy them now.
        self._tidy_flashes()
        return response

    def render(self, template, **kwargs):
        # A form shown again (refused or invalid) reads the messages while rendering.
        self._tidy_flashes(kwargs.get("form"))
        return super().render(template, **kwargs)

    @staticmethod
    def _tidy_flashes(form=None) -> None:
        pending = session.get("_flashes")
        if not pending:
            return
        saved, failed = _generic_outcomes()
        if g.get("admin_outcome_flashed"):
            kept = [(c, m) for c, m in pending if m not in saved | failed]
        elif form is not None and request.method == "POST" and form.errors:
            # "Failed to save record." says nothing about where: name the fields instead.
            text = f"Nothing was saved. Check {', '.join(_error_labels(form))} below."
            kept = [(c, text if m in failed else m) for c, m in pending]
        else:
            return
        if kept != pending:
            session["_flashes"] = kept

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
    column_display_actions = False  # no buttons: an empty first column otherwise


def editing_id() -> int | None:
    """The id of the record on an edit page (None on a create page)."""
    try:
        return int(request.args.get("id", ""))
    except ValueError:
        return None

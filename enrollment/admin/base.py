"""The base of every admin model view: staff only, safe exports, no direct writes by default."""
from __future__ import annotations

import enum
from datetime import datetime

from flask import flash, g, request, session
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import gettext, lazy_gettext
from flask_admin.contrib.sqla import ModelView, filters
from flask_admin.contrib.sqla.typefmt import DEFAULT_FORMATTERS
from flask_admin.model.typefmt import EXPORT_FORMATTERS
from flask_admin.tools import iterdecode
from sqlalchemy import tuple_
from sqlalchemy.exc import IntegrityError

from ..database import no_lazy_loads
from ..extensions import db
from ..models import parse_id
from ..reports.safe_cells import safe_cell
from . import export_sheets
from .bulk import MAX_ITEMS, SHOWN_FAILURES
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
    saving = g.get("admin_saving")
    if saving is not None:
        saving["outcome_flashed"] = True


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


def _without_lazy_loads(chunks):
    """The chunks of a streamed export, each made under `no_lazy_loads` (set only while a
    chunk is made: nothing of it stays set between chunks, or after)."""
    iterator = iter(chunks)
    try:
        while True:
            with no_lazy_loads():
                try:
                    chunk = next(iterator)
                except StopIteration:
                    return
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


class StaffModelView(StaffOnly, ModelView):
    """A Flask-Admin model view for staff, exporting CSV/XLSX with neutralised formulas."""

    column_type_formatters = LIST_FORMATTERS
    column_type_formatters_export = EXPORT_TYPE_FORMATTERS
    # Flask-Admin's list, with accessible names on the row checkboxes.
    list_template = "admin/model/staff_list.html"

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

    # A list and its exports load what their rows show with the page (each view's `get_query`
    # names it): a lazy load there would be one more query per row, so it raises instead.
    @expose("/")
    def index_view(self):
        with no_lazy_loads():
            return super().index_view()

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
    # Flask-Admin flashes its generic outcome inside these two views, after our hooks return:
    # they are exposed again (its documented way to extend a view) to tidy what they flashed.
    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        return self._one_message_per_outcome(super().create_view)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        return self._one_message_per_outcome(super().edit_view)

    # The sheet of an XLSX export is named after the view ("Courses"); see export_sheets.
    @expose("/export/<export_type>/")
    def export(self, export_type):
        export_sheets.register()
        with export_sheets.sheet_title(str(self.name)), no_lazy_loads():
            response = super().export(export_type)
        if response.is_streamed:  # the CSV rows are written after the view returned
            response.response = _without_lazy_loads(response.response)
        return response

    def _one_message_per_outcome(self, view):
        # `g` outlives the request when an app context was already pushed (tests, CLI), so the
        # state is set up for this view only and removed after it.
        g.admin_saving = {"outcome_flashed": False}
        try:
            response = view()
            # After a redirect the messages wait in the session for the next page: tidy them now.
            self._tidy_flashes()
        finally:
            g.pop("admin_saving", None)
        return response

    def render(self, template, **kwargs):
        if g.get("admin_saving") is not None:
            # A form shown again (refused or invalid) reads the messages while rendering.
            self._tidy_flashes(kwargs.get("form"))
        return super().render(template, **kwargs)

    @staticmethod
    def _tidy_flashes(form=None) -> None:
        pending = session.get("_flashes")
        if not pending:
            return
        saved, failed = _generic_outcomes()
        if g.admin_saving["outcome_flashed"]:
            kept = [(c, m) for c, m in pending if m not in saved | failed]
        elif form is not None and request.method == "POST" and form.errors:
            # "Failed to save record." says nothing about where: name the fields instead.
            text = f"Nothing was saved. Check {', '.join(_error_labels(form))} below."
            kept = [(c, text if m in failed else m) for c, m in pending]
        else:
            return
        if kept != pending:
            session["_flashes"] = kept

    # --- record ids ------------------------------------------------------------------------
    def parse_key(self, raw):
        """The primary key in a posted or linked id, or None when it cannot be one.

        An int for a one-column key ("7"); a tuple for a composite one, in Flask-Admin's
        encoding ("3,7"). Flask-Admin would pass the raw text to the database, where "abc",
        "1,2" on a one-column key or a number past the column's range end in a 500.
        """
        parts = [parse_id(part) for part in iterdecode(str(raw))]
        if None in parts or len(parts) != len(self.model.__mapper__.primary_key):
            return None
        return parts[0] if len(parts) == 1 else tuple(parts)

    def get_one(self, id):
        key = self.parse_key(id)
        # None makes Flask-Admin say "Record does not exist." and go back to the list.
        return None if key is None else db.session.get(self.model, key)

    def rows_for_keys(self, keys: list) -> list:
        """The rows of this view (`get_query`) with these parsed keys, in key order."""
        if not keys:
            return []
        columns = self.model.__mapper__.primary_key
        key = columns[0] if len(columns) == 1 else tuple_(*columns)
        return self.get_query().filter(key.in_(keys)).order_by(*columns).all()

    def get_export_value(self, model, name):
        return safe_cell(super().get_export_value(model, name))

    def delete_blocker(self, model) -> str | None:
        """Why `model` cannot be deleted right now, or None (views override)."""
        return None

    def delete_model(self, model) -> bool:
        reason = self.delete_blocker(model)
        if not reason:
            try:
                db.session.delete(model)
                db.session.commit()
                return True
            except IntegrityError:
                # A link appeared between the check and the delete: the FKs restrict, we explain.
                db.session.rollback()
                reason = f"{model}: {self.delete_refused_message}"
        self.refuse_delete(reason)
        return False

    @staticmethod
    def refuse_delete(reason: str) -> None:
        """Say why a record was not deleted; the bulk delete gathers these into one message."""
        refusals = g.get("admin_delete_refusals")
        if refusals is None:
            flash(reason, "danger")
        else:
            refusals.append(reason)

    # Replaces Flask-Admin's, which hands the posted ids as text to an IN over an integer column
    # (PostgreSQL: "integer = character varying") and flashes a count without the reasons.
    # The decorator is repeated: Flask-Admin finds actions by the attribute on the method.
    @action("delete", lazy_gettext("Delete"),
            lazy_gettext("Are you sure you want to delete selected records?"))
    def action_delete(self, ids):
        if not ids:
            flash("Select at least one row first.", "warning")
            return
        if len(ids) > MAX_ITEMS:
            flash(f"Select at most {MAX_ITEMS} rows at a time. Nothing was deleted.", "danger")
            return
        keys, problems = [], []
        for raw in dict.fromkeys(ids):
            key = self.parse_key(raw)
            if key is None:
                problems.append(f"{raw[:40]!r} is not a record id")
            else:
                keys.append(key)
        keys = list(dict.fromkeys(keys))  # "7" and "07" are one record
        total = len(keys) + len(problems)
        rows = self.rows_for_keys(keys)
        if len(rows) < len(keys):
            gone = len(keys) - len(rows)
            problems.append(f"{gone} of the selected records no longer exist" if gone > 1
                            else "1 of the selected records no longer exists")
        g.admin_delete_refusals = refusals = []
        try:
            # Each row in its own transaction (delete_model commits): one refusal keeps the rest.
            deleted = sum(1 for row in rows if self.delete_model(row))
        finally:
            g.pop("admin_delete_refusals", None)
        if deleted:
            flash(f"Delete: {deleted} of {total} deleted.", "success")
        if deleted < total:
            reasons = refusals + problems
            more = len(reasons) - SHOWN_FAILURES
            detail = " · ".join(reasons[:SHOWN_FAILURES]) + (f" · and {more} more" if more > 0
                                                            else "")
            flash(f"Delete: {total - deleted} of {total} not deleted"
                  + (f" — {detail}" if detail else "."), "danger")


class ReadOnlyModelView(StaffModelView):
    """A list-only view: nothing can be created, edited or deleted from it."""

    can_create = False
    can_edit = False
    can_delete = False
    column_display_actions = False  # no buttons: an empty first column otherwise


def editing_id() -> int | None:
    """The id of the record on an edit page (None on a create page)."""
    return parse_id(request.args.get("id"))


class ShowOnceOnCreate:
    """For a view whose create makes a secret (an API token, a webhook signing secret): the
    secret is shown on the page that answers the create (201; never in a redirect, which
    would carry it in the session cookie), and never again. `create_model` hands what it made to
    `show_once`; `created_page` renders it."""

    def show_once(self, made) -> None:
        g.admin_show_once = made

    def created_page(self, made):
        raise NotImplementedError

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        g.admin_show_once = None
        try:
            response = super().create_view()
            made = g.get("admin_show_once")
        finally:
            g.pop("admin_show_once", None)
        if made is None:
            return response
        # 201: the POST made the record, and this page (with its secret) is the answer.
        return self.created_page(made), 201


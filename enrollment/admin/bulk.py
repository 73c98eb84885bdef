"""Bulk actions: a small form page for the extra input, then one rules call per item.

Each item runs in its own `write_transaction`, so one refusal does not undo the others; the
flash messages say how many succeeded and, for each other one, why it failed. (A staff member
who selects 40 students expects the 38 that can be enrolled to be enrolled.)
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_login import current_user

from .. import clock, services
from ..database import write_transaction
from ..extensions import db
from ..models import parse_id

SHOWN_FAILURES = 20  # flash at most this many individual reasons; count the rest
MAX_ITEMS = 1000     # one page of the list at its largest page size, with room to spare


def int_ids(ids: list[str]) -> list[int]:
    """The integer ids among the posted ones (anything else is ignored)."""
    result = []
    for raw in ids[:MAX_ITEMS]:
        value = parse_id(raw)
        if value is not None:
            result.append(value)
    return result


@dataclass(frozen=True)
class BulkOp:
    """One bulk action: its page title, its form, and how to run it on one item."""

    title: str
    form: type
    run: Callable  # run(view, item, form, context) -> str (what happened, e.g. "waitlisted")
    button: str = "Apply"


class BulkActionsMixin:
    """For a ModelView with `bulk_ops` (name → BulkOp) and `bulk_items(ids)` / `bulk_label`."""

    bulk_ops: dict[str, BulkOp] = {}

    def bulk_items(self, ids: list[str]) -> list:
        """The selected rows, loaded in a fixed number of queries, in a stable order."""
        raise NotImplementedError

    def bulk_label(self, item) -> str:
        return str(item)

    def bulk_page(self, op: str, ids: list[str], form=None, status: int = 200):
        """Render the form page of a bulk action for the selected rows."""
        spec = self.bulk_ops.get(op)
        if spec is None:
            abort(404)
        items = self.bulk_items(ids)
        if not items:
            flash("Select at least one row first.", "warning")
            return redirect(self.get_url(".index_view"))
        form = form or spec.form(formdata=None)
        return self.render("admin/bulk.html", spec=spec, op=op, form=form, items=items,
                           labels=[self.bulk_label(i) for i in items],
                           ids=[self.get_pk_value(i) for i in items],
                           return_url=get_redirect_target() or self.get_url(".index_view")
                           ), status

    @expose("/bulk/<op>/", methods=("POST",))
    def bulk_view(self, op):
        spec = self.bulk_ops.get(op)
        if spec is None or not self.is_action_allowed(op):
            abort(404)
        ids = request.form.getlist("rowid")
        form = spec.form()
        if not form.validate():
            return self.bulk_page(op, ids, form=form, status=400)
        items = self.bulk_items(ids)
        context = {"actor": current_user._get_current_object(), "now": clock.now()}
        done, failed = [], []
        for item in items:
            label = self.bulk_label(item)
            try:
                with write_transaction(db.session):
                    outcome = spec.run(self, item, form, context)
            except services.EnrollmentRefused as exc:
                failed.append(f"{label}: {exc.message}")
            else:
                done.append(outcome)
        self._flash_outcome(spec, len(items), done, failed)
        return redirect(get_redirect_target() or self.get_url(".index_view"), code=303)

    @staticmethod
    def _flash_outcome(spec: BulkOp, total: int, done: list[str], failed: list[str]) -> None:
        if done:
            kinds = {}
            for word in done:
                kinds[word] = kinds.get(word, 0) + 1
            detail = ", ".join(f"{n} {word}" for word, n in kinds.items())
            flash(f"{spec.title}: {len(done)} of {total} done ({detail}).", "success")
        if failed:
            more = len(failed) - SHOWN_FAILURES
            text = " · ".join(failed[:SHOWN_FAILURES]) + (f" · and {more} more" if more > 0
                                                           else "")
            flash(f"{spec.title}: {len(failed)} of {total} not done — {text}", "danger")

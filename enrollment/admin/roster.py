"""Saving a course or student form through the rules, with the student's courses multi-select.

Flask-Admin would write the association proxy (`Student.courses`) straight into `enrollments`,
skipping capacity, the waitlist and the audit. `RosterFormMixin` replaces `create_model` /
`update_model`: the plain fields and every link change run in one `write_transaction`, each
link change through `services.enroll` or `services.drop`, so a refusal rolls back the whole
form (other fields included). Every link change is decided before the form is refused, so the
first Save lists every failing rule of every change, on the field, with override checkboxes
for exactly those rules (none are shown before a rule fails). A course removed from the
select is dropped only once staff tick `confirm_drops` (a stray "×" must not drop anything on
Save); a course's roster is edited in the roster editor instead (roster_editor.py).
"""
from __future__ import annotations

from collections import Counter

from flask import request
from flask_admin.form import rules
from flask_admin.model.fields import AjaxSelectMultipleField
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms import BooleanField
from wtforms.validators import Optional

from .. import clock, services
from ..database import write_transaction
from ..extensions import db
from ..models import Source, Status
from ..services import Override
from .base import flash_outcome
from .forms import check_override_reason, override_field, overrides_of, reason_field

# Form fields that never reach `populate_obj`: the rules handle them.
RULE_FIELDS = ("overrides", "reason", "confirm_drops")
CONFIRM_DROPS = "Yes, drop what I removed"


class StrictAjaxSelectMultipleField(AjaxSelectMultipleField):
    """Keeps the order staff picked (it is the waitlist order) and refuses unknown ids
    instead of silently leaving them out (which would drop someone)."""

    def process_formdata(self, valuelist):
        ids = [n for field in valuelist for n in field.split(self.separator) if n]
        self._formdata = list(dict.fromkeys(ids))
        if not self._formdata:
            # Flask-Admin treats an emptied select as "unchanged": emptied means nobody.
            self._set_data([])

    def pre_validate(self, form):
        self.data  # noqa: B018  (loading the data is what flags unknown ids)
        super().pre_validate(form)


class RosterRefused(Exception):
    """Changes the rules refused; `.field` is the form field to show them on, `.messages`
    one line per refusal, `.offered` the overrides that would lift them."""

    def __init__(self, field: str, message: str | list[str],
                 offered: frozenset[Override] = frozenset(), drops_pending: bool = False):
        self.messages = [message] if isinstance(message, str) else list(message)
        super().__init__(" ".join(self.messages))
        self.field = field
        self.message = " ".join(self.messages)
        self.offered = frozenset(offered)
        self.drops_pending = drops_pending  # removals that wait for `confirm_drops`


class WhenOffered(rules.Field):
    """A form rule for the override checkboxes: shown only when some rule is offered."""

    def __call__(self, form, form_opts=None, field_args=None):
        field = getattr(form, self.field_name, None)
        if field is None or not field.choices:
            return ""
        return super().__call__(form, form_opts, field_args)


class WhenDropsPending(rules.Field):
    """A form rule for the drop confirmation: shown only when a Save would drop something."""

    def __call__(self, form, form_opts=None, field_args=None):
        field = getattr(form, self.field_name, None)
        if field is None or not (getattr(form, "drops_pending", False) or field.data):
            return ""
        return super().__call__(form, form_opts, field_args)


def offer_overrides(form, offered) -> None:
    """Show checkboxes for exactly `offered` and the ones already ticked (a form shown again)."""
    if "overrides" not in form._fields or form.overrides.errors:
        return
    wanted = {Override(m) for m in offered} | set(overrides_of(form.overrides))
    form.overrides.choices = [(v, label) for v, label in form.overrides.choices
                              if v in wanted]


class RosterFormMixin:
    """For a ModelView whose `link_field` is an association proxy of the other side."""

    link_field: str = ""          # "courses" on students; empty: no links on the form
    link_loader = None            # the AjaxModelLoader for the multi-select
    unique_message = "Another record already uses this code or number."

    # --- the form -----------------------------------------------------------------------
    def scaffold_form(self):
        form_class = super().scaffold_form()
        if not self.link_field:
            return form_class
        # Flask-Admin 2.2.1 looks up form_ajax_refs for an association proxy under the remote
        # attribute's name ("student"), finds nothing and builds a plain select of every row
        # (20,000 students: an 800 KiB page). Re-attach the field with our loader.
        setattr(form_class, self.link_field, StrictAjaxSelectMultipleField(
            self.link_loader, label=self.link_field.capitalize(), validators=[Optional()],
            description=self.link_description))
        form_class.overrides = override_field(*self.link_overrides)
        form_class.reason = reason_field()
        # A removed chip drops only once confirmed: a stray "×" must not drop anyone on Save.
        form_class.confirm_drops = BooleanField(
            CONFIRM_DROPS, description="Removing an item from the list above drops it; the "
                                       "freed seat goes to the waitlist.")
        return form_class

    link_description = ""
    link_overrides: tuple = ()
    form_widget_args = {"overrides": {"class": "override-list"}, "reason": {"rows": 2}}

    def validate_form(self, form):
        ok = super().validate_form(form)
        # Flask-Admin validates its delete and action forms here too: only ours have overrides.
        ok = check_override_reason(form) and ok
        if not ok:
            offer_overrides(form, ())
        return ok

    def create_form(self, obj=None):
        return self._fresh(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._fresh(super().edit_form(obj))

    @staticmethod
    def _fresh(form):
        # No override checkboxes until a rule fails (a POST validates against all of them).
        if request.method != "POST":
            offer_overrides(form, ())
        return form

    # --- hooks for the concrete views ----------------------------------------------------
    def linked(self, model) -> list:
        """The objects on the other side of `model`'s links (enrolled, waitlisted, completed)."""
        return list(getattr(model, self.link_field))

    def pair(self, model, other):
        """(student, course) for a link between `model` and `other`."""
        raise NotImplementedError

    def populate_plain(self, form, model, is_created: bool, skip=()) -> None:
        """Copy the form's plain fields onto the model (not the links or the rule fields)."""
        skip = {self.link_field, *RULE_FIELDS, *skip}
        for name, field in form._fields.items():
            if name not in skip and name != "csrf_token":
                field.populate_obj(model, name)

    def after_plain(self, form, model, is_created: bool, context: dict) -> None:
        """Changes that go through the rules before the links do (e.g. a new capacity)."""

    # --- saving ----------------------------------------------------------------------------
    def create_model(self, form):
        return self._save(form, None)

    def update_model(self, form, model):
        return bool(self._save(form, model))

    def _save(self, form, model):
        is_created = model is None
        wanted = list(form[self.link_field].data or []) if self.link_field else None
        override = overrides_of(form.overrides) if "overrides" in form._fields else frozenset()
        reason = form.reason.data or "" if "reason" in form._fields else ""
        context = {"actor": current_user._get_current_object(), "now": clock.now(),
                   "override": override, "reason": reason, "tally": Counter(),
                   "confirm_drops": "confirm_drops" in form._fields
                   and bool(form.confirm_drops.data)}
        try:
            with write_transaction(db.session):
                if is_created:
                    model = self.build_new(form)
                    db.session.add(model)
                self.populate_plain(form, model, is_created)
                db.session.flush()
                self.after_plain(form, model, is_created, context)
                if wanted is not None:
                    self._apply_links(model, wanted, context)
        except RosterRefused as exc:
            form.drops_pending = exc.drops_pending
            self._refuse(form, exc.field, exc.messages, exc.offered)
            return False
        except services.EnrollmentRefused as exc:
            self._refuse(form, self.link_field or None, [r.message for r in exc.reasons],
                         exc.overrides)
            return False
        except IntegrityError:
            self._refuse(form, None, [self.unique_message])
            return False
        self._report(model, is_created, context["tally"])
        for note in context.get("notes", ()):
            flash_outcome(note, "warning")
        return model

    def build_new(self, form):
        return self.model()

    def _apply_links(self, model, wanted: list, context: dict) -> None:
        """Every drop and add through the services; each is decided even after one is refused,
        so that the refusal lists every failing rule of every change (nothing is kept)."""
        current = {o.id: o for o in self.linked(model)}
        wanted_by_id = {o.id: o for o in wanted}
        actor, now = context["actor"], context["now"]
        override, reason, tally = context["override"], context["reason"], context["tally"]
        refused: list[str] = []
        offered: set[Override] = set()

        def refuse(student, course, exc: services.EnrollmentRefused) -> None:
            refused.extend(f"{self.describe(student, course)}: {r.message}"
                           for r in exc.reasons)
            offered.update(r.override for r in exc.reasons if r.override is not None)

        for other_id, other in current.items():
            if other_id in wanted_by_id:
                continue
            student, course = self.pair(model, other)
            try:
                result = services.drop(student, course, actor=actor, now=now, reason=reason,
                                       by_staff=True, override=override)
            except services.EnrollmentRefused as exc:
                refuse(student, course, exc)
                continue
            tally["dropped"] += 1
            tally["promoted"] += len(result.promoted)
            if not context["confirm_drops"]:
                refused.append(f"{self.describe(student, course)}: removed from the list. "
                               f"Tick “{CONFIRM_DROPS}” and Save again to drop it, or put it "
                               "back.")
        for other_id, other in wanted_by_id.items():
            if other_id in current:
                continue
            student, course = self.pair(model, other)
            try:
                link = services.enroll(student, course, actor=actor, now=now,
                                       source=Source.STAFF, override=override, reason=reason)
            except services.EnrollmentRefused as exc:
                refuse(student, course, exc)
                continue
            tally["enrolled" if link.status == Status.ENROLLED else "waitlisted"] += 1
        if refused:
            raise RosterRefused(self.link_field, refused, frozenset(offered),
                                drops_pending=tally["dropped"] > 0
                                and not context["confirm_drops"])

    @staticmethod
    def describe(student, course) -> str:
        return f"{student.name} ({student.student_number}) in {course.code}"

    def _refuse(self, form, field: str | None, messages: list[str],
                offered: frozenset[Override] = frozenset()) -> None:
        # Said once: on the field when there is one (the flash points at it), else flashed.
        if field and field in form:
            form[field].errors = [*form[field].errors, *messages]
            label = form[field].label.text if form[field].label else field
            text = f"Nothing was saved. Check {label} below."
        else:
            text = f"Nothing was saved. {' '.join(messages)}"
        offer_overrides(form, offered)
        flash_outcome(text, "danger")

    @staticmethod
    def _report(model, is_created: bool, tally: Counter) -> None:
        # Without roster changes Flask-Admin's own "Record was successfully saved." says it all.
        parts = [f"{label}: {tally[key]}" for key, label in (
            ("enrolled", "enrolled"), ("waitlisted", "waitlisted"), ("dropped", "dropped"),
            ("promoted", "promoted from the waitlist")) if tally[key]]
        if parts:
            verb = "Created" if is_created else "Saved"
            flash_outcome(f"{verb} {model}. Roster changes — " + ", ".join(parts) + ".",
                          "success")

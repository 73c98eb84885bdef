"""Saving a course or student form whose roster multi-select changed, through the rules.

Flask-Admin would write the association proxy (`Course.students`, `Student.courses`) straight
into `enrollments`, skipping capacity, the waitlist and the audit. `RosterFormMixin` replaces
`create_model` / `update_model`: the plain fields and every link change run in one
`write_transaction`, each link change through `services.enroll` or `services.drop`, so a refusal
rolls back the whole form (other fields included) and is shown on the form.
"""
from __future__ import annotations

from collections import Counter

from flask_admin.model.fields import AjaxSelectMultipleField
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms.validators import Optional

from .. import clock, services
from ..database import write_transaction
from ..extensions import db
from ..models import Source, Status
from .base import flash_outcome
from .forms import check_override_reason, override_field, overrides_of, reason_field

# Form fields that never reach `populate_obj`: the rules handle them.
RULE_FIELDS = ("overrides", "reason")


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
    """A link change the rules refused; `.field` is the form field to show it on."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class RosterFormMixin:
    """For a ModelView whose `link_field` is an association proxy of the other side."""

    link_field: str = ""          # "students" on courses, "courses" on students
    link_loader = None            # the AjaxModelLoader for the multi-select
    unique_message = "Another record already uses this code or number."

    # --- the form -----------------------------------------------------------------------
    def scaffold_form(self):
        form_class = super().scaffold_form()
        # Flask-Admin 2.2.1 looks up form_ajax_refs for an association proxy under the remote
        # attribute's name ("student"), finds nothing and builds a plain select of every row
        # (20,000 students: an 800 KiB page). Re-attach the field with our loader.
        setattr(form_class, self.link_field, StrictAjaxSelectMultipleField(
            self.link_loader, label=self.link_field.capitalize(), validators=[Optional()],
            description=self.link_description))
        form_class.overrides = override_field(*self.link_overrides)
        form_class.reason = reason_field()
        return form_class

    link_description = ""
    link_overrides: tuple = ()
    form_widget_args = {"overrides": {"class": "override-list"}, "reason": {"rows": 2}}

    def validate_form(self, form):
        ok = super().validate_form(form)
        # Flask-Admin validates its delete and action forms here too: only ours have overrides.
        return check_override_reason(form) and ok

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
        wanted = list(form[self.link_field].data or [])
        override = overrides_of(form.overrides)
        reason = form.reason.data or ""
        context = {"actor": current_user._get_current_object(), "now": clock.now(),
                   "override": override, "reason": reason, "tally": Counter()}
        try:
            with write_transaction(db.session):
                if is_created:
                    model = self.build_new(form)
                    db.session.add(model)
                self.populate_plain(form, model, is_created)
                db.session.flush()
                self.after_plain(form, model, is_created, context)
                self._apply_links(model, wanted, context)
        except RosterRefused as exc:
            self._refuse(form, exc.field, exc.message)
            return False
        except services.EnrollmentRefused as exc:
            self._refuse(form, self.link_field, exc.message)
            return False
        except IntegrityError:
            self._refuse(form, None, self.unique_message)
            return False
        self._report(model, is_created, context["tally"])
        for note in context.get("notes", ()):
            flash_outcome(note, "warning")
        return model

    def build_new(self, form):
        return self.model()

    def _apply_links(self, model, wanted: list, context: dict) -> None:
        current = {o.id: o for o in self.linked(model)}
        wanted_by_id = {o.id: o for o in wanted}
        actor, now = context["actor"], context["now"]
        override, reason, tally = context["override"], context["reason"], context["tally"]
        for other_id, other in current.items():
            if other_id in wanted_by_id:
                continue
            student, course = self.pair(model, other)
            try:
                result = services.drop(student, course, actor=actor, now=now, reason=reason,
                                       by_staff=True, override=override)
            except services.EnrollmentRefused as exc:
                raise RosterRefused(self.link_field,
                                    f"{self.describe(student, course)}: {exc.message}") from None
            tally["dropped"] += 1
            tally["promoted"] += len(result.promoted)
        for other_id, other in wanted_by_id.items():
            if other_id in current:
                continue
            student, course = self.pair(model, other)
            try:
                link = services.enroll(student, course, actor=actor, now=now,
                                       source=Source.STAFF, override=override, reason=reason)
            except services.EnrollmentRefused as exc:
                raise RosterRefused(self.link_field,
                                    f"{self.describe(student, course)}: {exc.message}") from None
            tally["enrolled" if link.status == Status.ENROLLED else "waitlisted"] += 1

    @staticmethod
    def describe(student, course) -> str:
        return f"{student.name} ({student.student_number}) in {course.code}"

    def _refuse(self, form, field: str | None, message: str) -> None:
        text = f"Nothing was saved. {message}"
        if field and field in form:
            form[field].errors = [*form[field].errors, message]
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

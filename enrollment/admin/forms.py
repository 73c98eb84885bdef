"""Form pieces of the admin: rule overrides with a reason, and the bulk-action forms."""
from __future__ import annotations

from flask_admin.model.fields import AjaxSelectField
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..fields import strip
from ..services import GRADES, Override
from .loaders import CourseLoader

OVERRIDE_LABELS = {
    Override.CAPACITY: "Capacity (enroll past the seat limit)",
    Override.PREREQUISITES: "Prerequisites",
    Override.CONFLICT: "Time conflict",
    Override.CREDIT_LOAD: "Credit limit",
    Override.WINDOW: "Enrollment window",
    Override.DEADLINE: "Drop deadline",
}
REASON_REQUIRED = "A reason is required when overriding a rule."


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (a multi-select that a person can read at a glance)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def override_field(*members: Override, label: str = "Override rules") -> MultiCheckboxField:
    members = members or tuple(Override)
    return MultiCheckboxField(
        label, choices=[(m.value, OVERRIDE_LABELS[m]) for m in members], validators=[Optional()],
        description="Tick only the rules you mean to set aside; each override is recorded "
                    "in the audit log with the reason.")


def reason_field(label: str = "Reason") -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=500)], filters=[strip],
                         description="Required with an override; recorded in the audit log.")


def overrides_of(field) -> frozenset[Override]:
    """The `Override` members ticked in an override field."""
    return frozenset(Override(v) for v in (field.data or []))


# The name under which the course and student views register their course lookup.
COURSE_LOOKUP = "courses"


def course_field(label: str) -> AjaxSelectField:
    return AjaxSelectField(CourseLoader(COURSE_LOOKUP), label,
                           validators=[InputRequired(message="Choose a course section.")])


class _BulkForm(FlaskForm):
    """A bulk-action form; the selected ids travel beside it as repeated `rowid` fields."""

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        # Not an inline validator: Optional() on the reason would stop it when empty.
        if "overrides" in self._fields and self.overrides.data \
                and not (self.reason.data or "").strip():
            self.reason.errors = [*self.reason.errors, REASON_REQUIRED]
            ok = False
        return ok


class BulkEnrollForm(_BulkForm):
    course = course_field("Course section")
    overrides = override_field(Override.CAPACITY, Override.PREREQUISITES, Override.CONFLICT,
                               Override.CREDIT_LOAD, Override.WINDOW)
    reason = reason_field()


class BulkDropForm(_BulkForm):
    overrides = override_field(Override.DEADLINE)
    reason = reason_field()


class BulkPromoteForm(_BulkForm):
    overrides = override_field(Override.CAPACITY, Override.CONFLICT, Override.CREDIT_LOAD)
    reason = TextAreaField("Reason", validators=[InputRequired(), Length(max=500)],
                           filters=[strip], description="Required; recorded in the audit log.")


class BulkMoveForm(_BulkForm):
    course = course_field("Move to section")
    overrides = override_field(Override.CAPACITY, Override.PREREQUISITES, Override.CONFLICT,
                               Override.CREDIT_LOAD)
    reason = reason_field()


class BulkCompleteForm(_BulkForm):
    grade = SelectField("Grade", choices=[("", "Choose a grade")] + [(g, g) for g in
                                                                       sorted(GRADES)],
                        validators=[InputRequired(message="Choose a grade.")])
    reason = StringField("Note", validators=[Optional(), Length(max=500)], filters=[strip])

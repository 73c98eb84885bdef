"""Form pieces of the admin: rule overrides with a reason, and the bulk-action forms."""
from __future__ import annotations

from flask_admin.model.fields import AjaxSelectField
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..fields import strip, strip_text
from ..services import (
    ENROLL_OVERRIDES,
    PROMOTION_OVERRIDES,
    EnrollmentRefused,
    Override,
    require_reason,
)
from ..services.grades import IN_ORDER as GRADES_IN_ORDER
from .loaders import CourseLoader


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (a multi-select that a person can read at a glance)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def override_field(*members: Override, label: str = "Override rules") -> MultiCheckboxField:
    members = members or tuple(Override)
    return MultiCheckboxField(
        # No Optional(): it would let a blank first value wave unknown ones through.
        label, choices=[(m.value, m.label) for m in members],
        description="Tick only the rules you mean to set aside; each override is recorded "
                    "in the audit log with the reason.")


def reason_field(label: str = "Reason") -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=500)], filters=[strip_text],
                         description="Required with an override; recorded in the audit log.")


def overrides_of(field) -> frozenset[Override]:
    """The `Override` members ticked in an override field."""
    # Blank values are no choice (Optional() lets an empty posted value through).
    return frozenset(Override(v) for v in (field.data or []) if v)


def check_override_reason(form) -> bool:
    """The services' rule that an override needs a reason, shown on the form's reason field.

    Not an inline validator: Optional() on the reason would stop it when empty.
    """
    if "overrides" not in form._fields or form.overrides.errors:
        return True  # no override field, or its own error says what is wrong
    try:
        require_reason(overrides_of(form.overrides), form.reason.data)
    except EnrollmentRefused as exc:
        form.reason.errors = [*form.reason.errors, exc.message]
        return False
    return True


# The name under which the course and student views register their course lookup.
COURSE_LOOKUP = "courses"


def course_field(label: str) -> AjaxSelectField:
    return AjaxSelectField(CourseLoader(COURSE_LOOKUP), label,
                           validators=[InputRequired(message="Choose a course section.")])


class _BulkForm(FlaskForm):
    """A bulk-action form; the selected ids travel beside it as repeated `rowid` fields."""

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return check_override_reason(self) and ok


class BulkEnrollForm(_BulkForm):
    course = course_field("Course section")
    overrides = override_field(*ENROLL_OVERRIDES)
    reason = reason_field()


class BulkDropForm(_BulkForm):
    overrides = override_field(Override.DEADLINE)
    reason = reason_field()


class BulkPromoteForm(_BulkForm):
    overrides = override_field(*PROMOTION_OVERRIDES)
    reason = TextAreaField("Reason", validators=[InputRequired(), Length(max=500)],
                           filters=[strip_text],
                           description="Required; recorded in the audit log.")


class BulkMoveForm(_BulkForm):
    course = course_field("Move to section")
    # A move is staff's own decision about the window (see services.move).
    overrides = override_field(*(o for o in ENROLL_OVERRIDES if o != Override.WINDOW))
    reason = reason_field()


class BulkCompleteForm(_BulkForm):
    grade = SelectField("Grade", choices=[("", "Choose a grade")]
                        + [(g, g) for g in GRADES_IN_ORDER],
                        validators=[InputRequired(message="Choose a grade.")])
    reason = StringField("Note", validators=[Optional(), Length(max=500)], filters=[strip])

"""The forms of the roster editor's confirmation pages (one per action, CSRF-protected).

Each form's override checkboxes accept every rule the action may set aside; the page shows only
the rules that fail for this student right now (`offer`), and the view uses only those.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..fields import strip, strip_text
from ..services import ENROLL_OVERRIDES, PROMOTION_OVERRIDES, Override
from ..services.grades import IN_ORDER as GRADES_IN_ORDER
from .forms import check_override_reason, override_field, overrides_of, reason_field


class _RosterForm(FlaskForm):
    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return check_override_reason(self) and ok

    def ticked(self) -> frozenset[Override]:
        return overrides_of(self.overrides) if "overrides" in self._fields else frozenset()

    def offer(self, members) -> None:
        """Show checkboxes for exactly `members` (the rules failing now), in the field's order."""
        if "overrides" not in self._fields:
            return
        wanted = {Override(m) for m in members}
        self.overrides.choices = [(value, label) for value, label in self.overrides.choices
                                  if value in wanted]


class AddForm(_RosterForm):
    overrides = override_field(*ENROLL_OVERRIDES)
    reason = reason_field()


class DropForm(_RosterForm):
    overrides = override_field(Override.DEADLINE, Override.COREQUISITES)
    reason = reason_field()


class PromoteForm(_RosterForm):
    overrides = override_field(*PROMOTION_OVERRIDES)
    reason = TextAreaField("Reason", validators=[InputRequired(
        message="A reason is required to promote."), Length(max=500)], filters=[strip_text],
        description="Required; recorded in the audit log.")


class MoveForm(_RosterForm):
    # The section list is the term's other courses: the view fills it in and checks the choice.
    to = SelectField("Move to section", choices=[], validate_choice=False,
                     validators=[InputRequired(message="Choose the section to move to.")])
    # A move is staff's own decision about the window and the drop deadline (services.move).
    overrides = override_field(*(o for o in ENROLL_OVERRIDES if o != Override.WINDOW))
    reason = reason_field()


class CompleteForm(_RosterForm):
    grade = SelectField("Grade", choices=[("", "Choose a grade")]
                        + [(g, g) for g in GRADES_IN_ORDER],
                        validators=[InputRequired(message="Choose a grade.")])
    reason = StringField("Note", validators=[Optional(), Length(max=500)], filters=[strip],
                         description="Optional; recorded in the audit log.")

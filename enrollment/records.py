"""The field rules of each record kind: one WTForms form per kind, for every face.

The admin's create and edit forms are built on these classes, and the CSV importers feed each
row to the same class (see `imports.reading.Cells.read`), so a bound, a format or a message is
written once. The fields are named after the model attributes and the CSV columns. References
to other records (a course's term and department, its prerequisites) are the faces' own: a
select in the admin, a code in a CSV file.
"""
from __future__ import annotations

from datetime import timedelta

from wtforms import Form, TextAreaField

from .fields import (
    ClockTimeField,
    Code,
    DayField,
    DaysField,
    EmailAddress,
    FlagField,
    MomentField,
    TextField,
    WholeNumberField,
    WordChoiceField,
    strip_text,
    upper,
)
from .models import OFFER_HOURS_MAX, WaitlistMode, normalize_email
from .models.catalog import OFFER_HOURS_DEFAULT

CLASS_WEEKS = 15  # classes run this long when a term gives no dates for them
DEFAULT_MAX_CREDITS = 18
MAX_SEATS = 10_000  # the most seats a course, its waitlist or a reservation has
PROGRAM_LENGTH = 120  # a program's name (a student's, a reservation's)


def _fail(form: Form, name: str, message: str) -> bool:
    """Put a cross-field problem on the field it belongs to (when the form has it)."""
    field = form._fields.get(name)
    if field is not None and not field.errors:
        field.errors = [*field.errors, message]
    return False


def _given(form: Form, *names: str):
    """The values of the named fields, or None where a field is absent or failed."""
    values = []
    for name in names:
        field = form._fields.get(name)
        values.append(None if field is None or field.errors else field.data)
    return values


class DepartmentFields(Form):
    code = TextField("Code", max_length=16, required=True, validators=[Code()], filters=[upper])
    name = TextField("Name", max_length=120, required=True)


class TermFields(Form):
    code = TextField("Code", max_length=16, required=True, validators=[Code()], filters=[upper])
    name = TextField("Name", max_length=120, required=True)
    enrollment_opens = MomentField("Enrollment opens", required=True)
    enrollment_closes = MomentField("Enrollment closes", required=True, end_of_day=True)
    drop_deadline = MomentField("Drop deadline", required=True, end_of_day=True)
    classes_start = DayField("First day of classes",
                             description="YYYY-MM-DD; empty: the day after enrollment closes")
    classes_end = DayField("Last day of classes",
                           description=f"YYYY-MM-DD; empty: {CLASS_WEEKS} weeks of classes")
    waitlist_mode = WordChoiceField(
        "Waitlist mode", words=tuple(m.value for m in WaitlistMode),
        default=WaitlistMode.AUTO.value,
        description="auto: a freed seat goes to the first eligible waitlisted student at "
                    "once; offer: it is held for them until they accept or decline, or the "
                    "offer expires.")
    offer_hours = WholeNumberField("Offer hours", minimum=1, maximum=OFFER_HOURS_MAX,
                                   default=OFFER_HOURS_DEFAULT,
                                   description="How long an offered seat is held (offer mode).")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        opens, closes, deadline = _given(self, "enrollment_opens", "enrollment_closes",
                                         "drop_deadline")
        if opens and closes and closes < opens:
            ok = _fail(self, "enrollment_closes", "is before enrollment_opens")
        if opens and deadline and deadline < opens:
            ok = _fail(self, "drop_deadline", "is before enrollment_opens")
        start, end = _given(self, "classes_start", "classes_end")
        # Classes run CLASS_WEEKS weeks from the first day after enrollment closes, unless given.
        if closes and start is None and "classes_start" in self and not self.classes_start.errors:
            start = self.classes_start.data = closes.date() + timedelta(days=1)
        if start and end is None and "classes_end" in self and not self.classes_end.errors:
            end = self.classes_end.data = start + timedelta(weeks=CLASS_WEEKS, days=-1)
        if start and end and end < start:
            ok = _fail(self, "classes_end", "is before classes_start")
        return ok


class CrosslistFields(Form):
    """A cross-listed group of a term: its key (any case; stored upper-cased) and its seat
    pool, the group's seated total at most (on top of each section's own capacity)."""

    key = TextField("Cross-list key", max_length=40, required=True,
                    validators=[Code("a group key")], filters=[upper])
    capacity = WholeNumberField("Pool capacity", minimum=0, maximum=MAX_SEATS, required=True)


class CourseFields(Form):
    code = TextField("Code", max_length=20, required=True, validators=[Code()], filters=[upper])
    title = TextField("Title", max_length=200, required=True)
    description = TextAreaField("Description", filters=[strip_text])
    credits = WholeNumberField("Credits", minimum=1, maximum=30, required=True, default=3)
    capacity = WholeNumberField("Capacity", minimum=0, maximum=MAX_SEATS, required=True,
                                default=30)
    waitlist_capacity = WholeNumberField("Waitlist capacity", minimum=0, maximum=MAX_SEATS,
                                         default=10)
    instructor = TextField("Instructor", max_length=120)
    days = DaysField("Days")
    start_time = ClockTimeField("Start time")
    end_time = ClockTimeField("End time")
    location = TextField("Location", max_length=120)
    repeatable = FlagField("Repeatable", description="A student who passed it may take it again "
                                                     "(e.g. an ensemble or a seminar).")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        given = {"start_time", "end_time"} & set(self._fields)
        if len(given) == 1:  # a CSV file with one of the two columns: half a change
            (name,) = given
            return _fail(self, name, "start_time and end_time go together: give both columns "
                                     "(or neither)")
        if not given:
            return ok
        start, end, days = _given(self, "start_time", "end_time", "days")
        if self.start_time.errors or self.end_time.errors:
            return False
        if (start is None) != (end is None):
            ok = _fail(self, "end_time" if start else "start_time",
                       "start_time and end_time go together: give both a start and an end "
                       "time, or neither")
        elif start and end and end <= start:
            ok = _fail(self, "end_time", f"{end:%H:%M} is not after start_time {start:%H:%M} "
                                         "(the end must be after the start)")
        elif "days" in self and not self.days.errors:
            if start and not days:
                ok = _fail(self, "days", "meeting days are required when the course has "
                                         "meeting times")
            elif days and not start:
                ok = _fail(self, "start_time", "meeting times are required when the course "
                                               "has days")
        return ok


class UserFields(Form):
    email = TextField("Email", max_length=254, required=True, validators=[EmailAddress()],
                      filters=[normalize_email])
    name = TextField("Name", max_length=120, required=True)


class StudentFields(UserFields):
    student_number = TextField("Student number", max_length=20, required=True,
                               validators=[Code("a student number")])
    program = TextField("Program", max_length=PROGRAM_LENGTH)
    max_credits = WholeNumberField("Max credits", minimum=1, maximum=60,
                                   default=DEFAULT_MAX_CREDITS)


class HoldFields(Form):
    office = TextField("Office", max_length=80, required=True,
                       description="Who placed the hold, e.g. Bursar or Advising.")
    reason = TextField("Reason", max_length=500, required=True)
    contact = TextField("Contact", max_length=200,
                        description="Where the student goes to clear it (an email, a desk).")
    blocks_registration = FlagField("Blocks registration", default=True)


class ReservationFields(Form):
    """Seats of a course kept for a program until a release time (the course is the face's:
    a select in the admin, term and code in a CSV file)."""

    program = TextField("Program", max_length=PROGRAM_LENGTH, required=True,
                        description="Students whose program is this (any case) take these "
                                    "seats first.")
    seats = WholeNumberField("Seats", minimum=0, maximum=MAX_SEATS, required=True,
                             description="Part of the course's capacity; all reservations of "
                                         "the course together cannot exceed it.")
    release_at = MomentField("Release at", required=True,
                             description="When unused seats open to everyone (UTC, as "
                                         "YYYY-MM-DD HH:MM, or with an offset).")

"""Field types, validators and input filters shared by every form.

The admin's forms, the site's forms and the CSV importers (which feed each row to a form)
use these, so that a format and its message are written once. Messages are worded to follow
the field's name ("credits: must be between 1 and 30, not 0" in an import, the same text
under the Credits field in the admin).
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from email_validator import EmailNotValidError, validate_email
from wtforms import BooleanField, Field, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, StopValidation, ValidationError
from wtforms.widgets import TextInput

from .models import DAY_LETTERS

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
WHOLE_NUMBER = re.compile(r"[+-]?\d{1,9}")


# --- filters -------------------------------------------------------------------------------
def strip_nul(value):
    """PostgreSQL refuses NUL characters in text: drop them before validation (passwords)."""
    return value.replace("\x00", "") if isinstance(value, str) else value


# Control characters (C0, DEL, C1) have no place in stored text: they garble pages, exports
# and terminals. One-line fields turn tabs and line breaks into spaces and drop the rest;
# multi-line fields keep line breaks and tabs.
_CONTROLS = "".join(map(chr, [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]))
_ONE_LINE = str.maketrans({**dict.fromkeys(_CONTROLS), "\t": " ", "\n": " ", "\r": " "})
_MULTI_LINE = str.maketrans({**dict.fromkeys(_CONTROLS), "\t": "\t", "\n": "\n"})


def strip(value):
    """A one-line text value: control characters out, surrounding white space off."""
    return value.translate(_ONE_LINE).strip() if isinstance(value, str) else value


def strip_text(value):
    """A multi-line text value: line breaks (as \\n) and tabs kept, other controls out."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").translate(_MULTI_LINE).strip()


def upper(value):
    return value.upper() if isinstance(value, str) else value


# --- validators ----------------------------------------------------------------------------
def _raw(field) -> str:
    value = field.raw_data[0] if field.raw_data else ""
    return value.strip() if isinstance(value, str) else str(value)


class Required(InputRequired):
    """The value must be given (white space alone is not a value).

    An `InputRequired`, so that forms and Flask-Admin mark the field as required.
    """

    def __init__(self, message: str = "is required"):
        super().__init__(message)

    def __call__(self, form, field):
        if not _raw(field) and not (field.raw_data is None and field.data not in (None, "")):
            field.errors[:] = []
            raise StopValidation(self.message)


class Optional:
    """An empty value is no value: skip the other checks (and forget a parse error)."""

    field_flags = {"optional": True}

    def __call__(self, form, field):
        if not _raw(field) and field.raw_data is not None:
            field.errors[:] = []
            raise StopValidation()


class MaxLength:
    def __init__(self, maximum: int):
        self.maximum = maximum
        self.field_flags = {"maxlength": maximum}

    def __call__(self, form, field):
        if field.data and len(field.data) > self.maximum:
            raise ValidationError(f"is longer than {self.maximum} characters")


class Between:
    """A whole number within bounds (both included)."""

    def __init__(self, minimum: int, maximum: int):
        self.minimum, self.maximum = minimum, maximum
        self.field_flags = {"min": minimum, "max": maximum}

    def __call__(self, form, field):
        if field.data is not None and not self.minimum <= field.data <= self.maximum:
            raise ValidationError(f"must be between {self.minimum} and {self.maximum}, "
                                  f"not {field.data}")


class Code:
    """Letters and digits (and `_ . -` after the first), no spaces: codes and numbers."""

    def __init__(self, what: str = "a code"):
        self.what = what

    def __call__(self, form, field):
        if field.data and not CODE.match(field.data):
            raise ValidationError(f"{field.data!r} is not {self.what} (letters and digits, "
                                  "no spaces)")


class EmailAddress:
    def __init__(self, message: str | None = None):
        self.message = message

    def __call__(self, form, field):
        if not field.data:
            return
        try:
            validate_email(field.data, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValidationError(self.message or f"{field.data!r} is not an email address "
                                                  f"({exc})") from None


# --- fields --------------------------------------------------------------------------------
class TextField(StringField):
    """One line of text, stripped; `required` and `max_length` as the record kind says."""

    def __init__(self, label=None, *, max_length: int, required: bool = False,
                 validators=(), filters=(), **kwargs):
        checks = [Required() if required else Optional(), MaxLength(max_length), *validators]
        super().__init__(label, validators=checks, filters=[strip, *filters], **kwargs)


class WholeNumberField(IntegerField):
    """A whole number within bounds; an empty optional one takes the field's default."""

    def __init__(self, label=None, *, minimum: int, maximum: int, required: bool = False,
                 **kwargs):
        checks = [Required() if required else Optional(), Between(minimum, maximum)]
        super().__init__(label, validators=checks, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = strip(valuelist[0]) if isinstance(valuelist[0], str) else str(valuelist[0])
        self.data = None
        if not text:
            self.data = self.default
            return
        if not WHOLE_NUMBER.fullmatch(text):
            raise ValueError(f"{text!r} is not a whole number")
        self.data = int(text)


class _ParsedField(Field):
    """A text input whose value is parsed into a Python value (None when empty)."""

    widget = TextInput()

    def __init__(self, label=None, *, required: bool = False, **kwargs):
        checks = [Required() if required else Optional()]
        super().__init__(label, validators=checks, **kwargs)

    def parse(self, text: str):
        raise NotImplementedError

    def show(self, value) -> str:
        raise NotImplementedError

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = strip(valuelist[0]) or ""
        self.data = None
        if text:
            self.data = self.parse(text)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.show(self.data) if self.data is not None else ""


class MomentField(_ParsedField):
    """An ISO 8601 time; without an offset it is UTC. A bare date is the start of that day,
    or its last minute with `end_of_day` (so a closing date includes the whole day)."""

    def __init__(self, label=None, *, end_of_day: bool = False, **kwargs):
        self.end_of_day = end_of_day
        kwargs.setdefault("description", "UTC, as YYYY-MM-DD HH:MM (or with an offset, "
                                         "e.g. 2027-01-15T09:00+01:00)")
        super().__init__(label, **kwargs)

    def parse(self, text: str) -> datetime:
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                moment = datetime.combine(date.fromisoformat(text),
                                          time(23, 59) if self.end_of_day else time(0, 0))
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO 8601 time (e.g. 2027-01-15T09:00)"
                             ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    def show(self, value: datetime) -> str:
        return f"{value.astimezone(UTC):%Y-%m-%d %H:%M}"


class DayField(_ParsedField):
    def __init__(self, label=None, **kwargs):
        kwargs.setdefault("description", "YYYY-MM-DD")
        super().__init__(label, **kwargs)

    def parse(self, text: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO 8601 date (e.g. 2027-02-01)") from None

    def show(self, value: date) -> str:
        return value.isoformat()


class ClockTimeField(_ParsedField):
    def __init__(self, label=None, **kwargs):
        kwargs.setdefault("description", "HH:MM, 24-hour clock")
        super().__init__(label, **kwargs)

    def parse(self, text: str) -> time:
        match = HHMM.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a time of day as HH:MM (e.g. 09:30)")
        return time(int(match[1]), int(match[2]))

    def show(self, value: time) -> str:
        return f"{value:%H:%M}"


class DaysField(_ParsedField):
    """Meeting days as letters of MTWRFSU, stored in week order ("WM" becomes "MW")."""

    def __init__(self, label=None, **kwargs):
        kwargs.setdefault("description", "Meeting days as letters: M T W R (Thu) F S U (Sun), "
                                         "e.g. MWF or TR.")
        super().__init__(label, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if valuelist and self.data is None:
            self.data = ""  # no meeting days is an empty string, not "unknown"

    def parse(self, text: str) -> str:
        letters = text.upper().replace(" ", "")
        if set(letters) - set(DAY_LETTERS) or len(set(letters)) != len(letters):
            raise ValueError(f"{text!r} is not a set of days from {DAY_LETTERS}: use the day "
                             "letters M T W R (Thu) F S U (Sun), each at most once, e.g. MWF")
        return "".join(d for d in DAY_LETTERS if d in letters)

    def show(self, value: str) -> str:
        return value


class FlagField(BooleanField):
    """A yes/no value: a checkbox in the admin; `true/false`, `yes/no`, `1/0` (any case) or
    empty (no) in a CSV cell. Anything else is an error, not a silent yes."""

    TRUE = ("true", "yes", "1", "y", "on")
    FALSE = ("false", "no", "0", "n", "off", "")

    def process_formdata(self, valuelist):
        if not valuelist:
            self.data = False
            return
        text = (strip(valuelist[0]) or "").lower() if isinstance(valuelist[0], str) else \
            str(valuelist[0]).lower()
        if text in self.TRUE:
            self.data = True
        elif text in self.FALSE:
            self.data = False
        else:
            self.data = False
            raise ValueError(f"{valuelist[0]!r} is not true or false (use true/false, yes/no "
                             "or 1/0)")


class WordChoiceField(SelectField):
    """One word of a fixed set (a select in the admin; any case in a CSV cell, empty: the
    default). Anything else is an error that lists the words."""

    def __init__(self, label=None, *, words: tuple[str, ...], default: str, **kwargs):
        super().__init__(label, choices=[(w, w) for w in words], default=default, **kwargs)
        self.words = words

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (strip(valuelist[0]) or "").lower() if isinstance(valuelist[0], str) else \
            str(valuelist[0]).lower()
        self.data = text or self.default

    def pre_validate(self, form):
        if self.data not in self.words:
            raise ValidationError(f"{self.data!r} is not one of {', '.join(self.words)}")

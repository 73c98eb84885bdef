"""Reading a CSV upload: decoding, the header, rows with their line numbers, typed cells."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from email_validator import EmailNotValidError, validate_email

from ..models import DAY_LETTERS, normalize_email
from .plan import ImportRefused, RowError

BOM = "\ufeff"
HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def decode_upload(data: bytes) -> str:
    """Decode a file's bytes as UTF-8 (a BOM is allowed), or refuse with the line at fault."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ImportRefused([RowError(
            line, "file", f"not UTF-8 text (byte 0x{data[exc.start]:02x} at character "
                          f"{column}); save the file as CSV UTF-8")]) from None


@dataclass
class Row:
    line: int
    cells: dict[str, str]


@dataclass
class Table:
    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


def read_table(text: str, required: tuple[str, ...], optional: tuple[str, ...],
               errors: list[RowError]) -> Table:
    """Split the text into a checked header and rows; problems are appended to `errors`."""
    if text.startswith(BOM):
        text = text[1:]
    table = Table()
    if not text.strip():
        errors.append(RowError(1, "header", "the file is empty; expected a header row with "
                                            f"{','.join(required + optional)}"))
        return table
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    last_line = 0
    try:
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if not table.columns:
                if not any(c.strip() for c in cells):
                    continue  # blank lines before the header
                table.columns = _check_header(cells, required, optional, errors, line)
                if errors:
                    return table
                continue
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(table.columns):
                errors.append(RowError(line, "row", f"has {len(cells)} cells; the header has "
                                                    f"{len(table.columns)}"))
                continue
            table.rows.append(Row(line, dict(zip(table.columns, (c.strip() for c in cells),
                                                 strict=True))))
    except csv.Error as exc:
        errors.append(RowError(last_line + 1, "row", f"not valid CSV ({exc})"))
    if table.columns and not table.rows and not errors:
        errors.append(RowError(1, "header", "the file has no data rows after the header"))
    return table


def _check_header(cells: list[str], required, optional, errors, line: int) -> list[str]:
    names = [c.strip().lower() for c in cells]
    known = set(required) | set(optional)
    for name in names:
        if "\x00" in name:
            errors.append(RowError(line, "header", "contains a NUL character"))
        elif name not in known:
            errors.append(RowError(line, name or "(empty)",
                                   f"unknown column; expected {','.join(required + optional)}"))
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(RowError(line, name, "column appears more than once"))
    for name in required:
        if name not in names:
            errors.append(RowError(line, name, "required column is missing"))
    return names


class Cells:
    """Typed access to one row's cells; every problem becomes a `RowError` for its column.

    Getters return None for an empty optional cell or a bad one (the error is recorded);
    `has(column)` says whether the file has the column at all (absent columns keep the
    existing value on update).
    """

    def __init__(self, row: Row, errors: list[RowError]):
        self.row, self.line, self.errors = row, row.line, errors
        self.bad: set[str] = set()
        for column, value in row.cells.items():
            if "\x00" in value:
                self.error(column, "contains a NUL character")

    @property
    def ok(self) -> bool:
        return not self.bad

    def has(self, column: str) -> bool:
        return column in self.row.cells

    def error(self, column: str, reason: str) -> None:
        if column not in self.bad:
            self.bad.add(column)
            self.errors.append(RowError(self.line, column, reason))

    def raw(self, column: str, *, required: bool = False) -> str | None:
        if column in self.bad:
            return None
        value = self.row.cells.get(column, "")
        if not value:
            if required:
                self.error(column, "is required")
            return None
        return value

    def text(self, column: str, *, max_length: int, required: bool = False) -> str | None:
        value = self.raw(column, required=required)
        if value is not None and len(value) > max_length:
            self.error(column, f"is longer than {max_length} characters")
            return None
        return value

    def integer(self, column: str, *, minimum: int, required: bool = False,
                maximum: int = 100_000) -> int | None:
        value = self.raw(column, required=required)
        if value is None:
            return None
        if not re.fullmatch(r"[+-]?\d{1,9}", value):
            self.error(column, f"{value!r} is not a whole number")
            return None
        number = int(value)
        if not minimum <= number <= maximum:
            self.error(column, f"must be between {minimum} and {maximum}, not {number}")
            return None
        return number

    def moment(self, column: str, *, required: bool = False, end_of_day: bool = False
               ) -> datetime | None:
        """An ISO 8601 time (UTC when it has no offset); a bare date is the start of that day,
        or its last minute when `end_of_day` (so a closing date includes the whole day)."""
        value = self.raw(column, required=required)
        if value is None:
            return None
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                day = date.fromisoformat(value)
                moment = datetime.combine(day, time(23, 59) if end_of_day else time(0, 0))
            else:
                moment = datetime.fromisoformat(value)
        except ValueError:
            self.error(column, f"{value!r} is not an ISO 8601 time (e.g. 2027-01-15T09:00)")
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    def day(self, column: str) -> date | None:
        value = self.raw(column)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.error(column, f"{value!r} is not an ISO 8601 date (e.g. 2027-02-01)")
            return None

    def clock_time(self, column: str) -> time | None:
        value = self.raw(column)
        if value is None:
            return None
        match = HHMM.match(value)
        if not match:
            self.error(column, f"{value!r} is not a time of day as HH:MM (e.g. 09:30)")
            return None
        return time(int(match[1]), int(match[2]))

    def days(self, column: str) -> str | None:
        value = self.raw(column)
        if value is None:
            return None
        letters = value.upper().replace(" ", "")
        wrong = sorted(set(letters) - set(DAY_LETTERS))
        if wrong or len(set(letters)) != len(letters):
            self.error(column, f"{value!r} is not a set of days from {DAY_LETTERS} "
                               "(M T W R F S U, e.g. MWF or TR), each at most once")
            return None
        return "".join(d for d in DAY_LETTERS if d in letters)

    def email(self, column: str, *, required: bool = False) -> str | None:
        value = self.text(column, max_length=254, required=required)
        if value is None:
            return None
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            self.error(column, f"{value!r} is not an email address ({exc})")
            return None
        return normalize_email(value)

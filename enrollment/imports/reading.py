"""Reading a CSV upload: decoding, the header, rows with their line numbers, typed cells."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict
from wtforms import Form

from .plan import ImportRefused, RowError

BOM = "\ufeff"


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
    """One row's cells; every problem becomes a `RowError` for its column (the first only).

    `read` checks the cells with a record kind's form; `raw` gives a cell as text (None when
    empty or bad); `has(column)` says whether the file has the column at all.
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

    def read(self, form_class: type[Form], *, always: tuple[str, ...] = ()) -> dict:
        """Check the row's cells with the record kind's form (`enrollment.records`).

        Only the columns the file has are read (an absent column keeps the existing value on
        update), plus `always` (fields the form fills in when empty, e.g. derived dates).
        Returns the values of the cells that passed; each problem is recorded on its column.
        """
        form = form_class(MultiDict(self.row.cells))
        for name in list(form._fields):
            if name in self.bad or (name not in self.row.cells and name not in always):
                del form[name]
        form.validate()
        values = {}
        for name, bound in form._fields.items():
            if bound.errors:
                self.error(name, bound.errors[0])
            else:
                values[name] = bound.data
        return values


class FirstSeen:
    """The line on which each key of a file first appears; a repeat is an error of its row."""

    def __init__(self):
        self.lines: dict = {}

    def check(self, cells: Cells, column: str, key, what: str) -> bool:
        """Record `key` for this row, or report `what` as a repeat on `column`."""
        if not key or (isinstance(key, tuple) and not all(key)):
            return True
        if key in self.lines:
            cells.error(column, f"{what} already appears on line {self.lines[key]}")
            return False
        self.lines[key] = cells.line
        return True


def read_rows(table: Table, plan, form_class: type[Form], *, key: tuple[str, ...], column: str,
              what, same=None) -> tuple[list[tuple[Cells, dict]], FirstSeen]:
    """Check every row with the record kind's form and the file's keys in one pass.

    `key` names the values that identify a record; a repeat is reported on `column` as
    `what(key) already appears on line N`. `same(key)` gives the key as compared, when two
    spellings mean one record. Returns the rows as (cells, values) and the keys.
    """
    parsed, seen = [], FirstSeen()
    for row in table.rows:
        cells = Cells(row, plan.errors)
        values = cells.read(form_class)
        found = tuple(values.get(name) for name in key)
        seen.check(cells, column, same(*found) if same else found, what(*found))
        parsed.append((cells, values))
    return parsed, seen

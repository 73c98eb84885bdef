"""Roster and statistics files: CSV (streamed) and XLSX, with formula-safe cells."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .queries import CourseStat, RosterRow
from .safe_cells import FORMULA_STARTS, safe_cell

ROSTER_COLUMNS = ("student_number", "name", "email", "program", "status", "waitlist_position",
                  "enrolled_at")
ROSTER_WIDTHS = (16, 30, 34, 26, 12, 18, 22)
STATS_COLUMNS = ("term", "department", "code", "title", "instructor", "capacity",
                 "waitlist_capacity", "enrolled", "waitlisted", "completed", "fill_rate")
BOM = "\ufeff"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"


def export_filename(*parts: str, ext: str) -> str:
    """`roster-2027SP-CS101.csv`: the parts joined by `-`, accents dropped and anything else
    but [A-Za-z0-9._] made `_`, so the name is safe in a header and on every file system."""
    cleaned = []
    for part in parts:
        ascii_part = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode()
        cleaned.append(re.sub(r"[^A-Za-z0-9._]+", "_", ascii_part).strip("._") or "x")
    return "-".join(cleaned) + "." + ext


def iso_utc(value: datetime | None) -> str:
    """ISO 8601 in UTC with a `Z`, to the second (`2027-01-10T12:00:00Z`)."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def _csv_row(row: RosterRow, starts=frozenset(FORMULA_STARTS)) -> tuple:
    # Inlined `safe_cell` for the four free-text columns: this runs once per roster line.
    number, name, email, program, status, position, changed_at, _ = row
    return (
        "'" + number if number and number[0] in starts else number,
        "'" + name if name and name[0] in starts else name,
        "'" + email if email and email[0] in starts else email,
        "'" + program if program and program[0] in starts else program,
        status,
        "" if position is None else position,
        changed_at.isoformat(timespec="seconds") + "Z",  # naive UTC; 3x faster than strftime
    )


def roster_csv(chunks: Iterable[list[RosterRow]], *, bom: bool = False) -> Iterator[str]:
    """The roster as CSV text, one piece per chunk of rows (for a streamed response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        buffer.write(BOM)
    writer.writerow(ROSTER_COLUMNS)
    yield buffer.getvalue()
    for chunk in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(map(_csv_row, chunk))
        yield buffer.getvalue()


def roster_xlsx(chunks: Iterable[list[RosterRow]], *, title: str = "Roster") -> bytes:
    """The roster as an XLSX workbook: typed cells, bold header, frozen header row, widths.

    Write-only mode keeps memory flat for long rosters. Excel has no time zones: times are
    naive UTC datetimes, as the roster query returns them.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", "_", title)[:31] or "Roster")
    sheet.freeze_panes = "A2"
    for index, width in enumerate(ROSTER_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append([_bold(sheet, name) for name in ROSTER_COLUMNS])
    for chunk in chunks:
        for row in chunk:
            when = WriteOnlyCell(sheet, row.enrolled_at)
            when.number_format = "yyyy-mm-dd hh:mm:ss"
            sheet.append([safe_cell(row.student_number), safe_cell(row.name),
                          safe_cell(row.email), safe_cell(row.program), row.status,
                          row.waitlist_position, when])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _bold(sheet, value) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value)
    cell.font = Font(bold=True)
    return cell


def stats_csv(stats: Iterable[CourseStat], *, bom: bool = False) -> Iterator[str]:
    """Course statistics as CSV (fill rate as a fraction with three decimals)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        buffer.write(BOM)
    writer.writerow(STATS_COLUMNS)
    for s in stats:
        writer.writerow([safe_cell(v) for v in (
            s.term_code, s.department_code, s.code, s.title, s.instructor, s.capacity,
            s.waitlist_capacity, s.enrolled, s.waitlisted, s.completed,
            "" if s.fill_rate is None else f"{s.fill_rate:.3f}",
        )])
    yield buffer.getvalue()

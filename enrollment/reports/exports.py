"""Roster and statistics files: CSV (streamed) and XLSX, with formula-safe cells."""
from __future__ import annotations

import csv
import io
import re
import textwrap
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from ..models import Course
from ..services import SeatCount, seat_count
from .queries import CourseStat, RosterRow, iter_roster_chunks
from .safe_cells import FORMULA_STARTS, safe_cell

ROSTER_COLUMNS = ("student_number", "name", "email", "program", "status", "waitlist_position",
                  "enrolled_at")
# The XLSX roster's headings and column widths (in characters), for the same columns.
ROSTER_HEADINGS = ("Student number", "Name", "Email", "Program", "Status", "Waitlist position",
                   "Since (UTC)")
ROSTER_WIDTHS = (16, 28, 32, 26, 11, 10, 17)
ROSTER_FACTS = ("Term", "Instructor", "Meets", "Enrolled", "Generated at")
# The table starts below the title block: its title row, one row per fact and a blank row.
ROSTER_HEADER_ROW = 1 + len(ROSTER_FACTS) + 2
# How many characters fit on a line of the merged title (A–G, 14 pt) and fact (B–G) cells:
# their row heights are set from it, since spreadsheet programs do not grow a merged cell's
# row to fit its wrapped text.
TITLE_LINE = 95
FACT_LINE = 115
# The workbook's default font, named on the styled cells too: a font without a name is
# another font in LibreOffice.
_FONT = "Calibri"
_BOLD = Font(name=_FONT, bold=True)
_TOP = Alignment(vertical="top")
_WRAP = Alignment(vertical="top", wrap_text=True)
_WRAP_RIGHT = Alignment(vertical="top", horizontal="right", wrap_text=True)
_NUMBERS = (5, 6)  # waitlist position and time: right-aligned, headings too
# Name, email and program wrap when longer than about what their column shows on a line
# (a column's width counts digits; text averages a little narrower).
_WRAP_LIMITS = tuple((i, round(ROSTER_WIDTHS[i] * 1.1)) for i in (1, 2, 3))
_HEADER_FILL = PatternFill("solid", fgColor="E9ECEF")
_HEADER_BORDER = Border(bottom=Side(style="thin", color="495057"))
_STRIPE = PatternFill("solid", bgColor="F2F2F2")  # a conditional fill sets the background
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


@dataclass(frozen=True)
class RosterHeading:
    """What the XLSX roster says above its table: a title, then labelled facts."""

    title: str  # "CS101 — Programming I"
    facts: tuple[tuple[str, str], ...]  # ("Term", "Spring 2027 (2027SP) · Computer Science"), …
    sheet: str  # the sheet's name, "2027SP CS101"


def roster_heading(course: Course, count: SeatCount, *, generated_at: datetime,
                   zone: ZoneInfo) -> RosterHeading:
    """The title block of a course's roster; times on the school's wall clock (`zone`)."""
    meets = course.schedule_label + (f", {course.location}" if course.location else "")
    offered = f" (+{count.offered} offered)" if count.offered else ""
    seats = (f"{count.enrolled}{offered} of {course.capacity} seats · waitlist "
             f"{count.waitlisted} of {course.waitlist_capacity} places")
    for held in count.reserved:
        seats += (f" · {held.seats} reserved for {held.program} until "
                  f"{held.release_at.astimezone(zone):%d %b %Y}")
    local = generated_at.astimezone(zone)
    return RosterHeading(
        title=f"{course.code} — {course.title}",
        facts=tuple(zip(ROSTER_FACTS, (
            f"{course.term.name} ({course.term.code}) · {course.department.name}",
            course.instructor or "—",
            meets,
            seats,
            f"{local:%d %b %Y %H:%M} {local.tzname()}",
        ), strict=True)),
        sheet=f"{course.term.code} {course.code}",
    )


def course_roster_xlsx(course: Course, *, now: datetime, zone: ZoneInfo) -> bytes:
    """The roster workbook of `course` (loaded with its term and department), as the web
    export and `flask roster` write it: one query for the counts, one for the rows."""
    heading = roster_heading(course, seat_count(course.id, now=now), generated_at=now,
                             zone=zone)
    return roster_xlsx(iter_roster_chunks(course.id), heading)


def roster_xlsx(chunks: Iterable[list[RosterRow]], heading: RosterHeading) -> bytes:
    """The roster as an XLSX workbook, ready to print.

    A title block (course, term, instructor, meetings, seats, when it was made), then the
    table with human headings; the heading row is frozen and repeats on every printed page,
    which is landscape A4, one page wide, numbered in the footer. Every text cell from the
    database goes through `safe_cell`. Write-only mode keeps memory flat for long rosters.
    Excel has no time zones: times are naive UTC datetimes, as the roster query returns them.
    """
    header_row = 1 + len(heading.facts) + 2
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(
        # Excel refuses a sheet name with []:*?/\ or one that starts or ends with `'`.
        title=re.sub(r"[\[\]:*?/\\]", "_", heading.sheet)[:31].strip("'") or "Roster")
    last_column = get_column_letter(len(ROSTER_COLUMNS))
    for index, width in enumerate(ROSTER_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    # Before the first row: a write-only sheet writes its views and columns with it.
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    _print_setup(sheet, heading)

    title = _cell(sheet, heading.title, font=Font(name=_FONT, bold=True, size=14),
                  alignment=_WRAP)
    sheet.merged_cells.add(f"A1:{last_column}1")
    sheet.row_dimensions[1].height = 20 * _lines(heading.title, TITLE_LINE)
    sheet.append([title])
    for number, (label, value) in enumerate(heading.facts, start=2):
        sheet.merged_cells.add(f"B{number}:{last_column}{number}")
        sheet.row_dimensions[number].height = 15 * _lines(value, FACT_LINE)
        sheet.append([_cell(sheet, label, font=_BOLD, alignment=_TOP),
                      _cell(sheet, value, alignment=_WRAP)])
    sheet.append([])
    sheet.row_dimensions[header_row].height = 30  # "Waitlist position" on two lines
    sheet.append([_cell(sheet, name, font=_BOLD, fill=_HEADER_FILL, border=_HEADER_BORDER,
                        alignment=_WRAP_RIGHT if index in _NUMBERS else _WRAP)
                  for index, name in enumerate(ROSTER_HEADINGS)])

    last_row = header_row
    for chunk in chunks:
        for row in chunk:
            values = [safe_cell(row.student_number), safe_cell(row.name), safe_cell(row.email),
                      safe_cell(row.program), row.status, row.waitlist_position,
                      row.enrolled_at]
            lines = max(_lines(values[i], per_line) for i, per_line in _WRAP_LIMITS)
            if lines > 1:
                # A styled cell costs three times a plain one: only the rare row with a long
                # name, email or program wraps (and lines up at the top). Its height is set:
                # LibreOffice does not grow a row to fit on opening a workbook.
                sheet.row_dimensions[last_row + 1].height = 15 * lines
                cells = [WriteOnlyCell(sheet, value) for value in values]
                for cell in cells:
                    cell.alignment = _TOP
                for i, _ in _WRAP_LIMITS:
                    cells[i].alignment = _WRAP
            else:
                cells = values
                cells[6] = WriteOnlyCell(sheet, row.enrolled_at)
            cells[6].number_format = "yyyy-mm-dd hh:mm"
            sheet.append(cells)
            last_row += 1
    if last_row > header_row:
        # Every other row shaded, as on the printed page: one rule, not a style per cell.
        sheet.conditional_formatting.add(
            f"A{header_row + 1}:{last_column}{last_row}",
            FormulaRule(formula=["MOD(ROW(),2)=0"], fill=_STRIPE, stopIfTrue=False))
    sheet.print_area = f"A1:{last_column}{last_row}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _lines(text: str, per_line: int) -> int:
    """About how many lines `text` takes when wrapped at `per_line` characters."""
    if not text or len(text) <= per_line:
        return 1
    return len(textwrap.wrap(text, per_line)) or 1


def _print_setup(sheet, heading: RosterHeading) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the roster needs
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.7, header=0.3,
                                     footer=0.3)
    # `&` starts a code in a header or footer: a course code's own is doubled.
    sheet.oddFooter.left.text = f"Roster {heading.sheet}".replace("&", "&&")
    sheet.oddFooter.left.size = 9
    sheet.oddFooter.right.text = "Page &P of &N"
    sheet.oddFooter.right.size = 9


def _cell(sheet, value, *, font: Font | None = None, alignment: Alignment | None = None,
          fill: PatternFill | None = None, border: Border | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, safe_cell(value))
    if font is not None:
        cell.font = font
    if alignment is not None:
        cell.alignment = alignment
    if fill is not None:
        cell.fill = fill
    if border is not None:
        cell.border = border
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

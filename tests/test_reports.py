"""Course rosters: the printable page and the CSV and XLSX files, compared with the database."""
from __future__ import annotations

import csv
import io
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select

from enrollment import services
from enrollment.extensions import db
from enrollment.models import Enrollment, Status
from enrollment.reports.exports import (
    ROSTER_COLUMNS,
    ROSTER_FACTS,
    ROSTER_HEADER_ROW,
    ROSTER_HEADINGS,
    export_filename,
    roster_heading,
)
from enrollment.reports.safe_cells import safe_cell
from enrollment.services.counts import ReservedSeats, SeatCount
from tests.factories import NOW, at
from tests.report_data import complete, drop, enroll, fill_course


@pytest.fixture
def staff_client(client, login, make_staff):
    login(make_staff())
    return client


def read_csv(response) -> list[dict]:
    text = response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def read_xlsx(response):
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    return book, book.worksheets[0]


@pytest.fixture
def roster_course(make_term, make_course, make_student):
    """3 seats: Carol, alice, Bob enrolled (out of name order); Dan, Eve waitlisted; Zoe done."""
    term = make_term(code="2027SP", name="Spring 2027")
    course = make_course(term=term, code="CS101", capacity=3, days="MWF",
                         start_time=at("09:00"), end_time=at("09:50"),
                         instructor="Dr. Ada Lovelace", location="Hall 1")
    zoe = make_student(name="Zoe Finished")
    complete(zoe, course, "B+", at=NOW - timedelta(days=9))
    fill_course(course, ["Carol Chen", "alice Adams", "Bob Brown", "Dan Dunn", "Eve Evans"])
    return course


def expected_rows(course) -> list[dict]:
    """The roster computed independently from the ORM objects and the services."""
    links = db.session.scalars(select(Enrollment).where(Enrollment.course_id == course.id)).all()
    positions = services.waitlist_positions([course.id])
    rank = {Status.ENROLLED: 0, Status.WAITLISTED: 1, Status.COMPLETED: 2}
    links.sort(key=lambda e: (rank[e.status], e.waitlist_seq or 0, e.student.name.lower()))
    return [{
        "student_number": e.student.student_number, "name": e.student.name,
        "email": e.student.email, "program": e.student.program, "status": e.status.value,
        "waitlist_position": str(positions.get((e.student_id, course.id), "")),
        "enrolled_at": e.status_changed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    } for e in links]


def test_roster_csv_matches_the_database(staff_client, roster_course):
    response = staff_client.get(f"/reports/courses/{roster_course.id}/roster.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="roster-2027SP-CS101.csv"'
    rows = read_csv(response)
    assert list(rows[0].keys()) == list(ROSTER_COLUMNS)
    assert rows == expected_rows(roster_course)
    assert [r["name"] for r in rows] == ["alice Adams", "Bob Brown", "Carol Chen", "Dan Dunn",
                                         "Eve Evans", "Zoe Finished"]
    assert [r["status"] for r in rows] == ["enrolled"] * 3 + ["waitlisted"] * 2 + ["completed"]
    assert [r["waitlist_position"] for r in rows] == ["", "", "", "1", "2", ""]
    assert rows[-1]["enrolled_at"] == "2027-01-01T12:00:00Z"


def test_roster_csv_is_streamed_with_crlf_rows(staff_client, roster_course):
    response = staff_client.get(f"/reports/courses/{roster_course.id}/roster.csv")
    assert response.is_streamed
    body = response.get_data()
    assert body.startswith(b"student_number,name,email,program,status,waitlist_position,"
                           b"enrolled_at\r\n")
    assert not body.startswith(b"\xef\xbb\xbf")


def test_bom_on_request(staff_client, roster_course):
    body = staff_client.get(f"/reports/courses/{roster_course.id}/roster.csv?bom=1").get_data()
    assert body.startswith(b"\xef\xbb\xbfstudent_number,")


def test_promotion_moves_the_student_and_restarts_enrolled_at(staff_client, roster_course):
    bob = db.session.scalar(select(Enrollment).join(Enrollment.student)
                            .where(Enrollment.course_id == roster_course.id)
                            .order_by(Enrollment.created_at).offset(2)).student
    drop(bob, roster_course, at=NOW)
    rows = read_csv(staff_client.get(f"/reports/courses/{roster_course.id}/roster.csv"))
    assert rows == expected_rows(roster_course)
    dan = next(r for r in rows if r["name"] == "Dan Dunn")
    assert (dan["status"], dan["waitlist_position"], dan["enrolled_at"]) == (
        "enrolled", "", "2027-01-10T12:00:00Z")
    eve = next(r for r in rows if r["name"] == "Eve Evans")
    assert eve["waitlist_position"] == "1"


def test_roster_xlsx_matches_the_database(staff_client, roster_course):
    response = staff_client.get(f"/reports/courses/{roster_course.id}/roster.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "roster-2027SP-CS101.xlsx" in response.headers["Content-Disposition"]
    book, sheet = read_xlsx(response)
    assert sheet.title == "2027SP CS101"
    values = list(sheet.iter_rows(min_row=ROSTER_HEADER_ROW, values_only=True))
    assert values[0] == ROSTER_HEADINGS
    expected = expected_rows(roster_course)
    assert len(values) == len(expected) + 1
    for got, want in zip(values[1:], expected, strict=True):
        assert got[:5] == tuple(want[c] for c in ROSTER_COLUMNS[:5])
        assert got[5] == (int(want["waitlist_position"]) if want["waitlist_position"] else None)
        assert got[6].strftime("%Y-%m-%dT%H:%M:%SZ") == want["enrolled_at"]  # a real datetime
    first = ROSTER_HEADER_ROW + 1
    assert sheet.freeze_panes == f"A{first}"
    assert sheet.print_title_rows == f"${ROSTER_HEADER_ROW}:${ROSTER_HEADER_ROW}"
    assert sheet[f"A{ROSTER_HEADER_ROW}"].font.bold
    assert sheet.column_dimensions["B"].width >= 20
    assert sheet[f"G{first}"].is_date


@pytest.mark.config(SCHOOL_TIMEZONE="America/New_York")
def test_roster_xlsx_title_block_and_print_setup(staff_client, roster_course):
    _, sheet = read_xlsx(staff_client.get(f"/reports/courses/{roster_course.id}/roster.xlsx"))
    block = [tuple(v for v in row if v is not None)
             for row in sheet.iter_rows(max_row=ROSTER_HEADER_ROW - 1, values_only=True)]
    assert block == [
        (f"CS101 — {roster_course.title}",),
        ("Term", f"Spring 2027 (2027SP) · {roster_course.department.name}"),
        ("Instructor", "Dr. Ada Lovelace"),
        ("Meets", "Mon Wed Fri 09:00–09:50, Hall 1"),
        ("Enrolled", "3 of 3 seats · waitlist 2 of 10 places"),
        ("Generated at", "10 Jan 2027 07:00 EST"),  # FIXED_NOW, 12:00 UTC
        (),
    ]
    assert sheet["A1"].font.bold and sheet["A1"].font.size == 14
    assert "A1:G1" in sheet.merged_cells and "B2:G2" in sheet.merged_cells
    setup = sheet.page_setup
    assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.oddFooter.right.text == "Page &P of &N"
    assert sheet.print_area == f"'2027SP CS101'!$A$1:$G${ROSTER_HEADER_ROW + 6}"



def test_roster_heading_words_reserved_seats_and_a_course_without_times(make_course):
    course = make_course(code="BIO1", title="Cells", instructor="", location="",
                         capacity=30, waitlist_capacity=5)
    held = ReservedSeats("Biology", 5, NOW + timedelta(days=5), taken=2)
    heading = roster_heading(course, SeatCount(12, 1, 1, reserved=(held,)),
                             generated_at=NOW, zone=ZoneInfo("Europe/Paris"))
    facts = dict(heading.facts)
    assert tuple(facts) == ROSTER_FACTS
    assert heading.title == "BIO1 — Cells" and heading.sheet == f"{course.term.code} BIO1"
    assert facts["Instructor"] == "—" and facts["Meets"] == "Time to be announced"
    assert facts["Enrolled"] == ("12 of 30 seats · waitlist 1 of 5 places · 5 reserved for "
                                 "Biology until 15 Jan 2027")
    assert facts["Generated at"] == "10 Jan 2027 13:00 CET"


def test_roster_xlsx_wraps_long_text_in_a_taller_row(staff_client, make_course, make_student):
    course = make_course(code="LONG1", instructor="=cmd|' /C calc'!A0")
    enroll(make_student(name="Short"), course)
    enroll(make_student(name="A Name " * 8, program="A Program " * 6), course)
    _, sheet = read_xlsx(staff_client.get(f"/reports/courses/{course.id}/roster.xlsx"))
    short, long = ROSTER_HEADER_ROW + 2, ROSTER_HEADER_ROW + 1  # by name
    assert sheet[f"B{long}"].value.startswith("A Name")
    assert sheet[f"B{long}"].alignment.wrap_text and sheet[f"D{long}"].alignment.wrap_text
    assert sheet.row_dimensions[long].height >= 30
    assert not sheet[f"B{short}"].alignment.wrap_text
    assert sheet.row_dimensions[short].height is None
    assert sheet["B3"].value == "'=cmd|' /C calc'!A0"  # the title block is neutralised too


def test_formulas_are_neutralised_and_unicode_survives(staff_client, make_course, make_student):
    course = make_course(code="ÉTÉ-1", capacity=10)
    names = ["=HYPERLINK(\"http://x\",\"y\")", "+SUM(1)", "-2+3", "@cmd", "\tTab", "\rCR",
             "Zoë Ångström 山田"]
    for name in names:
        enroll(make_student(name=name, program="=1+1"), course)
    csv_rows = read_csv(staff_client.get(f"/reports/courses/{course.id}/roster.csv"))
    _, sheet = read_xlsx(staff_client.get(f"/reports/courses/{course.id}/roster.xlsx"))
    xlsx_rows = list(sheet.iter_rows(min_row=ROSTER_HEADER_ROW + 1, values_only=True))
    want = sorted(safe_cell(n) for n in names)
    assert sorted(r["name"] for r in csv_rows) == want
    # XML turns a bare carriage return into a line feed; the prefix is what matters.
    assert sorted(r[1] for r in xlsx_rows) == sorted(w.replace("\r", "\n") for w in want)
    assert {r["program"] for r in csv_rows} == {"'=1+1"}
    assert {r[3] for r in xlsx_rows} == {"'=1+1"}
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert "Zoë Ångström 山田" in [r["name"] for r in csv_rows]


def test_filename_has_safe_characters_only():
    assert export_filename("roster", "2027 SP", "CS/101\"x", ext="csv") == \
        "roster-2027_SP-CS_101_x.csv"
    assert export_filename("roster", "../..", "ÉTÉ", ext="xlsx") == "roster-x-ETE.xlsx"


def test_safe_cell_helpers():
    assert [safe_cell(v) for v in ("=1", "+1", "-1", "@a", "\t", "\rx", "a=1", "", None, -5)] \
        == ["'=1", "'+1", "'-1", "'@a", "'\t", "'\rx", "a=1", "", None, -5]


def test_printable_roster_shows_header_rows_and_escapes(staff_client, roster_course,
                                                        make_student):
    enroll(make_student(name="<script>alert(1)</script>"), roster_course)  # waitlisted
    response = staff_client.get(f"/reports/courses/{roster_course.id}/roster")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("CS101", "Spring 2027", "Dr. Ada Lovelace", "Mon Wed Fri 09:00–09:50",
                 "Hall 1", "3 of 3 seats", "3 of 10 places", "reports.css"):
        assert text in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert html.count('class="roster-row"') == 7
    assert html.index("alice Adams") < html.index("Bob Brown") < html.index("Dan Dunn") \
        < html.index("Zoe Finished")


def test_empty_roster(staff_client, make_course):
    course = make_course()
    assert "Nobody is enrolled" in staff_client.get(
        f"/reports/courses/{course.id}/roster").get_data(as_text=True)
    rows = read_csv(staff_client.get(f"/reports/courses/{course.id}/roster.csv"))
    assert rows == []
    _, sheet = read_xlsx(staff_client.get(f"/reports/courses/{course.id}/roster.xlsx"))
    assert sheet.max_row == ROSTER_HEADER_ROW
    assert [c.value for c in sheet[ROSTER_HEADER_ROW]] == list(ROSTER_HEADINGS)


@pytest.mark.parametrize("suffix", ["", ".csv", ".xlsx"])
def test_roster_queries_do_not_grow_with_the_roster(staff_client, make_course, count_queries,
                                                    suffix):
    small, large = make_course(capacity=2), make_course(capacity=20)
    fill_course(small, [f"Small {i}" for i in range(3)])
    fill_course(large, [f"Large {i}" for i in range(30)])
    counts = []
    for course_id in (small.id, large.id):
        db.session.expire_all()
        with count_queries() as q:
            response = staff_client.get(f"/reports/courses/{course_id}/roster{suffix}")
            response.get_data()
        assert response.status_code == 200
        counts.append(q.count)
    # The login's user and student, the course, the roster (no student row for a file); the
    # printable page and the XLSX also count the seats, for their reserved-seat lines.
    assert counts[0] == counts[1] <= (5 if suffix == "" else 4)

"""Reserved seats as records: the `reservations` CSV import (command line and admin upload)
and the admin's Reserved seats view, both checked with `records.ReservationFields` and saved
through `services.reservations.set_reservation`."""
from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from enrollment.cli.imports import import_csv
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.imports import KINDS, apply_import, columns, plan_import
from enrollment.models import Reservation, Status
from enrollment.services.reservations import set_reservation
from tests.admin_support import links, staff_client_fixture, staff_fixture  # noqa: F401
from tests.factories import NOW
from tests.web_helpers import enroll, flashes

HEADER = "term,code,seats,program,release_at\n"
RELEASE = datetime(2027, 1, 20, tzinfo=UTC)


@pytest.fixture
def courses(make_term, make_course):
    """CS101 (capacity 10) and CS102 (capacity 10) in 2027SP; CS101 also in 2027FA."""
    spring, fall = make_term(code="2027SP"), make_term(code="2027FA")
    return {"CS101": make_course(term=spring, code="CS101", capacity=10),
            "CS102": make_course(term=spring, code="CS102", capacity=10),
            "FA101": make_course(term=fall, code="CS101", capacity=3)}


def reserve(course, program, seats, release_at=RELEASE):
    with write_transaction(db.session):
        return set_reservation(course, program, seats, release_at, actor=None, now=NOW)


def reservations() -> dict[tuple[str, str, str], tuple[int, datetime]]:
    """{(term, code, program): (seats, release_at)} of every reservation."""
    db.session.expire_all()
    return {(r.course.term.code, r.course.code, r.program): (r.seats, r.release_at)
            for r in db.session.scalars(select(Reservation))}


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Reservation))


def page_text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


# --- the import ------------------------------------------------------------------------------

def test_the_kind_is_registered_with_its_columns():
    assert "reservations" in KINDS
    assert columns("reservations") == (("term", "code", "seats", "program", "release_at"), ())


def test_import_creates_then_updates_by_key_and_leaves_the_rest_alone(courses):
    plan = plan_import("reservations", HEADER + "2027SP,CS101,5,Computer Science,2027-01-20\n"
                                                "2027sp,cs101,3,History,2027-01-20T00:00Z\n"
                                                "2027FA,CS101,3,Computer Science,2027-01-25\n",
                       now=NOW)
    assert plan.ok, plan.errors
    assert [(r.line, r.action, r.key) for r in plan.rows] == [
        (2, "create", "2027SP CS101 Computer Science"), (3, "create", "2027SP CS101 History"),
        (4, "create", "2027FA CS101 Computer Science")]
    with write_transaction(db.session):
        result = apply_import(plan, actor=None, now=NOW)
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    fall = datetime(2027, 1, 25, tzinfo=UTC)
    assert reservations() == {("2027SP", "CS101", "Computer Science"): (5, RELEASE),
                              ("2027SP", "CS101", "History"): (3, RELEASE),
                              ("2027FA", "CS101", "Computer Science"): (3, fall)}

    # The program is matched ignoring case and surrounding spaces: these update, not add.
    again = plan_import("reservations", HEADER + '2027SP,CS101,7," computer SCIENCE ",'
                                                 "2027-01-20\n"
                                                 "2027SP,CS101,3,HISTORY,2027-01-22 09:00\n"
                                                 "2027FA,CS101,3,computer science,2027-01-25\n",
                        now=NOW)
    assert again.ok, again.errors
    assert [(r.action, r.summary) for r in again.rows] == [
        ("update", "reservation 2027SP CS101 computer SCIENCE: seats (7 seats until "
                   "20 Jan 2027 00:00 UTC)"),
        ("update", "reservation 2027SP CS101 HISTORY: release_at (3 seats until "
                   "22 Jan 2027 09:00 UTC)"),
        ("unchanged", "reservation 2027FA CS101 computer science is up to date")]
    with write_transaction(db.session):
        result = apply_import(again, actor=None, now=NOW)
    assert (result.created, result.updated, result.unchanged) == (0, 2, 1)
    assert reservations() == {
        ("2027SP", "CS101", "Computer Science"): (7, RELEASE),
        ("2027SP", "CS101", "History"): (3, datetime(2027, 1, 22, 9, tzinfo=UTC)),
        ("2027FA", "CS101", "Computer Science"): (3, fall)}


def test_a_released_reservation_moved_into_the_future_is_reserved_again(courses):
    reservation = reserve(courses["CS101"], "History", 2, release_at=NOW - timedelta(days=1))
    reservation.released_at = NOW - timedelta(hours=1)
    db.session.commit()
    plan = plan_import("reservations", HEADER + "2027SP,CS101,2,History,2027-01-20\n", now=NOW)
    assert [(r.action, r.summary) for r in plan.rows] == [
        ("update", "reservation 2027SP CS101 History: release_at, reserved again (2 seats "
                   "until 20 Jan 2027 00:00 UTC)")]
    with write_transaction(db.session):
        apply_import(plan, actor=None, now=NOW)
    db.session.expire_all()
    assert db.session.get(Reservation, reservation.id).released_at is None


def bad_rows(text: str) -> list[str]:
    plan = plan_import("reservations", HEADER + text, now=NOW)
    assert not plan.ok
    return [str(e) for e in plan.errors]


def test_every_bad_row_is_a_line_error_with_its_column(courses):
    reserve(courses["CS101"], "History", 4)
    assert bad_rows("2027SP,CS101,five,P1,2027-01-20\n"
                    "2027SP,CS101,-1,P2,2027-01-20\n"
                    "2027SP,CS101,10001,P3,2027-01-20\n"
                    "2027SP,CS101,,P4,2027-01-20\n"
                    "2027SP,CS101,7,Physics,2027-01-20\n"
                    "2027SP,CS102,6,Maths,2027-01-20\n"
                    "2027SP,CS102,5,Art,2027-01-20\n"
                    "2099XX,CS101,1,P5,2027-01-20\n"
                    "2027SP,CS999,1,P6,2027-01-20\n"
                    "2027SP,CS101,1,P7,tomorrow\n"
                    "2027SP,CS101,1,P8,\n"
                    "2027SP,CS101,1,,2027-01-20\n"
                    "2027SP,CS101,1,p" + "x" * 120 + ",2027-01-20\n"
                    "2027SP,CS 1,1,P9,2027-01-20\n") == [
        "line 2: seats: 'five' is not a whole number",
        "line 3: seats: must be between 0 and 10000, not -1",
        "line 4: seats: must be between 0 and 10000, not 10001",
        "line 5: seats: is required",
        # The existing reservation of another program counts ...
        "line 6: seats: 7 reserved seats with the 4 reserved for other programs would exceed "
        "the capacity of CS101 (10).",
        # ... and so do the file's earlier rows for the course.
        "line 8: seats: 5 reserved seats with the 6 reserved for other programs would exceed "
        "the capacity of CS102 (10).",
        "line 9: term: unknown term 2099XX",
        "line 10: code: unknown course CS999 in term 2027SP",
        "line 11: release_at: 'tomorrow' is not an ISO 8601 time (e.g. 2027-01-15T09:00)",
        "line 12: release_at: is required",
        "line 13: program: is required",
        "line 14: program: is longer than 120 characters",
        "line 15: code: 'CS 1' is not a code (letters and digits, no spaces)"]
    assert count() == 1


def test_the_rows_of_one_course_add_up_in_file_order(courses):
    reserve(courses["CS101"], "History", 8)
    # History's own reservation is replaced, not added to; after it shrinks Physics fits.
    plan = plan_import("reservations", HEADER + "2027SP,CS101,10,history,2027-01-20\n"
                                                "2027SP,CS101,4,History,2027-01-20\n"
                                                "2027SP,CS101,6,Physics,2027-01-20\n", now=NOW)
    assert [str(e) for e in plan.errors] == [
        "line 3: program: History in 2027SP CS101 already appears on line 2",
        "line 4: seats: 6 reserved seats with the 10 reserved for other programs would exceed "
        "the capacity of CS101 (10)."]
    plan = plan_import("reservations", HEADER + "2027SP,CS101,4,history,2027-01-20\n"
                                                "2027SP,CS101,6,Physics,2027-01-20\n", now=NOW)
    assert plan.ok, plan.errors
    with write_transaction(db.session):
        apply_import(plan, actor=None, now=NOW)
    assert reservations() == {("2027SP", "CS101", "History"): (4, RELEASE),
                              ("2027SP", "CS101", "Physics"): (6, RELEASE)}
    # The other way round the first row would exceed the capacity while History holds 8.
    reserve(courses["CS102"], "History", 8)
    assert bad_rows("2027SP,CS102,6,Physics,2027-01-20\n"
                    "2027SP,CS102,4,history,2027-01-20\n") == [
        "line 2: seats: 6 reserved seats with the 8 reserved for other programs would exceed "
        "the capacity of CS102 (10)."]


def test_a_duplicate_key_in_the_file_is_an_error_of_the_later_line(courses):
    assert bad_rows("2027SP,CS101,1,Physics,2027-01-20\n"
                    "2027SP,CS102,1,Physics,2027-01-20\n"
                    "2027sp,cs101,2, PHYSICS ,2027-01-21\n") == [
        "line 4: program: PHYSICS in 2027SP CS101 already appears on line 2"]


def test_fewer_reserved_seats_go_to_the_waitlist(courses, make_student):
    course = courses["FA101"]  # capacity 3
    reserve(course, "Physics", 1)
    first, second, third = (make_student(program="History") for _ in range(3))
    for student in (first, second, third):
        enroll(student, course, staff=True)
    assert links()[(third.id, course.id)] == "waitlisted"  # the last seat is Physics'
    plan = plan_import("reservations", HEADER + "2027FA,CS101,0,Physics,2027-01-20\n", now=NOW)
    with write_transaction(db.session):
        apply_import(plan, actor=None, now=NOW)
    assert links()[(third.id, course.id)] == str(Status.ENROLLED)


# --- the command line ----------------------------------------------------------------------

@pytest.fixture
def run(runner, tmp_path):
    def _run(content, *args):
        path = tmp_path / "reservations.csv"
        path.write_text(content)
        result = runner.invoke(import_csv, ["reservations", str(path), *args])
        assert "Traceback" not in result.output
        db.session.expire_all()
        return result
    return _run


def test_cli_dry_run_writes_nothing_then_the_import_does(courses, run):
    db.session.commit()
    text = HEADER + "2027SP,CS101,5,Computer Science,2027-01-20\n"
    dry = run(text, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "line 2: create: new reservation 2027SP CS101 Computer Science: 5 seats" in dry.output
    assert "Nothing was written." in dry.output
    assert count() == 0
    done = run(text)
    assert done.exit_code == 0, done.output
    assert "Imported reservations: 1 created, 0 updated, 0 unchanged." in done.output
    assert count() == 1


def test_cli_errors_exit_1_with_line_column_reason_on_stderr(courses, run):
    db.session.commit()
    result = run(HEADER + "2027SP,CS101,11,Physics,2027-01-20\n"
                          "2027SP,NOPE1,1,Physics,2027-01-20\n")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 2: seats: 11 reserved seats would exceed the capacity of CS101 (10).",
        "line 3: code: unknown course NOPE1 in term 2027SP",
        "2 problems; nothing was imported."]
    assert count() == 0


# --- the admin's upload page ---------------------------------------------------------------

def test_the_admin_upload_page_offers_the_kind_and_previews_it(staff_client, courses):
    db.session.commit()
    page = page_text(staff_client.get("/admin/import/"))
    assert '<option value="reservations">Reserved seats</option>' in page
    assert "term,code,seats,program,release_at" in re.sub(r"<wbr>", "", page)
    preview = staff_client.post("/admin/import/preview", content_type="multipart/form-data",
                                data={"kind": "reservations", "file": (io.BytesIO(
                                    (HEADER + "2027SP,CS101,5,Physics,2027-01-20\n").encode()),
                                    "seats.csv")})
    assert preview.status_code == 200
    assert "Import preview: Reserved seats" in page_text(preview)
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"',
                        preview.get_data(as_text=True)).group(1)
    done = staff_client.post("/admin/import/apply", data={"payload": payload},
                             follow_redirects=True)
    assert any("Imported reserved seats from seats.csv: 1 created" in m for m in flashes(done))
    assert reservations() == {("2027SP", "CS101", "Physics"): (5, RELEASE)}


# --- the admin's Reserved seats view -------------------------------------------------------

def form(course, **overrides) -> dict:
    return {"course": str(course.id), "program": "Physics", "seats": "4",
            "release_at": "2027-01-20 00:00", **overrides}


def test_staff_create_edit_and_delete_a_reservation(staff_client, courses):
    course, other = courses["CS101"], courses["CS102"]
    db.session.commit()
    assert staff_client.get("/admin/reservation/new/").status_code == 200
    created = staff_client.post("/admin/reservation/new/", data=form(course),
                                follow_redirects=True)
    assert flashes(created) == ["4 seats of CS101 (2027SP) reserved for Physics."]
    assert reservations() == {("2027SP", "CS101", "Physics"): (4, RELEASE)}
    reservation = db.session.scalar(select(Reservation))

    listed = page_text(staff_client.get("/admin/reservation/"))
    for shown in ("2027SP", "CS101", "Physics", "2027-01-20 00:00"):
        assert shown in listed
    assert "Physics" in page_text(staff_client.get("/admin/reservation/?search=phys"))
    assert "Physics" not in page_text(staff_client.get("/admin/reservation/?search=CS102"))
    for shown, query in ((True, "flt0_term_equals=2027SP"), (False, "flt0_course_equals=CS102"),
                         (True, "flt0_release_time_greater_than=2027-01-19+00:00:00"),
                         (False, "flt0_released_between=2027-01-01+00:00:00+to+"
                                 "2027-12-31+00:00:00"),
                         (True, "sort=0&desc=1"), (True, "sort=1")):
        response = staff_client.get(f"/admin/reservation/?{query}")
        assert response.status_code == 200, query
        assert ("Physics" in page_text(response)) == shown, query
    edit_page = page_text(staff_client.get(f"/admin/reservation/edit/?id={reservation.id}"))
    assert 'value="Physics"' in edit_page and 'value="2027-01-20 00:00"' in edit_page

    edited = staff_client.post(f"/admin/reservation/edit/?id={reservation.id}",
                               data=form(other, program="Applied Physics", seats="6",
                                         release_at="2027-01-21T10:00+01:00"))
    assert edited.status_code == 302, page_text(edited)
    assert reservations() == {("2027SP", "CS102", "Applied Physics"): (
        6, datetime(2027, 1, 21, 9, tzinfo=UTC))}
    assert db.session.scalar(select(Reservation.id)) == reservation.id

    deleted = staff_client.post("/admin/reservation/delete/", data={"id": reservation.id})
    assert deleted.status_code == 302
    assert count() == 0


def test_over_capacity_is_a_form_error_and_nothing_is_written(staff_client, courses):
    course = courses["CS101"]
    reserve(course, "History", 4)
    physics = reserve(course, "Physics", 2)
    db.session.commit()
    refused = staff_client.post("/admin/reservation/new/", data=form(course, program="Art",
                                                                     seats="7"))
    message = ("7 reserved seats with the 6 reserved for other programs would exceed the "
               "capacity of CS101 (10).")
    assert refused.status_code == 200
    assert message in page_text(refused)
    assert f"Nothing was saved. {message}" in flashes(refused)
    assert count() == 2
    # Editing counts the other programs only, never the reservation being edited.
    fits = staff_client.post(f"/admin/reservation/edit/?id={physics.id}",
                             data=form(course, seats="6"))
    assert fits.status_code == 302, page_text(fits)
    too_many = staff_client.post(f"/admin/reservation/edit/?id={physics.id}",
                                 data=form(course, program="Astronomy", seats="7"))
    assert too_many.status_code == 200
    assert ("7 reserved seats with the 4 reserved for other programs would exceed the "
            "capacity of CS101 (10).") in page_text(too_many)
    assert reservations() == {("2027SP", "CS101", "History"): (4, RELEASE),
                              ("2027SP", "CS101", "Physics"): (6, RELEASE)}


def test_a_second_reservation_for_the_program_is_a_form_error(staff_client, courses):
    course = courses["CS101"]
    reserve(course, "Physics", 2)
    history = reserve(course, "History", 2)
    db.session.commit()
    again = staff_client.post("/admin/reservation/new/", data=form(course,
                                                                   program=" physics "))
    assert again.status_code == 200
    duplicate = ("Already exists: CS101 already reserves seats for Physics; edit that "
                 "reservation instead.")
    assert duplicate in page_text(again)
    renamed = staff_client.post(f"/admin/reservation/edit/?id={history.id}",
                                data=form(course, program="PHYSICS"))
    assert renamed.status_code == 200 and duplicate in page_text(renamed)
    # The same program in another course, or a respelling of its own program, is fine.
    assert staff_client.post("/admin/reservation/new/",
                             data=form(courses["CS102"])).status_code == 302
    respelled = staff_client.post(f"/admin/reservation/edit/?id={history.id}",
                                  data=form(course, program="history", seats="2"))
    assert respelled.status_code == 302, page_text(respelled)
    assert set(reservations()) == {("2027SP", "CS101", "Physics"), ("2027SP", "CS101", "history"),
                                   ("2027SP", "CS102", "Physics")}


BAD_VALUES = [{"seats": "five"}, {"seats": "-1"}, {"seats": ""}, {"program": ""},
              {"program": "p" * 121}, {"release_at": "soon"}, {"release_at": ""}]


@pytest.mark.parametrize("bad", BAD_VALUES, ids=lambda b: ",".join(f"{k}={v[:6]}"
                                                                   for k, v in b.items()))
def test_a_bad_value_gets_the_same_message_in_the_admin_and_the_import(bad, staff_client,
                                                                       courses):
    db.session.commit()
    row = {"term": "2027SP", "code": "CS101", "seats": "4", "program": "Physics",
           "release_at": "2027-01-20", **bad}
    plan = plan_import("reservations", HEADER + ",".join(row[c] for c in HEADER.strip()
                                                         .split(",")) + "\n", now=NOW)
    [error] = plan.errors
    response = staff_client.post("/admin/reservation/new/", data=form(courses["CS101"], **bad))
    assert response.status_code == 200
    assert error.reason in page_text(response)
    assert count() == 0


def test_deleting_or_shrinking_a_reservation_promotes_the_waitlist(staff_client, courses,
                                                                   make_student):
    course = courses["FA101"]  # capacity 3
    physics = reserve(course, "Physics", 2)
    students = [make_student(program="History") for _ in range(3)]
    for student in students:
        enroll(student, course, staff=True)
    db.session.commit()
    assert [links()[(s.id, course.id)] for s in students] == ["enrolled", "waitlisted",
                                                               "waitlisted"]
    shrunk = staff_client.post(f"/admin/reservation/edit/?id={physics.id}",
                               data=form(course, seats="1"))
    assert shrunk.status_code == 302, page_text(shrunk)
    assert [links()[(s.id, course.id)] for s in students] == ["enrolled", "enrolled",
                                                               "waitlisted"]
    staff_client.post("/admin/reservation/delete/", data={"id": physics.id})
    assert [links()[(s.id, course.id)] for s in students] == ["enrolled", "enrolled",
                                                               "enrolled"]


def test_only_staff_reach_the_view(client, login, make_student, courses):
    reservation = reserve(courses["CS101"], "Physics", 2)
    student = make_student()
    db.session.commit()
    urls = ["/admin/reservation/", "/admin/reservation/new/",
            f"/admin/reservation/edit/?id={reservation.id}", "/admin/reservation/export/csv/",
            "/admin/reservation/ajax/lookup/?name=course&query=CS"]
    for url in urls:
        anonymous = client.get(url)
        assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    login(student.user)
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert client.post("/admin/reservation/new/", data=form(courses["CS102"])).status_code == 403
    assert client.post("/admin/reservation/delete/",
                       data={"id": reservation.id}).status_code == 403
    assert count() == 1


def test_the_course_lookup_finds_courses(staff_client, courses):
    db.session.commit()
    found = staff_client.get("/admin/reservation/ajax/lookup/?name=course&query=CS102")
    assert found.status_code == 200
    [(course_id, text)] = found.get_json()
    assert course_id == courses["CS102"].id and text.startswith("CS102 ") and "2027SP" in text

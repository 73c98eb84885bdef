"""Cross-listed sections: one seat pool on top of each section's capacity, one waitlist in
arrival order across the group, one section of a group per student."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Crosslist, Enrollment, Status
from enrollment.services import EnrollmentRefused
from enrollment.services.crosslists import leave_group, set_group
from tests.factories import NOW
from tests.web_helpers import enroll, flashes, text


def group(make_course, *, pool=3, capacity=2, waitlist=5):
    """HIST200 and ANTH200 (one class under two codes): 2 seats each, 3 in the pool."""
    hist = make_course(code="HIST200", capacity=capacity, waitlist_capacity=waitlist)
    anth = make_course(term=hist.term, code="ANTH200", capacity=capacity,
                       waitlist_capacity=waitlist)
    with write_transaction(db.session):
        set_group(hist.term, "hist-anth", pool, [hist, anth], actor=None, now=NOW)
    return hist, anth


def status(student, course):
    db.session.expire_all()
    link = db.session.get(Enrollment, (student.id, course.id))
    return None if link is None else link.status


def test_the_pool_limits_the_group_on_top_of_each_section(make_course, make_student):
    hist, anth = group(make_course)
    a, b, c, d = (make_student() for _ in range(4))
    assert [enroll(a, hist), enroll(b, hist)] == [Status.ENROLLED, Status.ENROLLED]
    assert enroll(c, hist) == Status.WAITLISTED  # the section is full (2 of 2)
    assert enroll(d, anth) == Status.ENROLLED  # the pool's third seat
    late = make_student()
    assert enroll(late, anth) == Status.WAITLISTED  # ANTH200 has a seat, the pool has none
    seats = services.seat_count(anth.id, now=NOW)
    assert (seats.pool, seats.pool_taken, seats.free_seats(anth)) == (3, 3, 0)
    # One line across the group, in arrival order: c (HIST200) first, then late (ANTH200).
    assert services.waitlist_positions([hist.id, anth.id]) == {(c.id, hist.id): 1,
                                                               (late.id, anth.id): 2}


def test_a_freed_seat_goes_to_the_first_of_the_group_line_whose_section_has_room(
        make_course, make_student):
    hist, anth = group(make_course)
    a, b, c, d, late = (make_student() for _ in range(5))
    for s, course in ((a, hist), (b, hist), (c, hist), (d, anth), (late, anth)):
        enroll(s, course)
    # d leaves ANTH200: a pool seat frees; c (first in line) waits for the full HIST200, so
    # late (ANTH200) gets it and c keeps the first place.
    with write_transaction(db.session):
        result = services.drop(d, anth, actor=None, now=NOW)
    assert [link.student_id for link in result.promoted] == [late.id]
    assert status(late, anth) == Status.ENROLLED and status(c, hist) == Status.WAITLISTED
    # a leaves HIST200: the seat is c's.
    with write_transaction(db.session):
        services.drop(a, hist, actor=None, now=NOW)
    assert status(c, hist) == Status.ENROLLED


def test_a_student_holds_one_section_of_a_group(make_course, make_student):
    hist, anth = group(make_course)
    student = make_student()
    enroll(student, hist)
    with pytest.raises(EnrollmentRefused) as refused, write_transaction(db.session):
        services.enroll(student, anth, actor=None, now=NOW)
    assert refused.value.code == "already_enrolled"
    assert refused.value.message == ("You are already enrolled in HIST200, cross-listed with "
                                     "ANTH200: one section of the group at most.")
    # A swap between the sections of a group is how a student changes code.
    with write_transaction(db.session):
        services.swap(student, anth.id, hist.id, actor=None, now=NOW)
    assert status(student, anth) == Status.ENROLLED and status(student, hist) is None


def test_raising_the_pool_promotes_and_leaving_the_group_frees_the_section(make_course,
                                                                        make_student):
    hist, anth = group(make_course, pool=1)
    a, b = make_student(), make_student()
    enroll(a, hist)
    assert enroll(b, anth) == Status.WAITLISTED
    with write_transaction(db.session):
        _, promotions = set_group(hist.term, "HIST-ANTH", 2, [hist, anth], actor=None, now=NOW)
    assert [link.student_id for link in promotions.promoted] == [b.id]
    assert db.session.scalar(select(Crosslist.capacity)) == 2  # the key ignores case
    with write_transaction(db.session):
        leave_group(anth, actor=None, now=NOW)
    assert db.session.scalars(select(Crosslist)).all() == []  # one section is no group
    assert services.seat_count(hist.id, now=NOW).pool is None


def test_a_group_needs_two_sections_of_its_term(make_course, make_term):
    hist = make_course(code="HIST200")
    other = make_course(term=make_term(code="OTHER"), code="ANTH200")
    for sections, code in (([hist], "crosslist_too_small"), ([hist, other], "with_other_term")):
        with pytest.raises(EnrollmentRefused) as refused, write_transaction(db.session):
            set_group(hist.term, "G1", 3, sections, actor=None, now=NOW)
        assert refused.value.code == code
    assert db.session.scalars(select(Crosslist)).all() == []


def test_the_pages_and_the_api_show_the_pool(client, login, make_course, make_student):
    from tests.api_support import bearer, make_token

    hist, anth = group(make_course, pool=1)
    enroll(make_student(), hist)
    student = make_student()
    secret = make_token(student.user, "read")
    db.session.commit()
    login(student.user)
    page = text(client.get(f"/courses/{anth.id}").text)
    assert "Cross-listed with HIST200" in page
    assert "0 of 1 seats left in the group" in page
    assert "Join the waitlist" in page
    catalog = client.get("/courses", query_string={"q": "ANTH200"}).text
    assert "0 of 2 left" not in catalog and "Full" in catalog
    assert "ANTH200" not in client.get("/courses", query_string={
        "q": "ANTH200", "open_seats": "y"}).text.split("</form>")[-1]
    item = client.get(f"/api/v1/courses/{anth.id}", headers=bearer(secret)).get_json()
    assert item["seats_left"] == 0
    assert item["crosslist"] == {"key": "HIST-ANTH", "capacity": 1, "seats_left": 0,
                                 "sections": ["ANTH200", "HIST200"]}
    response = client.post(f"/courses/{anth.id}/enroll")
    assert "joined the waitlist at position 1" in flashes(
        client.get(response.headers["Location"]))[0]


# --- the courses CSV: `crosslist` and `crosslist_capacity` ----------------------------------

TERMS = """code,name,enrollment_opens,enrollment_closes,drop_deadline,classes_start,classes_end
2027SP,Spring 2027,2027-01-01T00:00:00Z,2027-01-31,2027-02-15T23:59+00:00,,
"""
HEADER = "term,code,title,department,credits,capacity,crosslist,crosslist_capacity\n"


@pytest.fixture
def run_import(import_file):
    assert import_file("terms", TERMS).exit_code == 0
    return import_file


def groups() -> dict[str, tuple[int, list[str]]]:
    from enrollment.models import Course, crosslist_sections
    found = {}
    for group in db.session.scalars(select(Crosslist)):
        codes = db.session.scalars(select(Course.code).join(
            crosslist_sections, crosslist_sections.c.course_id == Course.id)
            .where(crosslist_sections.c.crosslist_id == group.id).order_by(Course.code)).all()
        found[group.key] = (group.capacity, list(codes))
    return found


def test_the_courses_csv_makes_and_changes_groups(run_import):
    result = run_import("courses", HEADER + "2027SP,HIST200,Cities,HIST,3,20,hist-anth,25\n"
                                            "2027SP,ANTH200,Cities,ANTH,3,20,HIST-ANTH,25\n"
                                            "2027SP,URB200,Cities,URB,3,10,Hist-Anth,25\n"
                                            "2027SP,MATH1,Calculus,MATH,4,30,,\n")
    assert result.exit_code == 0, result.output
    assert groups() == {"HIST-ANTH": (25, ["ANTH200", "HIST200", "URB200"])}
    # A file naming one section keeps the others; an empty cell takes one out.
    result = run_import("courses", HEADER + "2027SP,HIST200,Cities,HIST,3,20,HIST-ANTH,30\n"
                                            "2027SP,URB200,Cities,URB,3,10,,\n")
    assert result.exit_code == 0, result.output
    assert groups() == {"HIST-ANTH": (30, ["ANTH200", "HIST200"])}


def test_bad_crosslist_cells_are_line_errors_and_nothing_is_written(run_import):
    result = run_import("courses", HEADER + "2027SP,A1,One,X,3,20,G1,25\n"
                                            "2027SP,A2,Two,X,3,20,g1,30\n"
                                            "2027SP,A3,Three,X,3,20,G2,5\n"
                                            "2027SP,A4,Four,X,3,20,G3,\n"
                                            "2027SP,A5,Five,X,3,20,,7\n"
                                            "2027SP,A6,Six,X,3,20,bad key,7\n")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:-1] == [
        "line 3: crosslist_capacity: 30 differs from 25 given for group G1 on line 2 (one "
        "pool per group)",
        "line 4: crosslist: group G2 would have one section: a cross-listed group needs two "
        "or more",
        "line 5: crosslist_capacity: is required",
        "line 6: crosslist_capacity: is given without a crosslist key",
        "line 7: crosslist: 'BAD KEY' is not a group key (letters and digits, no spaces)",
    ]
    assert groups() == {}


# --- the admin: the groups, and the pool on the roster ---------------------------------------

from tests.admin_support import staff_client_fixture, staff_fixture  # noqa: E402, F401


def test_staff_make_change_and_remove_a_group(staff_client, make_course, make_student):
    hist = make_course(code="HIST200", capacity=2, waitlist_capacity=5)
    anth = make_course(term=hist.term, code="ANTH200", capacity=2, waitlist_capacity=5)
    waiting = make_student()
    hist.capacity = 0
    db.session.flush()
    enroll(waiting, hist)
    db.session.commit()
    refused = staff_client.post("/admin/crosslist/new/", data={
        "term": hist.term_id, "key": "ha", "capacity": "3", "sections": str(hist.id)})
    assert "needs two sections or more" in refused.text
    assert db.session.scalars(select(Crosslist)).all() == []
    made = staff_client.post("/admin/crosslist/new/", data={
        "term": hist.term_id, "key": "ha", "capacity": "3",
        "sections": f"{hist.id},{anth.id}"}, follow_redirects=True)
    assert "Cross-listed group HA: 3 seats shared by ANTH200, HIST200." in made.text
    group = db.session.scalars(select(Crosslist)).one()
    listing = staff_client.get("/admin/crosslist/").text
    assert "ANTH200, HIST200" in listing
    # The roster of a section shows the pool.
    roster = staff_client.get(f"/admin/course/roster/?id={anth.id}").text
    assert "Cross-listed with HIST200" in text(roster) and "0 of 3 seats in the pool" in roster
    staff_client.post(f"/admin/crosslist/delete/?id={group.id}", data={"id": group.id})
    db.session.expire_all()
    assert db.session.scalars(select(Crosslist)).all() == []
    assert status(waiting, hist) == Status.WAITLISTED


def test_the_roster_report_shows_the_pool(staff_client, make_course, make_student):
    hist, anth = group(make_course, pool=3)
    enroll(make_student(), hist)
    db.session.commit()
    page = text(staff_client.get(f"/reports/courses/{anth.id}/roster").text)
    assert "Cross-listed 1 of 3 seats of the group's pool taken" in page


def test_the_course_page_offers_swapping_between_sections_of_a_group(client, login,
                                                                    make_course, make_student):
    hist, anth = group(make_course)
    student = make_student()
    enroll(student, hist)
    db.session.commit()
    login(student.user)
    page = client.get(f"/courses/{anth.id}").text
    assert 'data-code="already_enrolled"' in page and "Swap for HIST200" in page
    response = client.post(f"/courses/{anth.id}/swap", data={"drop": str(hist.id)})
    assert "You swapped HIST200" in flashes(client.get(response.headers["Location"]))[0]
    assert status(student, anth) == Status.ENROLLED and status(student, hist) is None


def test_the_batch_shares_the_pool_and_the_line_like_single_enrolls(make_course, make_student):
    hist, anth = group(make_course)
    students = [make_student() for _ in range(5)]
    pairs = [(s, hist if n % 2 else anth) for n, s in enumerate(students)]
    with write_transaction(db.session):
        results = services.enroll_many(pairs + [(students[0], hist)], actor=None, now=NOW)
    assert [r.status for r in results[:5]] == [Status.ENROLLED] * 3 + [Status.WAITLISTED] * 2
    assert results[5].code == "already_enrolled"  # one section of the group per student
    assert sorted(services.waitlist_positions([hist.id, anth.id]).values()) == [1, 2]


def test_the_course_export_lists_the_group(staff_client, make_course):
    group(make_course, pool=3)
    db.session.commit()
    exported = staff_client.get("/admin/course/export/csv/").text.splitlines()
    assert exported[0].endswith("Corequisites,Crosslist,Crosslist Capacity")
    assert all(line.endswith(",HIST-ANTH,3") for line in exported[1:])

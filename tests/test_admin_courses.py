"""Courses in the admin: the roster multi-select goes through the rules, both ways."""
from __future__ import annotations

import pytest

from enrollment.extensions import db
from enrollment.models import Action, Course
from tests.admin_support import (  # noqa: F401
    bulk_insert_students,
    course_form,
    events,
    links,
    staff_client_fixture,
    staff_fixture,
)
from tests.factories import at
from tests.web_helpers import flashes


def _edit(client, course, **changes):
    return client.post(f"/admin/course/edit/?id={course.id}", data=course_form(course, **changes))


def test_list_shows_term_department_and_seat_counts(staff_client, make_course, make_student):
    course = make_course(code="HIS210", capacity=2, waitlist_capacity=3)
    for _ in range(3):
        staff_client.post(f"/admin/course/edit/?id={course.id}", data=course_form(
            course, students=",".join(str(s.id) for s in [*course.students, make_student()])))
    page = staff_client.get("/admin/course/").get_data(as_text=True)
    assert "HIS210" in page and course.term.code in page and course.department.code in page
    assert "2 / 2" in page and "1 / 3" in page


def test_adding_students_enrolls_then_waitlists_by_the_rules(staff_client, make_course,
                                                             make_student, staff):
    course = make_course(capacity=1, waitlist_capacity=5)
    first, second = make_student(), make_student()
    db.session.commit()
    response = _edit(staff_client, course, students=f"{first.id},{second.id}")
    assert response.status_code == 302
    assert links() == {(first.id, course.id): "enrolled", (second.id, course.id): "waitlisted"}
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "enrolled: 1" in page and "waitlisted: 1" in page
    assert all(e.actor_id == staff.id for e in events())
    assert {e.action for e in events()} >= {Action.ADDED_BY_STAFF} or len(events()) == 2


def test_a_refusal_saves_nothing_not_even_other_fields(staff_client, make_term, make_course,
                                                       make_student):
    term = make_term()
    busy = make_course(term=term, days="MW", start_time=at("09:00"), end_time=at("10:00"))
    course = make_course(term=term, title="Old title", days="M", start_time=at("09:30"),
                         end_time=at("10:30"))
    student = make_student()
    db.session.commit()
    assert _edit(staff_client, busy, students=str(student.id)).status_code == 302
    before = links()

    response = _edit(staff_client, course, title="New title", students=str(student.id))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert any("Nothing was saved" in m for m in flashes(html))
    assert student.student_number in html and "conflict" in html.lower()
    assert links() == before
    db.session.expire_all()
    assert db.session.get(Course, course.id).title == "Old title"


def test_each_save_outcome_shows_one_message(staff_client, make_term, make_course, make_student):
    term = make_term()
    busy = make_course(term=term, code="HIS101", days="M", start_time=at("09:00"),
                       end_time=at("10:00"))
    course = make_course(term=term, code="HIS102", days="M", start_time=at("09:30"),
                         end_time=at("10:30"))
    student = make_student()
    db.session.commit()

    def shown(response):
        if response.status_code == 302:
            response = staff_client.get(response.headers["Location"])
        return flashes(response)

    # Flask-Admin's generic "Record was successfully saved." would repeat ours.
    assert shown(_edit(staff_client, busy, students=str(student.id))) == [
        f"Saved {busy}. Roster changes — enrolled: 1."]
    assert shown(_edit(staff_client, busy, title="Renamed")) == ["Record was successfully saved."]
    refused = shown(_edit(staff_client, course, students=str(student.id)))
    assert len(refused) == 1 and refused[0].startswith("Nothing was saved.")
    assert "meets at the same time" in refused[0]
    # A form error names the field instead of "Failed to save record.".
    assert shown(_edit(staff_client, course, students=str(student.id), overrides="conflict")) \
        == ["Nothing was saved. Check Reason below."]
    assert shown(_edit(staff_client, busy, students="")) == [
        "Saved HIS101 Renamed. Roster changes — dropped: 1."]


def test_an_override_needs_a_reason_and_is_recorded(staff_client, make_course, make_student):
    course = make_course(capacity=0, waitlist_capacity=0)
    student = make_student()
    db.session.commit()
    refused = _edit(staff_client, course, students=str(student.id), overrides="capacity")
    assert refused.status_code == 200
    assert "A reason is required" in refused.get_data(as_text=True)
    assert links() == {}

    full = _edit(staff_client, course, students=str(student.id))
    assert full.status_code == 200 and links() == {}

    accepted = _edit(staff_client, course, students=str(student.id), overrides="capacity",
                     reason="Dean approved")
    assert accepted.status_code == 302
    assert links() == {(student.id, course.id): "enrolled"}
    assert "Dean approved" in events()[-1].reason


def test_removing_a_student_drops_and_promotes_the_waitlist(staff_client, make_course,
                                                            make_student):
    course = make_course(capacity=1)
    first, second = make_student(), make_student()
    db.session.commit()
    _edit(staff_client, course, students=f"{first.id},{second.id}")
    response = _edit(staff_client, course, students=str(second.id))
    assert response.status_code == 302
    assert links() == {(second.id, course.id): "enrolled"}
    assert [e.action for e in events()][-2:] == [Action.REMOVED_BY_STAFF, Action.PROMOTED]


def test_raising_the_capacity_promotes(staff_client, make_course, make_student):
    course = make_course(capacity=1)
    students = [make_student() for _ in range(3)]
    db.session.commit()
    _edit(staff_client, course, students=",".join(str(s.id) for s in students))
    assert sorted(links().values()) == ["enrolled", "waitlisted", "waitlisted"]
    response = _edit(staff_client, course, capacity=2)
    assert response.status_code == 302
    assert sorted(links().values()) == ["enrolled", "enrolled", "waitlisted"]
    assert db.session.get(Course, course.id).capacity == 2


def test_bad_input_is_a_form_error(staff_client, make_course):
    course = make_course()
    db.session.commit()
    for changes, message in [({"days": "MXZ"}, "day letters"),
                             ({"start_time": "10:00", "end_time": "09:00"}, "after the start"),
                             ({"start_time": "10:00", "end_time": ""}, "both a start"),
                             ({"capacity": "-1"}, "between 0 and 10000"),
                             ({"students": "abc"}, "Not a valid choice"),
                             ({"students": "99999999999999"}, "Not a valid choice"),
                             ({"code": "A\x00B" * 20}, "")]:
        response = _edit(staff_client, course, **changes)
        assert response.status_code == 200, changes
        assert message in response.get_data(as_text=True), changes


def test_a_course_cannot_be_its_own_prerequisite(staff_client, make_course):
    course = make_course()
    db.session.commit()
    response = _edit(staff_client, course, prerequisites=str(course.id))
    assert "its own prerequisite" in response.get_data(as_text=True)


def test_duplicate_code_in_a_term_is_a_clear_message(staff_client, make_term, make_course):
    term = make_term()
    make_course(term=term, code="CS101")
    other = make_course(term=term, code="CS102")
    db.session.commit()
    response = _edit(staff_client, other, code="CS101")
    assert any("already uses this code" in m for m in flashes(response))


def test_create_a_course_with_students(staff_client, make_term, make_department, make_student):
    term, dept, student = make_term(), make_department(), make_student()
    db.session.commit()
    response = staff_client.post("/admin/course/new/", data={
        "term": term.id, "department": dept.id, "code": "NEW1", "title": "New", "credits": 3,
        "capacity": 10, "waitlist_capacity": 2, "students": str(student.id)})
    assert response.status_code == 302
    course = db.session.scalar(db.select(Course).where(Course.code == "NEW1"))
    assert links() == {(student.id, course.id): "enrolled"}


def test_delete_is_refused_while_students_are_linked(staff_client, make_course, make_student):
    course = make_course()
    student = make_student()
    db.session.commit()
    _edit(staff_client, course, students=str(student.id))
    response = staff_client.post("/admin/course/delete/", data={"id": course.id},
                                 follow_redirects=True)
    assert any("cannot be deleted" in m for m in flashes(response))
    assert db.session.get(Course, course.id) is not None
    _edit(staff_client, course, students="")
    staff_client.post("/admin/course/delete/", data={"id": course.id})
    db.session.expire_all()
    assert db.session.get(Course, course.id) is None


def test_student_lookup_searches_name_email_and_number(staff_client, make_student):
    ada = make_student(name="Ada Lovelace", email="ada@example.edu", student_number="S777")
    make_student(name="Bob", email="bob@example.edu")
    db.session.commit()
    for query in ["lovelace", "ADA@", "S77"]:
        data = staff_client.get(f"/admin/course/ajax/lookup/?name=students&query={query}").json
        assert [row[0] for row in data] == [ada.id], query
    assert staff_client.get("/admin/course/ajax/lookup/?name=students&query=%25").json == []
    assert staff_client.get("/admin/course/ajax/lookup/?name=nope&query=a").status_code == 404
    assert staff_client.get("/admin/course/ajax/lookup/?name=students").status_code == 200


def test_list_query_count_does_not_grow(staff_client, make_course, count_queries):
    make_course()
    db.session.commit()
    with count_queries() as few:
        assert staff_client.get("/admin/course/").status_code == 200
    for _ in range(15):
        make_course()
    db.session.commit()
    with count_queries() as many:
        assert staff_client.get("/admin/course/").status_code == 200
    assert many.count == few.count


def test_edit_page_query_count_does_not_grow_with_the_roster(staff_client, make_course,
                                                             make_student, count_queries):
    course = make_course(capacity=50)
    db.session.commit()
    _edit(staff_client, course, students=str(make_student().id))
    with count_queries() as few:
        staff_client.get(f"/admin/course/edit/?id={course.id}")
    _edit(staff_client, course, students=",".join(
        [str(s.id) for s in course.students] + [str(make_student().id) for _ in range(12)]))
    with count_queries() as many:
        staff_client.get(f"/admin/course/edit/?id={course.id}")
    assert many.count == few.count


@pytest.mark.slow
def test_course_edit_page_stays_small_with_20000_students(staff_client, make_course):
    course = make_course()
    db.session.commit()
    bulk_insert_students(20_000)
    response = staff_client.get(f"/admin/course/edit/?id={course.id}")
    assert response.status_code == 200
    assert len(response.data) < 50 * 1024
    assert 'data-role="select2-ajax"' in response.get_data(as_text=True)


def test_a_capacity_below_the_reserved_seats_is_a_form_error(staff_client, make_course):
    from datetime import timedelta

    from enrollment.database import write_transaction
    from enrollment.services.reservations import set_reservation
    from tests.factories import NOW

    course = make_course(capacity=10)
    with write_transaction(db.session):
        set_reservation(course, "Computer Science", 4, NOW + timedelta(days=2), actor=None,
                        now=NOW)
    response = _edit(staff_client, course, capacity=3)
    assert response.status_code == 200
    assert "4 reserved seats would exceed the capacity" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Course, course.id).capacity == 10


def test_lowering_the_capacity_below_the_enrolled_count_says_so(staff_client, make_course,
                                                                make_student):
    course = make_course(code="HIS210", capacity=3)
    students = [make_student() for _ in range(3)]
    db.session.commit()
    _edit(staff_client, course, students=",".join(str(s.id) for s in students))
    response = _edit(staff_client, course, capacity=2)
    assert response.status_code == 302
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert ("HIS210 has 3 students enrolled, more than its new capacity of 2. Nobody was "
            "removed") in page
    assert sorted(links().values()) == ["enrolled", "enrolled", "enrolled"]
    quiet = _edit(staff_client, course, capacity=5)  # above the count: no warning
    assert "more than its new capacity" not in staff_client.get(
        quiet.headers["Location"]).get_data(as_text=True)

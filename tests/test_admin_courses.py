"""Courses in the admin: the course form through the rules; the roster has its own editor
(tests/test_admin_roster_editor.py), reached from the list and the edit page."""
from __future__ import annotations

import pytest

from enrollment.extensions import db
from enrollment.models import Action, Course, Role
from tests import factories
from tests.admin_support import (  # noqa: F401
    bulk_insert_students,
    course_form,
    events,
    links,
    staff_client_fixture,
    staff_fixture,
)
from tests.web_helpers import enroll, flashes


def _edit(client, course, **changes):
    return client.post(f"/admin/course/edit/?id={course.id}", data=course_form(course, **changes))


def _add(client, course, student, **data):
    """Add a student through the roster editor (its confirmation form)."""
    return client.post(f"/admin/course/roster/add/?id={course.id}&student={student.id}",
                       data=data)


def test_list_shows_term_department_and_seat_counts(staff_client, make_course, make_student):
    course = make_course(code="HIS210", capacity=2, waitlist_capacity=3)
    for _ in range(3):
        enroll(make_student(), course)
    page = staff_client.get("/admin/course/").get_data(as_text=True)
    assert "HIS210" in page and course.term.code in page and course.department.code in page
    assert "2 / 2" in page and "1 / 3" in page


def test_adding_students_enrolls_then_waitlists_by_the_rules(staff_client, make_course,
                                                             make_student, staff):
    # Changed with the roster editor: students are added one at a time, each confirmed.
    course = make_course(capacity=1, waitlist_capacity=5)
    first, second = make_student(), make_student()
    db.session.commit()
    assert _add(staff_client, course, first).status_code == 303
    response = _add(staff_client, course, second)
    assert response.status_code == 303
    assert links() == {(first.id, course.id): "enrolled", (second.id, course.id): "waitlisted"}
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "joined the waitlist" in page
    assert all(e.actor_id == staff.id for e in events())
    assert {e.action for e in events()} == {Action.ADDED_BY_STAFF}


def test_a_refusal_saves_nothing_not_even_other_fields(staff_client, make_course):
    course = make_course(title="Old title")
    db.session.commit()
    response = _edit(staff_client, course, title="New title", prerequisites=str(course.id))
    assert response.status_code == 200
    assert any("Nothing was saved" in m for m in flashes(response))
    db.session.expire_all()
    assert db.session.get(Course, course.id).title == "Old title"


def test_each_save_outcome_shows_one_message(staff_client, make_course):
    course = make_course(code="HIS101")
    db.session.commit()

    def shown(response):
        if response.status_code == 302:
            response = staff_client.get(response.headers["Location"])
        return flashes(response)

    # Flask-Admin's generic "Record was successfully saved." is the one message of a save.
    assert shown(_edit(staff_client, course, title="Renamed")) == [
        "Record was successfully saved."]
    # A refusal is said once: on the field, the flash points at it.
    refused = _edit(staff_client, course, prerequisites=str(course.id))
    assert shown(refused) == ["Nothing was saved. Check Prerequisites below."]
    assert refused.get_data(as_text=True).count("A course cannot be its own prerequisite.") == 1
    # A form error names the field instead of "Failed to save record.".
    assert shown(_edit(staff_client, course, days="XYZ")) == [
        "Nothing was saved. Check Days below."]


def test_an_override_needs_a_reason_and_is_recorded(staff_client, make_course, make_student):
    course = make_course(capacity=0, waitlist_capacity=0)
    student = make_student()
    db.session.commit()
    refused = _add(staff_client, course, student, overrides="capacity")
    assert refused.status_code == 400
    assert "A reason is required" in refused.get_data(as_text=True)
    assert links() == {}

    full = _add(staff_client, course, student)
    assert full.status_code == 409 and links() == {}

    accepted = _add(staff_client, course, student, overrides="capacity", reason="Dean approved")
    assert accepted.status_code == 303
    assert links() == {(student.id, course.id): "enrolled"}
    assert "Dean approved" in events()[-1].reason


def test_removing_a_student_drops_and_promotes_the_waitlist(staff_client, make_course,
                                                            make_student):
    course = make_course(capacity=1)
    first, second = make_student(), make_student()
    enroll(first, course)
    enroll(second, course)
    response = staff_client.post(
        f"/admin/course/roster/drop/?id={course.id}&student={first.id}", data={})
    assert response.status_code == 303
    assert links() == {(second.id, course.id): "enrolled"}
    assert [e.action for e in events()][-2:] == [Action.REMOVED_BY_STAFF, Action.PROMOTED]


def test_raising_the_capacity_promotes(staff_client, make_course, make_student):
    course = make_course(capacity=1)
    for _ in range(3):
        enroll(make_student(), course)
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


def test_create_a_course_then_its_roster(staff_client, make_term, make_department,
                                         make_student):
    # Changed with the roster editor: the create form has no students; a posted list is ignored.
    term, dept, student = make_term(), make_department(), make_student()
    db.session.commit()
    response = staff_client.post("/admin/course/new/", data={
        "term": term.id, "department": dept.id, "code": "NEW1", "title": "New", "credits": 3,
        "capacity": 10, "waitlist_capacity": 2, "students": str(student.id)})
    assert response.status_code == 302
    course = db.session.scalar(db.select(Course).where(Course.code == "NEW1"))
    assert links() == {}
    assert _add(staff_client, course, student).status_code == 303
    assert links() == {(student.id, course.id): "enrolled"}


def test_delete_is_refused_while_students_are_linked(staff_client, make_course, make_student):
    course = make_course()
    student = make_student()
    enroll(student, course)
    response = staff_client.post("/admin/course/delete/", data={"id": course.id},
                                 follow_redirects=True)
    assert any("cannot be deleted" in m for m in flashes(response))
    assert db.session.get(Course, course.id) is not None
    staff_client.post(f"/admin/course/roster/drop/?id={course.id}&student={student.id}")
    staff_client.post("/admin/course/delete/", data={"id": course.id})
    db.session.expire_all()
    assert db.session.get(Course, course.id) is None


def test_student_search_finds_name_email_and_number(staff_client, make_course, make_student):
    # Changed with the roster editor: its search (a GET form, no JavaScript) replaces the
    # course form's AJAX student lookup.
    course = make_course()
    ada = make_student(name="Ada Lovelace", email="ada@example.edu", student_number="S777")
    make_student(name="Bob", email="bob@example.edu")
    db.session.commit()
    add = f"/admin/course/roster/add/?id={course.id}&amp;student="
    for query in ["lovelace", "ADA@", "S77"]:
        page = staff_client.get(f"/admin/course/roster/?id={course.id}&q={query}")
        html = page.get_data(as_text=True)
        assert html.count(add) == 1 and f"{add}{ada.id}" in html, query
    assert add not in staff_client.get(
        f"/admin/course/roster/?id={course.id}&q=%25").get_data(as_text=True)
    assert staff_client.get("/admin/course/ajax/lookup/?name=students&query=a").status_code \
        == 404


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
    enroll(make_student(), course)
    db.session.commit()
    with count_queries() as few:
        staff_client.get(f"/admin/course/edit/?id={course.id}")
    for _ in range(12):
        enroll(make_student(), course)
    db.session.commit()
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
    for _ in range(3):
        enroll(make_student(), course)
    response = _edit(staff_client, course, capacity=2)
    assert response.status_code == 302
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert ("HIS210 has 3 students enrolled, more than its new capacity of 2. Nobody was "
            "removed") in page
    assert sorted(links().values()) == ["enrolled", "enrolled", "enrolled"]
    quiet = _edit(staff_client, course, capacity=5)  # above the count: no warning
    assert "more than its new capacity" not in staff_client.get(
        quiet.headers["Location"]).get_data(as_text=True)


def test_staff_set_the_instructor_account(staff_client, make_course):
    """The course form's account select offers instructors only; the shown name follows the
    account when the Instructor field is empty (as in the courses CSV)."""
    course = make_course(code="CS900", instructor="")
    teacher = factories.make_user(name="Grace Hopper", role=Role.INSTRUCTOR)
    factories.make_user(name="Not Teaching", role=Role.STAFF)
    db.session.commit()
    page = staff_client.get(f"/admin/course/edit/?id={course.id}").get_data(as_text=True)
    assert "Grace Hopper" in page and "Not Teaching" not in page
    form = course_form(course, instructor_user=str(teacher.id))
    response = staff_client.post(f"/admin/course/edit/?id={course.id}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert course.instructor_id == teacher.id and course.instructor == "Grace Hopper"

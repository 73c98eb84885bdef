"""Students in the admin: the courses multi-select and the bulk enroll action, by the rules."""
from __future__ import annotations

from enrollment.extensions import db
from enrollment.models import Student, User
from tests.admin_support import (  # noqa: F401
    links,
    staff_client_fixture,
    staff_fixture,
    student_form,
)
from tests.web_helpers import flashes


def _edit(client, student, **changes):
    return client.post(f"/admin/student/edit/?id={student.id}",
                       data=student_form(student, **changes))


def test_list_shows_name_and_email_from_the_user(staff_client, make_student):
    make_student(name="Grace Hopper", email="grace@example.edu", student_number="S1906")
    page = staff_client.get("/admin/student/?search=hopper").get_data(as_text=True)
    assert "Grace Hopper" in page and "grace@example.edu" in page and "S1906" in page


def test_edit_adds_courses_through_the_rules_and_updates_the_user(staff_client, make_student,
                                                                  make_course):
    student = make_student()
    course = make_course(capacity=0, waitlist_capacity=2)
    db.session.commit()
    response = _edit(staff_client, student, courses=str(course.id), name="New Name",
                     email="NEW@example.edu")
    assert response.status_code == 302
    assert links() == {(student.id, course.id): "waitlisted"}
    user = db.session.get(User, student.user_id)
    assert (user.name, user.email) == ("New Name", "new@example.edu")


def test_a_refusal_keeps_the_old_name_and_courses(staff_client, make_student, make_course):
    student = make_student(name="Old Name", max_credits=3)
    small, big = make_course(credits=3), make_course(credits=4)
    db.session.commit()
    response = _edit(staff_client, student, courses=f"{small.id},{big.id}", name="Changed")
    assert response.status_code == 200
    assert any("Nothing was saved" in m for m in flashes(response))
    assert links() == {}
    assert db.session.get(User, student.user_id).name == "Old Name"


def test_create_with_courses_shows_one_message(staff_client, make_course):
    course = make_course(code="ART100")
    db.session.commit()
    done = staff_client.post("/admin/student/new/", data={
        "student_number": "S4242", "name": "Mary Shelley", "email": "mary@example.edu",
        "program": "", "max_credits": 18, "courses": str(course.id)}, follow_redirects=True)
    assert flashes(done) == [
        "Created Mary Shelley (S4242). Roster changes — enrolled: 1."]
    student = db.session.scalar(db.select(Student).where(Student.student_number == "S4242"))
    # Changed: a removed course is dropped only once the drop is confirmed (a stray "×" in the
    # select must not drop anything on Save).
    asked = _edit(staff_client, student, courses="")
    assert asked.status_code == 200
    assert flashes(asked) == ["Nothing was saved. Check Courses below."]
    assert "removed from the list" in asked.get_data(as_text=True)
    assert 'name="confirm_drops"' in asked.get_data(as_text=True)
    assert links() == {(student.id, course.id): "enrolled"}
    dropped = _edit(staff_client, student, courses="", confirm_drops="y")
    page = staff_client.get(dropped.headers["Location"]).get_data(as_text=True)
    assert flashes(page) == ["Saved Mary Shelley (S4242). Roster changes — dropped: 1."]
    assert links() == {}


def test_email_and_number_must_be_unique(staff_client, make_student):
    taken = make_student(email="taken@example.edu", student_number="S0001")
    student = make_student()
    db.session.commit()
    page = _edit(staff_client, student, email="taken@example.edu").get_data(as_text=True)
    assert "already uses this email" in page
    page = _edit(staff_client, student, student_number="S0001").get_data(as_text=True)
    assert "Already exists" in page
    assert taken.user.email == "taken@example.edu"


def test_create_a_student_with_a_login_identity(staff_client):
    response = staff_client.post("/admin/student/new/", data={
        "student_number": "S9999", "name": "Neo", "email": "neo@example.edu",
        "program": "Physics", "max_credits": 18, "courses": ""})
    assert response.status_code == 302
    student = db.session.scalar(db.select(Student).where(Student.student_number == "S9999"))
    assert student.user.email == "neo@example.edu" and student.user.role == "student"


def test_delete_is_refused_with_enrollments(staff_client, make_student, make_course):
    student, course = make_student(), make_course()
    db.session.commit()
    _edit(staff_client, student, courses=str(course.id))
    page = staff_client.post("/admin/student/delete/", data={"id": student.id},
                             follow_redirects=True).get_data(as_text=True)
    assert any("cannot be deleted" in m for m in flashes(page))
    assert db.session.get(Student, student.id) is not None


def test_bulk_enroll_reports_each_outcome(staff_client, make_student, make_course):
    course = make_course(capacity=1, waitlist_capacity=1)
    a, b, c = make_student(), make_student(), make_student()
    db.session.commit()
    ids = [str(a.id), str(b.id), str(c.id)]
    page = staff_client.post("/admin/student/action/", data={"action": "enroll", "rowid": ids})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert a.student_number in html and 'name="course"' in html
    assert html.count('name="rowid"') == 3

    missing = staff_client.post("/admin/student/bulk/enroll/", data={"rowid": ids})
    assert missing.status_code == 400 and links() == {}

    done = staff_client.post("/admin/student/bulk/enroll/",
                             data={"rowid": ids, "course": course.id}, follow_redirects=True)
    messages = flashes(done)
    assert any("2 of 3 done (1 enrolled, 1 waitlisted)" in m for m in messages)
    assert any("1 of 3 not done" in m and c.student_number in m for m in messages)
    assert sorted(links().values()) == ["enrolled", "waitlisted"]


def test_bulk_enroll_with_override_needs_a_reason(staff_client, make_student, make_course):
    course = make_course(capacity=0, waitlist_capacity=0)
    student = make_student()
    db.session.commit()
    data = {"rowid": [str(student.id)], "course": course.id, "overrides": "capacity"}
    refused = staff_client.post("/admin/student/bulk/enroll/", data=data)
    assert refused.status_code == 400 and "A reason is required" in refused.get_data(as_text=True)
    staff_client.post("/admin/student/bulk/enroll/", data={**data, "reason": "Lab space"})
    assert links() == {(student.id, course.id): "enrolled"}


def test_bulk_with_no_valid_selection_goes_back_to_the_list(staff_client):
    response = staff_client.post("/admin/student/action/", data={"action": "enroll",
                                                                  "rowid": ["x"]})
    assert response.status_code == 302
    assert staff_client.post("/admin/student/bulk/nope/", data={}).status_code == 404


def test_list_query_count_does_not_grow(staff_client, make_student, count_queries):
    make_student()
    db.session.commit()
    with count_queries() as few:
        staff_client.get("/admin/student/")
    for _ in range(12):
        make_student()
    db.session.commit()
    with count_queries() as many:
        staff_client.get("/admin/student/")
    assert many.count == few.count

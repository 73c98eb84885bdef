"""One set of field rules per record kind: the admin and the CSV importer say the same.

Also: every field of every record kind can be entered and edited in the admin.
"""
from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from enrollment import clock
from enrollment.extensions import db
from enrollment.imports import plan_import
from enrollment.models import Course, Department, Student, Term
from tests.admin_support import staff_client_fixture, staff_fixture  # noqa: F401

COURSE_HEADER = ("term,code,title,department,credits,capacity,waitlist_capacity,days,"
                 "start_time,end_time,location,instructor,prerequisites")


def import_errors(kind: str, text: str) -> dict[str, str]:
    """{column: reason} of the first data row's problems, as the importer reports them."""
    plan = plan_import(kind, text, now=clock.now())
    return {e.column: e.reason for e in plan.errors if e.line == 2}


def page_errors(response) -> str:
    """The page's text with entities decoded (the admin escapes quotes)."""
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


BAD_COURSES = [
    {"code": "CS 101"}, {"title": ""}, {"credits": "0"}, {"credits": "31"},
    {"credits": "three"}, {"capacity": "-1"}, {"capacity": "10001"},
    {"waitlist_capacity": "99999"}, {"days": "MXF"}, {"start_time": "9am"},
    {"start_time": "10:00", "end_time": "09:00"}, {"start_time": "10:00", "end_time": ""},
    {"days": "", "start_time": "10:00", "end_time": "11:00"},
    {"location": "x" * 121}, {"instructor": "y" * 121},
]


@pytest.mark.parametrize("bad", BAD_COURSES, ids=lambda b: ",".join(f"{k}={v[:8]}"
                                                                    for k, v in b.items()))
def test_a_bad_course_value_gets_the_same_message_in_the_admin_and_the_import(
        bad, staff_client, make_term, make_department):
    term, dept = make_term(code="2027SP"), make_department(code="CS")
    db.session.commit()
    row = {"term": "2027SP", "code": "CS101", "title": "Intro", "department": "CS",
           "credits": "3", "capacity": "30", "waitlist_capacity": "5", "days": "MWF",
           "start_time": "09:00", "end_time": "10:00", "location": "Hall", "instructor": "Ada",
           "prerequisites": "", **bad}
    csv = COURSE_HEADER + "\n" + ",".join(row[c] for c in COURSE_HEADER.split(",")) + "\n"
    reasons = import_errors("courses", csv)
    assert reasons, bad
    form = {**row, "term": str(term.id), "department": str(dept.id), "students": ""}
    response = staff_client.post("/admin/course/new/", data=form)
    assert response.status_code == 200, bad  # the form again, nothing saved
    page = page_errors(response)
    for reason in reasons.values():
        assert reason in page, (bad, reason)
    assert db.session.scalar(select(Course.id)) is None


BAD_STUDENTS = [
    {"email": "not-an-email"}, {"email": ""}, {"name": ""}, {"student_number": "S 1"},
    {"student_number": "S" * 21}, {"max_credits": "0"}, {"max_credits": "61"},
    {"max_credits": "abc"}, {"program": "p" * 121},
]


@pytest.mark.parametrize("bad", BAD_STUDENTS, ids=lambda b: ",".join(f"{k}={v[:8]}"
                                                                     for k, v in b.items()))
def test_a_bad_student_value_gets_the_same_message_in_the_admin_and_the_import(
        bad, staff_client):
    row = {"student_number": "S1", "name": "Ada", "email": "ada@example.edu",
           "program": "Maths", "max_credits": "18", **bad}
    columns = ["student_number", "name", "email", "program", "max_credits"]
    reasons = import_errors("students", ",".join(columns) + "\n"
                            + ",".join(row[c] for c in columns) + "\n")
    assert reasons, bad
    response = staff_client.post("/admin/student/new/", data={**row, "courses": ""})
    assert response.status_code == 200, bad
    page = page_errors(response)
    for reason in reasons.values():
        assert reason in page, (bad, reason)
    assert db.session.scalar(select(Student.id)) is None


BAD_TERMS = [
    {"code": "27 SP"}, {"name": ""}, {"enrollment_opens": "31/08/2026"},
    {"enrollment_closes": "2026-12-01"}, {"drop_deadline": "2026-12-01"},
    {"classes_start": "soon"}, {"classes_end": "2027-01-01"},
]


@pytest.mark.parametrize("bad", BAD_TERMS, ids=lambda b: ",".join(f"{k}={v[:8]}"
                                                                  for k, v in b.items()))
def test_a_bad_term_value_gets_the_same_message_in_the_admin_and_the_import(bad, staff_client):
    row = {"code": "2027SP", "name": "Spring 2027", "enrollment_opens": "2027-01-01T09:00",
           "enrollment_closes": "2027-01-31", "drop_deadline": "2027-02-15",
           "classes_start": "2027-02-01", "classes_end": "2027-05-14", **bad}
    columns = list(row)
    reasons = import_errors("terms", ",".join(columns) + "\n"
                            + ",".join(row[c] for c in columns) + "\n")
    assert reasons, bad
    response = staff_client.post("/admin/term/new/", data=row)
    assert response.status_code == 200, bad
    page = page_errors(response)
    for reason in reasons.values():
        assert reason in page, (bad, reason)
    assert db.session.scalar(select(Term.id)) is None


# --- every field can be entered and edited in the admin ------------------------------------

def test_create_and_edit_a_term_with_every_field(staff_client):
    created = staff_client.post("/admin/term/new/", data={
        "code": "2027fa", "name": "Fall 2027", "enrollment_opens": "2027-08-01 09:00",
        "enrollment_closes": "2027-08-31", "drop_deadline": "2027-09-15 17:00",
        "classes_start": "", "classes_end": ""})
    assert created.status_code == 302, page_errors(created)
    term = db.session.scalar(select(Term).where(Term.code == "2027FA"))
    assert (term.name, term.enrollment_opens, term.enrollment_closes, term.drop_deadline) == (
        "Fall 2027", datetime(2027, 8, 1, 9, tzinfo=UTC), datetime(2027, 8, 31, 23, 59, tzinfo=UTC),
        datetime(2027, 9, 15, 17, tzinfo=UTC))
    # Empty class dates take the importer's default: 15 weeks from the day after closing.
    assert (term.classes_start, term.classes_end) == (date(2027, 9, 1), date(2027, 12, 14))

    form = staff_client.get(f"/admin/term/edit/?id={term.id}").get_data(as_text=True)
    assert 'value="2027-08-01 09:00"' in form and 'value="2027-09-01"' in form
    edited = staff_client.post(f"/admin/term/edit/?id={term.id}", data={
        "code": "2027F", "name": "Autumn 2027", "enrollment_opens": "2027-07-01T10:00+02:00",
        "enrollment_closes": "2027-08-30 12:00", "drop_deadline": "2027-09-20",
        "classes_start": "2027-09-02", "classes_end": "2027-12-20"})
    assert edited.status_code == 302, page_errors(edited)
    db.session.expire_all()
    term = db.session.get(Term, term.id)
    assert (term.code, term.name, term.enrollment_opens, term.enrollment_closes,
            term.drop_deadline, term.classes_start, term.classes_end) == (
        "2027F", "Autumn 2027", datetime(2027, 7, 1, 8, tzinfo=UTC),
        datetime(2027, 8, 30, 12, tzinfo=UTC), datetime(2027, 9, 20, 23, 59, tzinfo=UTC),
        date(2027, 9, 2), date(2027, 12, 20))


def test_a_duplicate_term_code_is_a_form_error(staff_client, make_term):
    make_term(code="2027SP")
    db.session.commit()
    response = staff_client.post("/admin/term/new/", data={
        "code": "2027sp", "name": "Again", "enrollment_opens": "2027-01-01",
        "enrollment_closes": "2027-01-31", "drop_deadline": "2027-02-15"})
    assert response.status_code == 200
    assert "Already exists: another term uses this code." in page_errors(response)


def test_create_and_edit_a_department(staff_client, make_department):
    make_department(code="CS")
    db.session.commit()
    created = staff_client.post("/admin/department/new/", data={"code": "math",
                                                                "name": "Mathematics"})
    assert created.status_code == 302
    dept = db.session.scalar(select(Department).where(Department.code == "MATH"))
    assert dept.name == "Mathematics"
    taken = staff_client.post(f"/admin/department/edit/?id={dept.id}",
                              data={"code": "CS", "name": "Maths"})
    assert "Already exists" in page_errors(taken)
    edited = staff_client.post(f"/admin/department/edit/?id={dept.id}",
                               data={"code": "MTH", "name": "Maths"})
    assert edited.status_code == 302
    db.session.expire_all()
    assert (db.session.get(Department, dept.id).code, db.session.get(Department, dept.id).name
            ) == ("MTH", "Maths")


def test_create_and_edit_a_course_with_every_field(staff_client, make_term, make_department,
                                                   make_course):
    term, dept, other_dept = make_term(), make_department(), make_department()
    prereq = make_course(term=term, code="CS100")
    db.session.commit()
    values = {"term": str(term.id), "department": str(dept.id), "code": "cs101",
              "title": "Intro", "description": "All about it.", "credits": "4",
              "capacity": "25", "waitlist_capacity": "7", "instructor": "Ada Lovelace",
              "days": "wm", "start_time": "09:30", "end_time": "10:45", "location": "Hall 1",
              "prerequisites": str(prereq.id), "students": ""}
    created = staff_client.post("/admin/course/new/", data=values)
    assert created.status_code == 302, page_errors(created)
    course = db.session.scalar(select(Course).where(Course.code == "CS101"))
    assert (course.title, course.description, course.credits, course.capacity,
            course.waitlist_capacity, course.instructor, course.days, course.start_time,
            course.end_time, course.location, [p.code for p in course.prerequisites],
            course.department_id) == (
        "Intro", "All about it.", 4, 25, 7, "Ada Lovelace", "MW", time(9, 30), time(10, 45),
        "Hall 1", ["CS100"], dept.id)

    page = staff_client.get(f"/admin/course/edit/?id={course.id}").get_data(as_text=True)
    for shown in ('value="09:30"', 'value="MW"', 'value="Ada Lovelace"', "All about it."):
        assert shown in page
    edited = staff_client.post(f"/admin/course/edit/?id={course.id}", data={
        **values, "department": str(other_dept.id), "code": "CS102", "title": "Intro II",
        "description": "", "credits": "3", "capacity": "30", "waitlist_capacity": "0",
        "instructor": "", "days": "", "start_time": "", "end_time": "", "location": "",
        "prerequisites": ""})
    assert edited.status_code == 302, page_errors(edited)
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert (course.code, course.title, course.description, course.credits, course.capacity,
            course.waitlist_capacity, course.instructor, course.days, course.start_time,
            course.location, course.prerequisites, course.department_id) == (
        "CS102", "Intro II", "", 3, 30, 0, "", "", None, "", [], other_dept.id)


def test_create_and_edit_a_student_with_every_field(staff_client, make_student):
    created = staff_client.post("/admin/student/new/", data={
        "student_number": "S77", "name": "Grace Hopper", "email": "Grace@Example.EDU",
        "program": "Computing", "max_credits": "21", "courses": ""})
    assert created.status_code == 302, page_errors(created)
    student = db.session.scalar(select(Student).where(Student.student_number == "S77"))
    assert (student.name, student.email, student.program, student.max_credits) == (
        "Grace Hopper", "grace@example.edu", "Computing", 21)
    edited = staff_client.post(f"/admin/student/edit/?id={student.id}", data={
        "student_number": "S78", "name": "Rear Admiral Hopper", "email": "gh@example.edu",
        "program": "", "max_credits": "", "courses": ""})
    assert edited.status_code == 302, page_errors(edited)
    db.session.expire_all()
    student = db.session.get(Student, student.id)
    # An empty maximum takes the default, as in the import.
    assert (student.student_number, student.name, student.email, student.program,
            student.max_credits) == ("S78", "Rear Admiral Hopper", "gh@example.edu", "", 18)


def test_create_and_edit_a_user_with_every_field(staff_client):
    from enrollment.models import Role, User

    created = staff_client.post("/admin/user/new/", data={
        "email": " Ada@Example.EDU ", "name": "Ada Lovelace", "role": "staff", "active": "y",
        "new_password": "analytical-engine-1843"})
    assert created.status_code == 302, page_errors(created)
    user = db.session.scalar(select(User).where(User.email == "ada@example.edu"))
    assert (user.name, user.role, user.active) == ("Ada Lovelace", Role.STAFF, True)
    assert user.check_password("analytical-engine-1843")
    bad = staff_client.post(f"/admin/user/edit/?id={user.id}", data={
        "email": "not-an-email", "name": "", "role": "staff", "new_password": "short"})
    page = page_errors(bad)
    assert "'not-an-email' is not an email address" in page and "is required" in page
    edited = staff_client.post(f"/admin/user/edit/?id={user.id}", data={
        "email": "countess@example.edu", "name": "Countess of Lovelace", "role": "student",
        "new_password": ""})  # active unticked
    assert edited.status_code == 302, page_errors(edited)
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.email, user.name, user.role, user.active) == (
        "countess@example.edu", "Countess of Lovelace", Role.STUDENT, False)
    assert user.check_password("analytical-engine-1843")  # an empty password keeps the old one

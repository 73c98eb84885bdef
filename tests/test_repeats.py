"""Repeats and the pass mark: a passed course is not taken again unless it is repeatable; only
a passed completion satisfies a prerequisite. The same rule for one enroll, the batch import,
"why can't I enroll?" and the course page."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from enrollment import create_app, services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.imports import plan_import
from enrollment.models import Course, Source, Status
from enrollment.services import EnrollmentRefused, Override
from enrollment.services import grades as grading
from tests.factories import NOW


@pytest.fixture
def past(make_term):
    return make_term(code="PAST", enrollment_opens=NOW - timedelta(days=300),
                     enrollment_closes=NOW - timedelta(days=280),
                     drop_deadline=NOW - timedelta(days=270),
                     classes_start=date(2026, 3, 1), classes_end=date(2026, 6, 1))


def completed(student, course, grade):
    with write_transaction(db.session):
        services.complete(student, course, grade, actor=None, now=NOW)


def codes(student, course):
    return [r.code for r in services.enrollment_blockers(student, course, now=NOW)]


def test_grade_order_and_pass_mark():
    assert grading.best(["F", "B+", "C"]) == "B+"
    assert [g for g in ("A+", "D", "D-", "F", "P", "NP", "W", "I") if grading.passed(g)] == [
        "A+", "D", "P"]
    assert grading.best([]) is None


def test_a_passed_course_is_not_taken_again(make_course, make_student, past):
    student = make_student()
    completed(student, make_course(term=past, code="CS101"), "A")
    again = make_course(code="CS101")
    [refusal] = services.enrollment_blockers(student, again, now=NOW)
    assert (refusal.code, refusal.override) == ("already_completed", Override.REPEAT)
    assert "grade A" in refusal.message
    with pytest.raises(EnrollmentRefused), write_transaction(db.session):
        services.enroll(student, again, actor=None, now=NOW)
    with write_transaction(db.session):  # staff may allow it, with a reason
        link = services.enroll(student, again, actor=None, now=NOW, source=Source.STAFF,
                               override={Override.REPEAT}, reason="Grade replacement policy")
    assert link.status == Status.ENROLLED
    assert "Overrode: repeat." in services.history_for_course(again)[-1].reason


@pytest.mark.parametrize("grade", ["F", "W", "NP", "I"])
def test_a_course_not_passed_may_be_repeated_and_is_no_prerequisite(grade, make_course,
                                                                  make_student, past):
    student = make_student()
    first = make_course(term=past, code="CS101")
    completed(student, first, grade)
    assert codes(student, make_course(code="CS101")) == []
    needs = make_course(code="CS201", prerequisites=[first])
    assert codes(student, needs) == ["missing_prerequisite"]


def test_the_best_of_several_completions_counts(make_course, make_student, past, make_term):
    older = make_term(code="OLDER", enrollment_opens=NOW - timedelta(days=600),
                      enrollment_closes=NOW - timedelta(days=580),
                      drop_deadline=NOW - timedelta(days=570),
                      classes_start=date(2025, 9, 1), classes_end=date(2025, 12, 1))
    student = make_student()
    completed(student, make_course(term=older, code="CS101"), "F")
    passed = make_course(term=past, code="CS101")
    completed(student, passed, "B")
    assert codes(student, make_course(code="CS101")) == ["already_completed"]
    assert codes(student, make_course(code="CS201", prerequisites=[passed])) == []


def test_a_repeatable_course_may_be_taken_again(make_course, make_student, past):
    student = make_student()
    completed(student, make_course(term=past, code="MUS100", repeatable=True), "A")
    assert codes(student, make_course(code="MUS100", repeatable=True)) == []


@pytest.mark.config(PASSING_GRADE="C")
def test_the_pass_mark_is_configurable(make_course, make_student, past):
    student = make_student()
    first = make_course(term=past, code="CS101")
    completed(student, first, "D")
    assert codes(student, make_course(code="CS101")) == []
    assert codes(student, make_course(code="CS201", prerequisites=[first])) == [
        "missing_prerequisite"]


def test_a_bad_pass_mark_stops_the_app_with_one_line():
    # Outside a `flask` command the factory exits with the one line (as under gunicorn).
    with pytest.raises(SystemExit, match="PASSING_GRADE 'Z' is not a letter grade"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "PASSING_GRADE": "Z", "CHECK_DATABASE": False})


def test_the_batch_decides_as_one_enroll_does(make_course, make_student, past):
    passed, failed = make_student(), make_student()
    first = make_course(term=past, code="CS101")
    completed(passed, first, "A-")
    completed(failed, first, "F")
    again = make_course(code="CS101")
    with write_transaction(db.session):
        results = services.enroll_many([(passed, again), (failed, again)], actor=None, now=NOW)
    assert isinstance(results[0], EnrollmentRefused)
    assert results[0].reasons[0].override == Override.REPEAT
    assert results[1].status == Status.ENROLLED


def test_the_course_page_explains_instead_of_offering_the_waitlist(client, login, make_course,
                                                                   make_student, past):
    student = make_student()
    completed(student, make_course(term=past, code="CS101"), "A")
    again = make_course(code="CS101", capacity=0, waitlist_capacity=5)
    db.session.commit()
    login(student.user)
    page = client.get(f"/courses/{again.id}").get_data(as_text=True)
    assert "Join the waitlist" not in page
    assert "You have already completed CS101 (grade A)" in page
    refused = client.post(f"/courses/{again.id}/enroll", follow_redirects=True)
    assert "already completed CS101" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Course.id).where(Course.id == again.id)) == again.id


def test_repeatable_in_the_courses_csv_and_its_bad_values(make_term, make_department):
    make_term(code="2027SP")
    make_department(code="CS")
    header = "term,code,title,department,credits,capacity,repeatable\n"
    plan = plan_import("courses", header + "2027SP,MUS1,Choir,CS,1,20,Yes\n"
                                           "2027SP,MUS2,Band,CS,1,20,\n", now=NOW)
    assert plan.ok and [r.values["repeatable"] for r in plan.rows] == [True, False]
    bad = plan_import("courses", header + "2027SP,MUS1,Choir,CS,1,20,maybe\n", now=NOW)
    assert [str(e) for e in bad.errors] == [
        "line 2: repeatable: 'maybe' is not true or false (use true/false, yes/no or 1/0)"]


def test_the_admin_sets_repeatable(make_course, client, login, make_staff):
    from tests.admin_support import course_form

    course = make_course()
    staff = make_staff()
    db.session.commit()
    login(staff)
    done = client.post(f"/admin/course/edit/?id={course.id}",
                       data=course_form(course, repeatable="y"))
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Course, course.id).repeatable is True

"""The confirmation step before a drop or leaving the waitlist (no JavaScript needed): the
course page links to it, it says what the student gives up, and only its POST drops."""
from __future__ import annotations

from datetime import timedelta

from enrollment.extensions import db
from enrollment.models import Enrollment, Status
from tests.web_helpers import enroll, text


def status_of(student, course):
    db.session.expire_all()
    link = db.session.get(Enrollment, (student.id, course.id))
    return link.status if link else None


def test_dropping_asks_first_and_says_the_seat_goes_to_the_waitlist(client, login,
                                                                    make_student, make_course):
    course = make_course(capacity=1, code="CS310", title="Operating Systems")
    student, waiting = make_student(), make_student()
    enroll(student, course)
    enroll(waiting, course)
    db.session.commit()
    login(student.user)
    assert f'href="/courses/{course.id}/drop">Drop this course…</a>' in client.get(
        f"/courses/{course.id}").text
    page = client.get(f"/courses/{course.id}/drop")
    assert page.status_code == 200
    shown = text(page.text)
    assert "Drop CS310 Operating Systems?" in shown
    assert "1 student is waiting: the seat goes to the first of them at once" in shown
    assert f'<form method="post" action="/courses/{course.id}/drop"' in page.text
    assert "Keep my seat" in shown
    assert status_of(student, course) == Status.ENROLLED  # looking changes nothing
    assert client.post(f"/courses/{course.id}/drop").status_code == 303
    assert status_of(student, course) is None
    assert status_of(waiting, course) == Status.ENROLLED


def test_without_a_waitlist_it_says_one_can_enroll_again(client, login, make_student,
                                                         make_course):
    course = make_course(capacity=5)
    student = make_student()
    enroll(student, course)
    db.session.commit()
    login(student.user)
    assert "You can enroll again while a seat is free" in text(
        client.get(f"/courses/{course.id}/drop").text)


def test_leaving_the_waitlist_asks_first_with_the_position(client, login, make_student,
                                                          make_course):
    course = make_course(capacity=1)
    enroll(make_student(), course)
    enroll(make_student(), course)
    student = make_student()
    enroll(student, course)
    db.session.commit()
    login(student.user)
    shown = text(client.get(f"/courses/{course.id}/drop").text)
    assert "Leave the waitlist for" in shown
    assert "You are number 2 on the waitlist" in shown
    assert "Yes, leave the waitlist" in shown and "Stay on the waitlist" in shown


def test_nothing_to_confirm_goes_back_to_the_course_page(client, login, make_student,
                                                        make_course, make_term):
    course, student = make_course(), make_student()
    db.session.commit()
    login(student.user)
    response = client.get(f"/courses/{course.id}/drop")  # not enrolled
    assert (response.status_code, response.headers["Location"]) == (303, f"/courses/{course.id}")
    term = make_term()
    term.drop_deadline = term.enrollment_opens + timedelta(hours=1)  # long passed
    late = make_course(term=term)
    db.session.add(Enrollment(student_id=student.id, course_id=late.id, status=Status.ENROLLED))
    db.session.commit()
    response = client.get(f"/courses/{late.id}/drop")
    assert (response.status_code, response.headers["Location"]) == (303, f"/courses/{late.id}")


def test_anonymous_visitors_log_in_first(client, make_course):
    course = make_course()
    db.session.commit()
    response = client.get(f"/courses/{course.id}/drop")
    assert response.status_code == 303
    assert "/auth/login?next=" in response.headers["Location"]

"""POST /courses/<id>/enroll and /drop: every outcome redirects (303) with a flash saying why."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from enrollment import services
from enrollment.extensions import db
from enrollment.models import Enrollment, EnrollmentEvent, Status
from tests.factories import NOW, at
from tests.web_helpers import complete, enroll, flashes


def count_links() -> int:
    return db.session.scalar(select(func.count()).select_from(Enrollment))


def post(client, course, action):
    return client.post(f"/courses/{course.id}/{action}")


def follow_flash(client, response, course):
    assert response.status_code == 303
    assert response.headers["Location"] == f"/courses/{course.id}"
    return flashes(client.get(response.headers["Location"]).text)


def link_status(student, course):
    db.session.expire_all()
    link = db.session.get(Enrollment, (student.id, course.id))
    return link.status if link else None


def test_enroll_accepted(client, login, make_student, make_course):
    student, course = make_student(), make_course(code="CS101", title="Intro")
    db.session.commit()
    login(student.user)
    response = post(client, course, "enroll")
    assert follow_flash(client, response, course) == ["You are enrolled in CS101 Intro."]
    assert link_status(student, course) == Status.ENROLLED
    events = db.session.scalars(select(EnrollmentEvent)).all()
    assert [(e.action, e.actor_id) for e in events] == [("enrolled", student.user.id)]


def test_enroll_full_course_joins_waitlist_with_position(client, login, make_student,
                                                         make_course):
    course = make_course(code="CS201", title="Algorithms", capacity=1)
    first, second, me = make_student(), make_student(), make_student()
    enroll(first, course)
    enroll(second, course)  # waitlist position 1
    db.session.commit()
    login(me.user)
    messages = follow_flash(client, post(client, course, "enroll"), course)
    assert len(messages) == 1
    assert "CS201 Algorithms is full: you joined the waitlist at position 2." in messages[0]
    assert link_status(me, course) == Status.WAITLISTED


def test_double_submission_enrolls_once(client, login, make_student, make_course):
    student, course = make_student(), make_course(code="CS101")
    db.session.commit()
    login(student.user)
    first = follow_flash(client, post(client, course, "enroll"), course)
    second = follow_flash(client, post(client, course, "enroll"), course)
    assert first[0].startswith("You are enrolled in CS101")
    assert second == [f"You are already enrolled in CS101 {course.title}."]
    assert count_links() == 1


def test_a_repeated_enroll_is_answered_without_the_lock(client, login, make_student,
                                                        make_course, count_queries):
    """A refresh or a double click reports the student's status (waitlist position included)
    from one read: no lock, no rules, no write."""
    course = make_course(code="CS101", capacity=1)
    enroll(make_student(), course)
    student = make_student()
    db.session.commit()
    login(student.user)
    assert "waitlist at position 1" in follow_flash(client, post(client, course, "enroll"),
                                                    course)[0]
    db.session.remove()
    with count_queries() as again:
        response = post(client, course, "enroll")
    assert response.status_code == 303
    assert not any("FOR UPDATE" in s or s.lstrip().startswith(("INSERT", "UPDATE"))
                   for s in again.statements), again.statements
    assert again.count == 2  # the user with the student, then the course with the link
    assert follow_flash(client, response, course) == [
        f"You are already on the waitlist for CS101 {course.title}, at position 1."]
    assert count_links() == 2


def _setup_refusal(code, make_student, make_course, make_term):
    """A (student, course) pair for which enrolling is refused with exactly `code`."""
    student = make_student()
    if code == "window_not_open":
        term = make_term(enrollment_opens=datetime(2027, 1, 20, tzinfo=UTC))
        return student, make_course(term=term)
    if code == "window_closed":
        term = make_term(enrollment_opens=datetime(2026, 12, 1, tzinfo=UTC),
                         enrollment_closes=datetime(2027, 1, 5, tzinfo=UTC))
        return student, make_course(term=term)
    if code == "already_enrolled":
        course = make_course()
        enroll(student, course)
        return student, course
    if code == "already_waitlisted":
        course = make_course(capacity=0)
        enroll(student, course)
        return student, course
    if code == "already_completed":
        course = make_course()
        complete(student, course, "B+")
        return student, course
    if code == "time_conflict":
        term = make_term()
        taken = make_course(term=term, days="MW", start_time=at("09:00"), end_time=at("10:15"))
        enroll(student, taken)
        return student, make_course(term=term, days="W", start_time=at("10:00"),
                                    end_time=at("11:00"))
    if code == "missing_prerequisite":
        course = make_course()
        course.prerequisites.append(make_course(code="MATH100"))
        return student, course
    if code == "credit_limit":
        student.max_credits = 3
        return student, make_course(credits=4)
    if code == "course_full":
        course = make_course(capacity=1, waitlist_capacity=0)
        enroll(make_student(), course)
        return student, course
    raise AssertionError(code)


REFUSALS = ["window_not_open", "window_closed", "already_enrolled", "already_waitlisted",
            "already_completed", "time_conflict", "missing_prerequisite", "credit_limit",
            "course_full"]


@pytest.mark.parametrize("code", REFUSALS)
def test_every_refusal_is_flashed(code, client, login, make_student, make_course, make_term):
    student, course = _setup_refusal(code, make_student, make_course, make_term)
    db.session.commit()
    reasons = services.enrollment_blockers(student, course, now=NOW)
    assert [r.code for r in reasons] == [code]
    before = count_links()
    login(student.user)
    messages = follow_flash(client, post(client, course, "enroll"), course)
    label = f"{course.code} {course.title}"
    already = {"already_enrolled": "enrolled in", "already_waitlisted": "on the waitlist for"}
    if code in already:  # a repeated enroll is answered before the lock
        assert messages[0].startswith(f"You are already {already[code]} {label}")
    else:
        assert messages == [f"You could not enroll in {label}: {reasons[0].message}"]
    assert count_links() == before


def test_refusal_lists_every_reason(client, login, make_student, make_course, make_term):
    term = make_term(enrollment_opens=datetime(2027, 1, 20, tzinfo=UTC))
    student = make_student(max_credits=3)
    course = make_course(term=term, credits=4)
    course.prerequisites.append(make_course(code="MATH100"))
    db.session.commit()
    login(student.user)
    message = follow_flash(client, post(client, course, "enroll"), course)[0]
    for reason in services.enrollment_blockers(student, course, now=NOW):
        assert reason.message in message


def test_drop_frees_the_seat_for_the_waitlist(client, login, make_student, make_course):
    course = make_course(code="CS201", title="Algorithms", capacity=1)
    me, waiting = make_student(), make_student()
    enroll(me, course)
    enroll(waiting, course)
    db.session.commit()
    login(me.user)
    messages = follow_flash(client, post(client, course, "drop"), course)
    assert messages == [("You dropped CS201 Algorithms. Your seat went to the next student on "
                         "the waitlist.")]
    assert link_status(me, course) is None
    assert link_status(waiting, course) == Status.ENROLLED


def test_drop_without_waitlist(client, login, make_student, make_course):
    course = make_course(code="CS101", title="Intro")
    me = make_student()
    enroll(me, course)
    db.session.commit()
    login(me.user)
    assert follow_flash(client, post(client, course, "drop"), course) == [
        "You dropped CS101 Intro."]


def test_leave_waitlist(client, login, make_student, make_course):
    course = make_course(code="CS201", title="Algorithms", capacity=0)
    me = make_student()
    enroll(me, course)
    db.session.commit()
    login(me.user)
    assert follow_flash(client, post(client, course, "drop"), course) == [
        "You left the waitlist for CS201 Algorithms."]
    assert count_links() == 0


def test_drop_when_not_enrolled(client, login, make_student, make_course):
    course, me = make_course(code="CS101", title="Intro"), make_student()
    db.session.commit()
    login(me.user)
    messages = follow_flash(client, post(client, course, "drop"), course)
    assert messages[0].startswith("You could not drop CS101 Intro: ")
    assert "not enrolled" in messages[0]


def test_drop_after_deadline_is_refused(client, login, make_student, make_course, make_term):
    term = make_term(drop_deadline=datetime(2027, 1, 9, tzinfo=UTC))
    course, me = make_course(term=term, code="CS101", title="Intro"), make_student()
    enroll(me, course)
    db.session.commit()
    login(me.user)
    messages = follow_flash(client, post(client, course, "drop"), course)
    assert messages[0].startswith("You could not drop CS101 Intro: The drop deadline")
    assert link_status(me, course) == Status.ENROLLED


def test_completed_course_cannot_be_dropped(client, login, make_student, make_course):
    course, me = make_course(), make_student()
    complete(me, course)
    db.session.commit()
    login(me.user)
    messages = follow_flash(client, post(client, course, "drop"), course)
    assert "could not drop" in messages[0]
    assert link_status(me, course) == Status.COMPLETED


@pytest.mark.parametrize("action", ["enroll", "drop"])
def test_missing_course_is_404(action, client, login, make_student):
    me = make_student()
    db.session.commit()
    login(me.user)
    response = client.post(f"/courses/999999/{action}")
    assert response.status_code == 404
    assert "There is nothing at this address" in response.text
    # Ids too large for the database's integer are not found either (not a 500).
    assert client.post(f"/courses/99999999999999999999/{action}").status_code == 404
    assert client.post(f"/courses/2147483648/{action}").status_code == 404


@pytest.mark.parametrize("action", ["enroll", "drop"])
def test_staff_without_profile_gets_403(action, client, login, make_staff, make_course):
    staff, course = make_staff(), make_course()
    db.session.commit()
    login(staff)
    assert client.post(f"/courses/{course.id}/{action}").status_code == 403
    assert count_links() == 0


@pytest.mark.parametrize("action", ["enroll", "drop"])
def test_anonymous_is_sent_to_login_and_back(action, client, make_course):
    course = make_course()
    db.session.commit()
    response = client.post(f"/courses/{course.id}/{action}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/auth/login?next=/courses/{course.id}"
    assert count_links() == 0


def test_get_of_enroll_is_not_allowed(client, make_course):
    """(GET of drop is its confirmation page: tests/test_confirm_drop.py.)"""
    course = make_course()
    db.session.commit()
    assert client.get(f"/courses/{course.id}/enroll").status_code == 405

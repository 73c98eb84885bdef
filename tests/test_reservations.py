"""Reserved seats: members of the program take them first, others only the unreserved seats;
at the release time the unused ones open and the waitlist is promoted into them (by the next
change to the course, or by `flask tick`)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from enrollment import services
from enrollment.cli.tick import tick
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Action, Enrollment, EnrollmentEvent, Reservation, Status
from enrollment.services import EnrollmentRefused
from enrollment.services.reservations import set_reservation
from tests.factories import NOW
from tests.web_helpers import flashes

CS = "Computer Science"
RELEASE = NOW + timedelta(days=3)


def reserve(course, seats=1, program=CS, release_at=RELEASE):
    with write_transaction(db.session):
        return set_reservation(course, program, seats, release_at, actor=None, now=NOW)


def enroll(student, course, now=NOW):
    with write_transaction(db.session):
        return services.enroll(student, course, actor=None, now=now).status


def drop(student, course, now=NOW):
    with write_transaction(db.session):
        return services.drop(student, course, actor=None, now=now)


def status_of(student, course):
    db.session.expire_all()
    link = db.session.get(Enrollment, (student.id, course.id))
    return link.status if link is not None else None


def test_others_take_only_the_unreserved_seats_members_any(make_course, make_student):
    course = make_course(capacity=3, waitlist_capacity=5)
    reserve(course)
    others = [make_student(program="History") for _ in range(3)]
    member = make_student(program="  computer SCIENCE ")  # case and spaces do not matter
    assert [enroll(s, course) for s in others] == [Status.ENROLLED, Status.ENROLLED,
                                                   Status.WAITLISTED]
    assert enroll(member, course) == Status.ENROLLED
    seats = services.seat_count(course.id, now=NOW)
    assert (seats.enrolled, seats.free_seats(course, "History"),
            seats.free_seats(course, CS)) == (3, 0, 0)


def test_members_fill_the_reserved_seats_first(make_course, make_student):
    course = make_course(capacity=3, waitlist_capacity=0)
    reserve(course)
    member = make_student(program=CS)
    others = [make_student(program="History") for _ in range(2)]
    assert enroll(member, course) == Status.ENROLLED
    assert [enroll(s, course) for s in others] == [Status.ENROLLED, Status.ENROLLED]


def test_outside_the_program_only_reserved_seats_left_is_full_without_a_waitlist(
        make_course, make_student):
    course = make_course(capacity=2, waitlist_capacity=0)
    reserve(course)
    enroll(make_student(program="History"), course)
    late = make_student(program="History")
    [refusal] = services.enrollment_blockers(late, course, now=NOW)
    assert refusal.code == "course_full"
    assert "1 reserved for other programs" in refusal.message
    assert "no waitlist" in refusal.message
    with pytest.raises(EnrollmentRefused), write_transaction(db.session):
        services.enroll(late, course, actor=None, now=NOW)
    assert services.enrollment_blockers(make_student(program=CS), course, now=NOW) == []


def test_before_the_release_a_freed_reserved_seat_goes_to_the_first_member_waiting(
        make_course, make_student):
    course = make_course(capacity=2, waitlist_capacity=5)
    reserve(course)
    seated, other = make_student(program=CS), make_student(program="History")
    enroll(seated, course)
    enroll(other, course)
    first_waiting, member_waiting = make_student(program="History"), make_student(program=CS)
    assert enroll(first_waiting, course) == Status.WAITLISTED
    assert enroll(member_waiting, course) == Status.WAITLISTED
    result = drop(seated, course)
    assert [link.student_id for link in result.promoted] == [member_waiting.id]
    assert result.skipped == []  # the others keep their place; nothing recorded against them
    assert status_of(first_waiting, course) == Status.WAITLISTED
    link = db.session.get(Enrollment, (first_waiting.id, course.id))
    assert services.waitlist_position(link) == 1


def release_setup(make_course, make_student):
    course = make_course(capacity=2, waitlist_capacity=5)
    reserve(course)
    enroll(make_student(program="History"), course)
    waiting = make_student(program="History")
    assert enroll(waiting, course) == Status.WAITLISTED
    return course, waiting


def test_flask_tick_releases_the_unused_seats_into_the_waitlist(app, make_course, make_student,
                                                                  runner):
    course, waiting = release_setup(make_course, make_student)
    app.config["FIXED_NOW"] = (RELEASE + timedelta(minutes=1)).isoformat()
    try:
        result = runner.invoke(tick)
        assert result.exit_code == 0, result.output
        assert "release reserved seats: 1 course, 1 promoted" in result.output
        assert status_of(waiting, course) == Status.ENROLLED
        [reservation] = db.session.scalars(select(Reservation))
        assert reservation.released_at == RELEASE + timedelta(minutes=1)
        event = db.session.scalars(select(EnrollmentEvent).order_by(EnrollmentEvent.id.desc())
                                   ).first()
        assert (event.action, event.reason) == (Action.PROMOTED, "Reserved seats were released.")
        again = runner.invoke(tick)  # nothing left to release
        assert "release reserved seats: 0 courses, 0 promoted" in again.output
    finally:
        app.config.pop("FIXED_NOW")


def test_the_next_change_releases_first_so_the_waitlist_keeps_its_turn(make_course,
                                                                        make_student):
    course, waiting = release_setup(make_course, make_student)
    later = RELEASE + timedelta(hours=1)
    newcomer = make_student(program="History")
    assert enroll(newcomer, course, now=later) == Status.WAITLISTED
    assert status_of(waiting, course) == Status.ENROLLED
    assert services.seat_count(course.id, now=later).release_due is False


def test_leaving_the_waitlist_after_the_release_time_releases_too(make_course, make_student):
    course, waiting = release_setup(make_course, make_student)
    behind = make_student(program="History")
    enroll(behind, course)
    drop(waiting, course, now=RELEASE + timedelta(hours=1))
    assert status_of(behind, course) == Status.ENROLLED


def test_the_batch_import_follows_reserved_seats(make_course, make_student):
    course = make_course(capacity=2, waitlist_capacity=5)
    reserve(course)
    a, b, member = (make_student(program="History"), make_student(program="History"),
                    make_student(program=CS))
    with write_transaction(db.session):
        results = services.enroll_many([(a, course), (b, course), (member, course)],
                                       actor=None, now=NOW)
    assert [r.status for r in results] == [Status.ENROLLED, Status.WAITLISTED, Status.ENROLLED]


def test_reservations_together_cannot_exceed_the_capacity(make_course):
    course = make_course(capacity=5)
    reserve(course, seats=3)
    with pytest.raises(EnrollmentRefused, match="exceed the capacity") as caught, \
            write_transaction(db.session):
        set_reservation(course, "Mathematics", 3, RELEASE, actor=None, now=NOW)
    assert caught.value.code == "reserved_over_capacity"
    reserve(course, seats=5, program=" computer science")  # the same program: an update
    assert [(r.program, r.seats) for r in db.session.scalars(select(Reservation))] == [(CS, 5)]


def test_reserved_seats_do_not_add_statements_to_enroll(make_course, make_student,
                                                       count_queries):
    def measure(course):
        student = make_student(program="History")
        db.session.commit()
        with write_transaction(db.session):
            student = db.session.merge(student)
            with count_queries() as q:
                services.enroll(student, course, actor=None, now=NOW)
        return q.count

    plain = measure(make_course(capacity=5))
    reserved = make_course(capacity=5)
    reserve(reserved, seats=2)
    reserve(reserved, seats=1, program="Mathematics")
    assert measure(reserved) == plain


def test_pages_show_the_reservation_and_the_viewers_own_seats(app, client, login, make_course,
                                                              make_student, make_staff):
    course = make_course(capacity=30, waitlist_capacity=5)
    reserve(course, seats=5)
    outsider = make_student(program="History")
    db.session.commit()
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert f"5 of 30 seats reserved for {CS} until 13 Jan 2027" in page
    assert "25 of 30 left" in page  # anonymous: the seats open to anyone
    login(outsider.user)
    assert "25 of 30 left" in client.get("/courses").get_data(as_text=True)
    member = make_student(program=CS)
    db.session.commit()
    login(member.user)
    assert "30 of 30 left" in client.get("/courses").get_data(as_text=True)
    login(make_staff())
    roster = client.get(f"/reports/courses/{course.id}/roster").get_data(as_text=True)
    assert f"5 of 30 seats reserved for {CS} until 13 Jan 2027" in roster


def test_a_student_outside_the_program_is_told_why_on_the_course_page(app, client, login,
                                                                      make_course, make_student):
    course = make_course(capacity=1, waitlist_capacity=0)
    reserve(course)
    outsider = make_student(program="History")
    login(outsider.user)
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert 'data-code="course_full"' in page
    response = client.post(f"/courses/{course.id}/enroll")
    assert response.status_code == 303
    assert any("reserved for other programs" in text
               for text in flashes(client.get(f"/courses/{course.id}")))


def test_a_capacity_cut_below_the_reserved_seats_is_refused(make_course):
    course = make_course(capacity=10)
    reserve(course, seats=4)
    with pytest.raises(EnrollmentRefused, match=r"4 reserved seats would exceed the capacity "
                                                r"of .* \(3\)"), write_transaction(db.session):
        services.set_capacity(course, 3, actor=None, now=NOW)
    db.session.expire_all()
    assert course.capacity == 10


def test_the_courses_import_refuses_a_capacity_below_the_reserved_seats(make_course):
    from enrollment.imports import ImportRefused, apply_import, plan_import
    from enrollment.models import Course

    course = make_course(capacity=10, code="CS101")
    reserve(course, seats=4)
    text = ("term,code,title,department,credits,capacity,waitlist_capacity\n"
            f"{course.term.code},CS101,{course.title},{course.department.code},3,3,5\n")
    plan = plan_import("courses", text, now=NOW)
    assert plan.ok, plan.errors
    with pytest.raises(ImportRefused) as caught, write_transaction(db.session):
        apply_import(plan, actor=None, now=NOW)
    [error] = caught.value.errors
    assert (error.line, error.column) == (2, "capacity")
    assert "4 reserved seats would exceed the capacity" in error.reason
    db.session.expire_all()
    assert db.session.get(Course, course.id).capacity == 10

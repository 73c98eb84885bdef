"""Appointments (time tickets): before their own opening time students may not enroll or join
a waitlist (drops are never gated); staff lift it with the `window` override."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from enrollment import services
from enrollment.cli.appointments import appointments as appointments_command
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.imports import apply_import, plan_import
from enrollment.models import Appointment, Source, Status
from enrollment.services import EnrollmentRefused, Override
from tests.factories import NOW


def give(student, term, opens_at):
    db.session.add(Appointment(student_id=student.id, term_id=term.id, opens_at=opens_at))
    db.session.flush()


def test_before_the_appointment_enroll_is_refused_and_says_when(make_course, make_student):
    course, student = make_course(), make_student()
    give(student, course.term, NOW + timedelta(hours=3))
    [refusal] = services.enrollment_blockers(student, course, now=NOW)
    assert (refusal.code, refusal.override) == ("appointment_not_yet", Override.WINDOW)
    assert refusal.message == "You can register from 10 Jan 2027 15:00 UTC."
    with pytest.raises(EnrollmentRefused), write_transaction(db.session):
        services.enroll(student, course, actor=None, now=NOW)
    later = NOW + timedelta(hours=3)
    assert services.enrollment_blockers(student, course, now=later) == []
    with write_transaction(db.session):
        link = services.enroll(student, course, actor=None, now=NOW, source=Source.STAFF,
                               override={Override.WINDOW}, reason="Advisor approval")
    assert link.status == Status.ENROLLED


def test_without_an_appointment_the_term_window_applies(make_course, make_student):
    course, other_term_student = make_course(), make_student()
    elsewhere = make_course()
    give(other_term_student, elsewhere.term, NOW + timedelta(days=1))
    assert services.enrollment_blockers(other_term_student, course, now=NOW) == []


def test_an_appointment_never_gates_a_drop(make_course, make_student):
    course, student = make_course(), make_student()
    with write_transaction(db.session):
        services.enroll(student, course, actor=None, now=NOW)
    give(student, course.term, NOW + timedelta(hours=1))
    with write_transaction(db.session):
        assert services.drop(student, course, actor=None, now=NOW).previous_status == \
            Status.ENROLLED


def test_the_batch_gates_staff_enrolls_but_not_imports(make_course, make_student):
    course, student = make_course(), make_student()
    give(student, course.term, NOW + timedelta(hours=1))
    with write_transaction(db.session):
        [staff] = services.enroll_many([(student, course)], actor=None, now=NOW,
                                       source=Source.STAFF)
    assert isinstance(staff, EnrollmentRefused) and staff.code == "appointment_not_yet"
    with write_transaction(db.session):
        [imported] = services.enroll_many([(student, course)], actor=None, now=NOW)
    assert imported.status == Status.ENROLLED  # imports never check the window


def test_appointments_csv(make_term, make_student):
    term = make_term(code="2027SP")
    student = make_student(student_number="S1")
    header = "term,student_number,opens_at\n"
    plan = plan_import("appointments", header + "2027SP,S1,2027-01-12T09:00\n", now=NOW)
    assert plan.ok, plan.errors
    with write_transaction(db.session):
        apply_import(plan, actor=None, now=NOW)
    moved = plan_import("appointments", header + "2027sp,S1,2027-01-13 10:00\n", now=NOW)
    assert [r.action for r in moved.rows] == ["update"]
    with write_transaction(db.session):
        apply_import(moved, actor=None, now=NOW)
    [appointment] = db.session.scalars(select(Appointment)).all()
    assert (appointment.term_id, appointment.student_id, appointment.opens_at.day) == (
        term.id, student.id, 13)
    bad = plan_import("appointments", header + "2027SP,S1,2026-12-01T09:00\n"
                                               "2027SP,S9,2027-01-12T09:00\n"
                                               "2099XX,S1,2027-01-12T09:00\n"
                                               "2027SP,S1,soon\n", now=NOW)
    assert [str(e) for e in bad.errors] == [
        "line 2: opens_at: 01 Dec 2026 09:00 UTC is outside the enrollment window of 2027SP "
        "(01 Jan 2027 00:00 UTC to 31 Jan 2027 23:59 UTC)",
        "line 3: student_number: unknown student S9",
        "line 4: term: unknown term 2099XX",
        "line 5: opens_at: 'soon' is not an ISO 8601 time (e.g. 2027-01-15T09:00)",
        "line 5: student_number: S1 in 2027SP already appears on line 2"]


def test_assign_gives_groups_by_earned_credits(runner, make_term, make_course, make_student):
    past = make_term(code="PAST", enrollment_opens=NOW - timedelta(days=300),
                     enrollment_closes=NOW - timedelta(days=290),
                     drop_deadline=NOW - timedelta(days=280))
    term = make_term(code="2027SP")
    senior, junior, fresh = make_student(), make_student(), make_student()
    done = make_course(term=past, credits=4)
    failed = make_course(term=past, credits=6)
    with write_transaction(db.session):
        services.complete(senior, done, "A", actor=None, now=NOW)
        services.complete(senior, make_course(term=past, code="X2", credits=3), "B", actor=None,
                          now=NOW)
        services.complete(junior, done, "C", actor=None, now=NOW)
        services.complete(fresh, failed, "F", actor=None, now=NOW)  # earns nothing
    db.session.commit()
    result = runner.invoke(appointments_command, [
        "assign", "2027sp", "--start", "2027-01-02T08:00", "--every", "30", "--group-size", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "group 0: 2027-01-02T08:00:00+00:00, 1 students",
        "group 1: 2027-01-02T08:30:00+00:00, 1 students",
        "group 2: 2027-01-02T09:00:00+00:00, 1 students"]
    db.session.expire_all()
    opens = {a.student_id: a.opens_at for a in db.session.scalars(
        select(Appointment).where(Appointment.term_id == term.id))}
    assert opens[senior.id] < opens[junior.id] < opens[fresh.id]
    again = runner.invoke(appointments_command, [
        "assign", "2027SP", "--start", "2027-01-03T08:00", "--every", "60", "--group-size", "5"])
    assert again.output.splitlines() == ["group 0: 2027-01-03T08:00:00+00:00, 3 students"]
    db.session.expire_all()
    assert len(db.session.scalars(select(Appointment)).all()) == 3  # replaced, not added
    outside = runner.invoke(appointments_command, [
        "assign", "2027SP", "--start", "2027-03-01T08:00", "--every", "1", "--group-size", "1"])
    assert outside.exit_code == 2 and "outside the enrollment window" in outside.output


def test_ties_are_shuffled_the_same_way_for_the_same_seed(runner, make_term, make_student):
    make_term(code="2027SP")
    students = [make_student() for _ in range(6)]
    db.session.commit()
    orders = []
    for seed in ("1", "1", "2"):
        runner.invoke(appointments_command, ["assign", "2027SP", "--start", "2027-01-02T08:00",
                                             "--every", "10", "--group-size", "1",
                                             "--seed", seed])
        db.session.expire_all()
        opens = {a.student_id: a.opens_at for a in db.session.scalars(select(Appointment))}
        orders.append(sorted((s.id for s in students), key=opens.get))
    assert orders[0] == orders[1] and orders[0] != orders[2]


def test_the_student_sees_when_they_can_register(client, login, make_course, make_student):
    course, student = make_course(), make_student()
    give(student, course.term, NOW + timedelta(hours=3))
    db.session.commit()
    login(student.user)
    for path in ("/courses", "/me/schedule", f"/courses/{course.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "You can register" in page and "15:00" in page, path
    assert "Join the waitlist" not in client.get(f"/courses/{course.id}").get_data(as_text=True)

"""Holds: an office blocks registration (never a drop) until staff clear the hold, with a reason."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from enrollment import services
from enrollment.cli.holds import holds as holds_command
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.imports import apply_import, plan_import
from enrollment.models import Action, EnrollmentEvent, Hold, Source, Status
from enrollment.services import EnrollmentRefused, Override
from tests.admin_support import staff_client_fixture, staff_fixture  # noqa: F401
from tests.factories import NOW
from tests.web_helpers import flashes


def place(student, office="Bursar", blocks=True, contact="bursar@example.edu"):
    with write_transaction(db.session):
        return services.place_hold(student, office, reason="Unpaid fees", contact=contact,
                                   blocks_registration=blocks, actor=None, now=NOW)


def test_a_blocking_hold_refuses_enroll_naming_the_office_and_contact(make_course,
                                                                      make_student):
    course, student = make_course(), make_student()
    place(student)
    [refusal] = services.enrollment_blockers(student, course, now=NOW)
    assert (refusal.code, refusal.override) == ("hold", Override.HOLD)
    assert "Bursar" in refusal.message and "bursar@example.edu" in refusal.message
    with pytest.raises(EnrollmentRefused), write_transaction(db.session):
        services.enroll(student, course, actor=None, now=NOW)
    with write_transaction(db.session):
        link = services.enroll(student, course, actor=None, now=NOW, source=Source.STAFF,
                               override={Override.HOLD}, reason="Payment plan agreed")
    assert link.status == Status.ENROLLED
    assert "Overrode: hold." in services.history_for_course(course)[-1].reason


def test_a_hold_never_blocks_a_drop(make_course, make_student):
    course, student = make_course(), make_student()
    with write_transaction(db.session):
        services.enroll(student, course, actor=None, now=NOW)
    place(student)
    with write_transaction(db.session):
        result = services.drop(student, course, actor=None, now=NOW)
    assert result.previous_status == Status.ENROLLED


def test_a_hold_that_does_not_block_is_only_shown(make_course, make_student):
    course, student = make_course(), make_student()
    place(student, office="Advising", blocks=False)
    assert services.enrollment_blockers(student, course, now=NOW) == []


def test_clearing_needs_a_reason_and_opens_registration(make_course, make_student, make_staff):
    course, student, staff = make_course(), make_student(), make_staff()
    hold = place(student)
    with pytest.raises(EnrollmentRefused, match="reason is required"), \
            write_transaction(db.session):
        services.clear_hold(hold, reason=" ", actor=staff, now=NOW)
    with write_transaction(db.session):
        services.clear_hold(hold, reason="Paid in full", actor=staff, now=NOW)
    assert (hold.cleared_at, hold.cleared_by_id, hold.cleared_reason) == (NOW, staff.id,
                                                                          "Paid in full")
    assert services.enrollment_blockers(student, course, now=NOW) == []
    again = place(student)  # the same office again reopens the one row
    assert again.id == hold.id and again.active
    assert db.session.scalar(select(func.count()).select_from(Hold)) == 1


def test_promotion_skips_a_student_on_hold(make_course, make_student):
    course = make_course(capacity=1, waitlist_capacity=5)
    first, held, next_one = make_student(), make_student(), make_student()
    with write_transaction(db.session):
        for s in (first, held, next_one):
            services.enroll(s, course, actor=None, now=NOW)
    place(held)
    with write_transaction(db.session):
        result = services.drop(first, course, actor=None, now=NOW)
    assert [link.student_id for link in result.promoted] == [next_one.id]
    assert [(s.id, r.code) for s, r in result.skipped] == [(held.id, "hold")]
    skipped = db.session.scalars(select(EnrollmentEvent).where(
        EnrollmentEvent.action == Action.REFUSED)).all()
    assert len(skipped) == 1 and "Bursar" in skipped[0].reason


def test_the_batch_import_decides_as_one_enroll_does(make_course, make_student):
    course, held, free = make_course(), make_student(), make_student()
    place(held)
    with write_transaction(db.session):
        results = services.enroll_many([(held, course), (free, course)], actor=None, now=NOW)
    assert isinstance(results[0], EnrollmentRefused) and results[0].code == "hold"
    assert results[1].status == Status.ENROLLED


HEADER = "student_number,office,reason,contact,blocks_registration\n"


def test_holds_csv_creates_updates_and_reopens(make_student):
    student = make_student(student_number="S1")
    plan = plan_import("holds", HEADER + "S1,Bursar,Unpaid fees,bursar@example.edu,yes\n"
                                         "S1,Advising,See your adviser,,false\n", now=NOW)
    assert plan.ok, plan.errors
    with write_transaction(db.session):
        result = apply_import(plan, actor=None, now=NOW)
    assert (result.created, result.updated) == (2, 0)
    by_office = {h.office: h for h in db.session.scalars(select(Hold))}
    assert by_office["Bursar"].blocks_registration and not by_office["Advising"].blocks_registration
    with write_transaction(db.session):
        services.clear_hold(by_office["Bursar"], reason="Paid", actor=None, now=NOW)
    again = plan_import("holds", HEADER + "S1,Bursar,Unpaid again,bursar@example.edu,1\n",
                        now=NOW)
    assert [r.action for r in again.rows] == ["update"]
    assert "reopened" in again.rows[0].summary
    with write_transaction(db.session):
        apply_import(again, actor=None, now=NOW)
    db.session.expire_all()
    hold = db.session.get(Hold, by_office["Bursar"].id)
    assert hold.active and hold.reason == "Unpaid again"
    assert student.id == hold.student_id


def test_bad_holds_rows_are_line_errors(make_student):
    make_student(student_number="S1")
    plan = plan_import("holds", HEADER + "S9,Bursar,Fees,,yes\n"
                                         "S1,,Fees,,yes\n"
                                         "S1,Bursar,Fees,,perhaps\n"
                                         "S1,Library,Books,,no\n"
                                         "S1,Library,Books again,,no\n", now=NOW)
    assert [str(e) for e in plan.errors] == [
        "line 2: student_number: unknown student S9",
        "line 3: office: is required",
        "line 4: blocks_registration: 'perhaps' is not true or false (use true/false, yes/no "
        "or 1/0)",
        "line 6: office: the Library hold of S1 already appears on line 5"]


def test_cli_clears_a_hold_with_a_reason(runner, make_student):
    student = make_student(student_number="S1")
    place(student)
    db.session.commit()
    missing = runner.invoke(holds_command, ["clear", "S1", "Bursar"])
    assert missing.exit_code == 2 and "--reason" in missing.output
    unknown = runner.invoke(holds_command, ["clear", "S1", "Library", "--reason", "x"])
    assert unknown.exit_code == 2 and "has no Library hold" in unknown.output
    done = runner.invoke(holds_command, ["clear", "S1", "Bursar", "--reason", "Paid"])
    assert done.exit_code == 0, done.output
    assert "Cleared the Bursar hold of S1." in done.output
    db.session.expire_all()
    assert db.session.scalar(select(Hold)).cleared_reason == "Paid"


def test_staff_place_and_clear_holds_in_the_admin(staff_client, make_student):
    student = make_student()
    db.session.commit()
    created = staff_client.post("/admin/hold/new/", data={
        "student": str(student.id), "office": "Bursar", "reason": "Unpaid fees",
        "contact": "bursar@example.edu", "blocks_registration": "y"}, follow_redirects=True)
    assert "Bursar hold placed on" in " ".join(flashes(created))
    hold = db.session.scalar(select(Hold))
    assert hold.active and hold.added_by_id is not None
    listed = staff_client.get("/admin/hold/").get_data(as_text=True)
    assert "Unpaid fees" in listed and student.student_number in listed
    refused = staff_client.post("/admin/hold/bulk/clear/", data={"rowid": str(hold.id),
                                                                 "reason": ""})
    assert refused.status_code == 400
    assert "A reason is required to clear a hold." in refused.get_data(as_text=True)
    done = staff_client.post("/admin/hold/bulk/clear/", data={"rowid": str(hold.id),
                                                              "reason": "Paid in full"},
                             follow_redirects=True)
    assert any("1 of 1 done" in m for m in flashes(done))
    db.session.expire_all()
    assert db.session.get(Hold, hold.id).cleared_reason == "Paid in full"


def test_the_student_sees_the_hold_on_the_schedule(client, login, make_student):
    student = make_student()
    place(student)
    db.session.commit()
    login(student.user)
    page = client.get("/me/schedule").get_data(as_text=True)
    assert "Registration hold: Bursar." in page and "bursar@example.edu" in page

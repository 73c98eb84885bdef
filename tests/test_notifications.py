"""Notifications from events: who hears of what, in which words; the student's choice of
confirmations; nothing from a rolled-back change; course changes from the admin and the CSV
import; the seeded demo's history is not news."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import (
    Action,
    CourseEvent,
    EnrollmentEvent,
    Notification,
    Source,
    Status,
)
from enrollment.services import audit, mail, outbox
from tests.admin_support import course_form, staff_client_fixture, staff_fixture  # noqa: F401
from tests.factories import NOW, at, make_enrollment


def fan_out():
    outbox.fan_out(NOW)
    return list(db.session.scalars(select(Notification).order_by(Notification.id)))


def own_enroll(student, course):
    """The student's own enroll (the actor is their account, as on the site)."""
    with write_transaction(db.session):
        return services.enroll(student, course, actor=student.user, now=NOW).status


def own_drop(student, course):
    with write_transaction(db.session):
        services.drop(student, course, actor=student.user, now=NOW)


@pytest.fixture
def course(make_course):
    return make_course(code="CS101", title="Programming I", capacity=1, days="MW",
                       start_time=at("10:00"), end_time=at("10:50"), location="Hall 1")


def test_enroll_and_waitlist_messages_name_the_course_the_student_and_the_position(
        course, make_student):
    zoe = make_student(name="Zoë Ångström", email="zoe@example.edu")
    bob = make_student(name="Bob Brown")
    carl = make_student(name="Carl")
    db.session.commit()
    own_enroll(zoe, course)
    own_enroll(bob, course)
    own_enroll(carl, course)
    enrolled, bob_waits, carl_waits = fan_out()
    assert (enrolled.kind, enrolled.email, enrolled.student_id) == ("enrolled",
                                                                    "zoe@example.edu", zoe.id)
    assert enrolled.subject == "CS101 Programming I: you are enrolled (Zoë Ångström)"
    assert "Dear Zoë Ångström," in enrolled.text and "Dear Zoë Ångström," in enrolled.html
    assert f"http://127.0.0.1:5000/courses/{course.id}" in enrolled.text
    assert f'href="http://127.0.0.1:5000/courses/{course.id}"' in enrolled.html
    assert "Mon Wed 10:00–10:50, Hall 1" in enrolled.text
    assert "10 Jan 2027 12:00 UTC" in enrolled.text  # the school's wall clock
    assert bob_waits.kind == carl_waits.kind == "waitlisted"
    assert "waitlist of CS101 Programming I at position 1." in bob_waits.text
    assert "at position 2." in carl_waits.text
    assert all(n.state == "pending" and n.due_at == NOW for n in (enrolled, bob_waits))
    # Every event is fanned out once: a second fan-out writes nothing.
    assert db.session.scalar(select(func.count()).select_from(EnrollmentEvent)
                             .where(EnrollmentEvent.fanned_out_at.is_(None))) == 0
    assert len(fan_out()) == 3


@pytest.mark.config(SCHOOL_TIMEZONE="America/New_York",
                    SITE_URL="https://enroll.example.edu/")
def test_times_on_the_school_clock_and_links_to_the_site(course, make_student):
    student = make_student()
    db.session.commit()
    own_enroll(student, course)
    [message] = fan_out()
    assert "10 Jan 2027 07:00 EST" in message.text
    assert f"https://enroll.example.edu/courses/{course.id}" in message.text
    assert "https://enroll.example.edu/me/notifications" in message.text


def test_html_part_escapes_what_people_typed(make_course, make_student):
    course = make_course(code="X1", title="<script>alert(1)</script> & more")
    student = make_student(name="Eve <eve@evil>")
    db.session.commit()
    own_enroll(student, course)
    [message] = fan_out()
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
    assert "Eve &lt;eve@evil&gt;" in message.html
    assert "<script>alert(1)</script> & more" in message.text  # plain text is plain


def test_a_drop_promotes_and_both_hear_of_it(course, make_student):
    first, second = make_student(name="First"), make_student(name="Second")
    db.session.commit()
    own_enroll(first, course)
    own_enroll(second, course)
    fan_out()
    own_drop(first, course)
    new = [n for n in fan_out() if n.id > 2]
    assert [(n.kind, n.student_id) for n in new] == [("dropped", first.id),
                                                     ("promoted", second.id)]
    assert "you are now enrolled" in new[1].text
    # The promoted student is not told who dropped.
    assert first.student_number not in new[1].text and first.name not in new[1].text


def test_confirmations_off_silences_only_the_students_own_changes(course, make_student,
                                                                  make_course, staff):
    quiet = make_student(name="Quiet", mail_confirmations=False)
    other = make_student(name="Other")
    db.session.commit()
    own_enroll(other, course)      # takes the only seat
    own_enroll(quiet, course)      # waitlisted: a confirmation, off
    second = make_course(code="CS102", title="Programming II")
    own_enroll(quiet, second)      # enrolled: off
    own_drop(quiet, second)        # dropped: off
    with write_transaction(db.session):  # staff changes always go
        services.enroll(quiet, second, actor=staff, now=NOW, source=Source.STAFF,
                        reason="Registrar's decision")
    own_drop(other, course)        # the quiet student is promoted: always goes
    kinds = [(n.student_id, n.kind) for n in fan_out()]
    assert (quiet.id, "waitlisted") not in kinds and (quiet.id, "enrolled") not in kinds
    assert (quiet.id, "dropped") not in kinds
    assert (quiet.id, "added_by_staff") in kinds and (quiet.id, "promoted") in kinds
    assert (other.id, "enrolled") in kinds and (other.id, "dropped") in kinds
    added = db.session.scalar(select(Notification).where(Notification.kind == "added_by_staff"))
    assert "enrolled you in CS102 Programming II" in added.text
    assert "Registrar's decision" in added.text
    assert "always sent" in added.text and "turn off" not in added.text


def test_staff_removal_and_imports_notify_like_staff_changes(course, make_student, staff):
    student = make_student()
    db.session.commit()
    with write_transaction(db.session):
        services.enroll(student, course, actor=None, now=NOW, source=Source.IMPORT)
    with write_transaction(db.session):
        services.drop(student, course, actor=staff, now=NOW, by_staff=True,
                      reason="Paperwork missing")
    added, removed = fan_out()
    assert added.kind == "added_by_staff" and "enrolled you in CS101" in added.text
    assert removed.kind == "removed_by_staff" and "Paperwork missing" in removed.text


def test_a_skipped_promotion_says_why(make_course, make_student):
    course = make_course(code="CS200", title="Data", capacity=1)
    holder, waiting = make_student(), make_student(name="Waiting")
    db.session.commit()
    own_enroll(holder, course)
    own_enroll(waiting, course)     # waitlisted
    with write_transaction(db.session):
        services.place_hold(waiting, "Bursar", reason="Tuition due",
                            contact="bursar@example.edu", actor=None, now=NOW)
    fan_out()
    own_drop(holder, course)
    [skipped] = [n for n in fan_out() if n.kind == "skipped"]
    assert skipped.student_id == waiting.id
    assert "could not be given to you" in skipped.text and "Bursar" in skipped.text
    assert "keep your place" in skipped.text
    assert "Skipped for promotion" not in skipped.text


def test_completions_and_refusals_send_nothing(course, make_student):
    student = make_student()
    db.session.commit()
    with write_transaction(db.session):
        services.enroll(student, course, actor=None, now=NOW, source=Source.STAFF,
                        reason="setup")
    fan_out()
    with write_transaction(db.session):
        services.complete(student, course, "A", actor=None, now=NOW)
    with pytest.raises(services.EnrollmentRefused):
        own_enroll(student, course)
    assert [n.kind for n in fan_out()] == ["added_by_staff"]


def test_a_rolled_back_change_sends_nothing(course, make_student):
    student = make_student()
    db.session.commit()
    with pytest.raises(RuntimeError):
        with write_transaction(db.session):
            services.enroll(student, course, actor=student.user, now=NOW)
            raise RuntimeError("the request failed after the enroll")
    assert db.session.scalar(select(func.count()).select_from(EnrollmentEvent)) == 0
    assert fan_out() == []


def test_an_offer_brings_a_reminder_due_before_it_expires(course, make_student):
    student = make_student(name="Offered One")
    expires = NOW + timedelta(hours=24)
    link = make_enrollment(student=student, course=course, status=Status.OFFERED,
                           offer_expires_at=expires)
    audit.record(Action.OFFERED, student, course, actor=None, now=NOW,
                 before=Status.WAITLISTED, after=Status.OFFERED, reason="A seat became free.")
    db.session.commit()
    offered, reminder = fan_out()
    assert offered.kind == "offered" and offered.due_at == NOW
    assert "held for you until 11 Jan 2027 12:00 UTC" in offered.text
    assert reminder.kind == "offer_expiring"
    assert reminder.due_at == expires - mail.REMINDER_BEFORE
    assert "always sent" in offered.text
    assert link.status == Status.OFFERED


def test_an_offer_settled_before_fan_out_is_not_announced(course, make_student):
    student = make_student()
    make_enrollment(student=student, course=course, status=Status.ENROLLED)
    audit.record(Action.OFFERED, student, course, actor=None, now=NOW,
                 before=Status.WAITLISTED, after=Status.OFFERED)
    audit.record(Action.OFFER_EXPIRED, student, course, actor=None, now=NOW,
                 before=Status.OFFERED, after=None)
    db.session.commit()
    [expired] = fan_out()
    assert expired.kind == "offer_expired" and "join it again" in expired.text


def test_course_changes_in_the_admin_tell_every_student_of_the_course(
        course, make_student, staff_client):
    enrolled, waiting = make_student(name="In"), make_student(name="Waiting")
    db.session.commit()
    own_enroll(enrolled, course)
    own_enroll(waiting, course)
    fan_out()
    response = staff_client.post(f"/admin/course/edit/?id={course.id}", data=course_form(
        course, days="TR", start_time="09:00", end_time="09:50", location="Library 115"))
    assert response.status_code == 302, response.text
    [change] = db.session.scalars(select(CourseEvent))
    assert change.changes == ("Meets Tue Thu 09:00–09:50 instead of Mon Wed 10:00–10:50; "
                              "room Library 115 instead of Hall 1")
    assert change.course_label.endswith("CS101")
    new = [n for n in fan_out() if n.kind == "course_changed"]
    assert sorted(n.student_id for n in new) == sorted([enrolled.id, waiting.id])
    assert "room Library 115 instead of Hall 1" in new[0].text
    # A save that changes neither time nor room writes no course event.
    db.session.expire_all()
    staff_client.post(f"/admin/course/edit/?id={course.id}",
                      data=course_form(course, title="Programming One"))
    assert db.session.scalar(select(func.count()).select_from(CourseEvent)) == 1


def test_course_changes_in_the_csv_import(course, make_student, runner, tmp_path):
    student = make_student()
    db.session.commit()
    own_enroll(student, course)
    header = ("term,code,title,department,credits,capacity,waitlist_capacity,days,start_time,"
              "end_time,location,instructor,prerequisites\n")
    row = (f"{course.term.code},CS101,Programming I,{course.department.code},3,1,10,MW,10:00,"
           "10:50,{room},Dr. Test,\n")
    path = tmp_path / "courses.csv"
    path.write_text(header + row.format(room="Hall 1"), encoding="utf-8")
    from enrollment.cli.imports import import_csv

    assert runner.invoke(import_csv, ["courses", str(path)]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(CourseEvent)) == 0
    path.write_text(header + row.format(room="Annex 2"), encoding="utf-8")
    result = runner.invoke(import_csv, ["courses", str(path)])
    assert result.exit_code == 0, result.output
    [change] = db.session.scalars(select(CourseEvent))
    assert change.changes == "Room Annex 2 instead of Hall 1"
    assert [n.kind for n in fan_out()] == ["enrolled", "course_changed"]


def test_seed_demo_leaves_nothing_to_send(runner):
    from enrollment.cli.seed import seed_demo

    result = runner.invoke(seed_demo, ["--students", "30", "--courses", "12"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(EnrollmentEvent)) > 0
    assert db.session.scalar(select(func.count()).select_from(EnrollmentEvent)
                             .where(EnrollmentEvent.fanned_out_at.is_(None))) == 0
    assert fan_out() == []


def test_offers_through_the_services_from_offer_to_expiry(make_term, make_course, make_student):
    from enrollment.models import WaitlistMode
    from enrollment.services import offers, periodic

    term = make_term(waitlist_mode=WaitlistMode.OFFER, offer_hours=24)
    course = make_course(term=term, code="OF101", title="Offers", capacity=1)
    holder, second, third = (make_student(name=n) for n in ("Holder", "Second", "Third"))
    db.session.commit()
    for person in (holder, second, third):
        own_enroll(person, course)
    fan_out()
    own_drop(holder, course)  # the seat is offered to Second
    offer = [n for n in fan_out() if n.student_id == second.id and n.kind.startswith("offer")]
    assert [n.kind for n in offer] == ["offered", "offer_expiring"]
    assert "until 11 Jan 2027 12:00 UTC" in offer[0].text
    assert offer[1].due_at == NOW + timedelta(hours=24) - mail.REMINDER_BEFORE
    with write_transaction(db.session):
        offers.decline_offer(second, course, actor=second.user, now=NOW)
    kinds = [(n.student_id, n.kind) for n in fan_out() if n.created_at == NOW]
    assert (second.id, "offer_declined") in kinds and (third.id, "offered") in kinds
    later = NOW + timedelta(hours=25)
    periodic.settle_expired_offers(later)  # Third did not answer
    outbox.fan_out(later)
    expired = db.session.scalar(select(Notification).where(
        Notification.student_id == third.id, Notification.kind == "offer_expired"))
    assert expired is not None and "went to the next student" in expired.text


@pytest.mark.parametrize("before, after, words", [
    (("MW", "10:00", "10:50", "Hall 1"), ("MW", "10:00", "10:50", "Hall 1"), ""),
    (("MW", "10:00", "10:50", "Hall 1"), ("TR", "10:00", "10:50", "Hall 1"),
     "Meets Tue Thu 10:00–10:50 instead of Mon Wed 10:00–10:50"),
    (("MW", "10:00", "10:50", "Hall 1"), ("", None, None, ""),
     "The time is to be announced (it met Mon Wed 10:00–10:50); room to be announced "
     "instead of Hall 1"),
    (("", None, None, ""), ("F", "14:00", "15:15", "Annex"),
     "Meets Fri 14:00–15:15 (the time was to be announced); room Annex instead of none "
     "given"),
])
def test_course_changes_in_words(make_course, before, after, words):
    from enrollment.services import course_changes

    def set_to(course, values):
        days, start, end, room = values
        course.days, course.location = days, room
        course.start_time = at(start) if start else None
        course.end_time = at(end) if end else None

    course = make_course()
    set_to(course, before)
    snap = course_changes.snapshot(course)
    set_to(course, after)
    assert course_changes.describe(snap, course_changes.snapshot(course)) == words

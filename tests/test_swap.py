"""The conditional swap: enroll in one course and drop another in one change, or nothing; a full
course is waited for with the swap attached, and the promotion drops the other course."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import (
    Action,
    Enrollment,
    EnrollmentEvent,
    Status,
    WaitlistMode,
    WaitlistSwap,
)
from enrollment.services import EnrollmentRefused
from tests.factories import NOW
from tests.web_helpers import enroll, flashes


def links(student) -> dict[str, Status]:
    db.session.expire_all()
    rows = db.session.scalars(select(Enrollment).where(Enrollment.student_id == student.id))
    return {link.course.code: link.status for link in rows}


def events() -> int:
    return db.session.scalar(select(func.count()).select_from(EnrollmentEvent))


def swaps() -> list[tuple[int, int, int]]:
    return [(s.student_id, s.course_id, s.drop_course_id)
            for s in db.session.scalars(select(WaitlistSwap))]


def swap(student, course, give_up, **kwargs):
    with write_transaction(db.session):
        return services.swap(student, course.id, give_up.id, actor=None, now=NOW, **kwargs)


def sections(make_course, **wanted):
    """OLD1 and NEW1 meet at the same time in one term: a student holds OLD1, wants NEW1."""
    old = make_course(code="OLD1", days="MWF", start_time=time(9), end_time=time(10))
    new = make_course(term=old.term, code="NEW1", days="MWF", start_time=time(9, 30),
                      end_time=time(10, 30), **wanted)
    return old, new


def test_a_swap_enrolls_and_drops_in_one_change(make_course, make_student):
    old, new = sections(make_course)
    student, waiting = make_student(), make_student()
    enroll(student, old)
    old.capacity = 1
    db.session.flush()
    assert enroll(waiting, old) == Status.WAITLISTED
    # Enrolling alone is refused (the conflict); the swap decides as if OLD1 were gone.
    assert [r.code for r in services.enrollment_blockers(student, new, now=NOW)] == [
        "time_conflict"]
    result = swap(student, new, old)
    assert result.link.status == Status.ENROLLED
    assert result.dropped is not None and [p.student_id for p in result.dropped.promoted] == [
        waiting.id]
    assert links(student) == {"NEW1": Status.ENROLLED}
    assert links(waiting) == {"OLD1": Status.ENROLLED}
    trail = [(e.action, e.course.code, e.reason) for e in db.session.scalars(
        select(EnrollmentEvent).where(EnrollmentEvent.student_id == student.id)
        .order_by(EnrollmentEvent.id))][1:]
    assert trail == [(Action.ENROLLED, "NEW1", "Enrolled. Swap for OLD1."),
                     (Action.DROPPED, "OLD1", "Dropped. Swapped for NEW1.")]


def test_a_refused_swap_changes_nothing(make_course, make_student):
    old, new = sections(make_course, credits=9)
    other = make_course(term=old.term, code="OTHER1")
    student = make_student(max_credits=10)
    enroll(student, old)
    before = events()
    with pytest.raises(EnrollmentRefused) as refused:  # 9 credits after dropping 3: fine
        swap(student, new, other)  # but OTHER1 is not theirs to drop
    assert [r.code for r in refused.value.reasons] == ["time_conflict", "credit_limit",
                                                       "not_enrolled"]
    assert links(student) == {"OLD1": Status.ENROLLED} and events() == before
    late = old.term.drop_deadline + timedelta(minutes=1)
    old.term.enrollment_closes = late + timedelta(days=1)
    db.session.flush()
    with pytest.raises(EnrollmentRefused) as refused, write_transaction(db.session):
        services.swap(student, new.id, old.id, actor=None, now=late)
    assert [r.code for r in refused.value.reasons] == ["drop_deadline_passed"]
    assert links(student) == {"OLD1": Status.ENROLLED} and events() == before


def test_a_full_course_is_waited_for_with_the_swap_and_promotion_drops_the_other(
        make_course, make_student):
    old, new = sections(make_course, capacity=1, waitlist_capacity=5)
    seated, student = make_student(), make_student()
    old.capacity = 1
    db.session.flush()
    enroll(seated, new)
    enroll(student, old)
    behind_old = make_student()
    assert enroll(behind_old, old) == Status.WAITLISTED
    result = swap(student, new, old)
    assert result.link.status == Status.WAITLISTED and result.dropped is None
    assert links(student) == {"OLD1": Status.ENROLLED, "NEW1": Status.WAITLISTED}
    assert swaps() == [(student.id, new.id, old.id)]
    # The seat frees: one transaction promotes the student, drops OLD1 and seats the next.
    with write_transaction(db.session):
        services.drop(seated, new, actor=None, now=NOW)
    assert links(student) == {"NEW1": Status.ENROLLED}
    assert links(behind_old) == {"OLD1": Status.ENROLLED}
    assert swaps() == []
    promoted = db.session.scalars(select(EnrollmentEvent).where(
        EnrollmentEvent.student_id == student.id, EnrollmentEvent.action == Action.PROMOTED)
    ).one()
    assert "Swap: OLD1 is dropped." in promoted.reason


def test_a_promotion_whose_drop_is_impossible_is_skipped_and_keeps_the_place(
        make_course, make_student):
    old, new = sections(make_course, capacity=1, waitlist_capacity=5)
    lab = make_course(term=old.term, code="LAB1", corequisites=[old])
    seated, student, next_one = make_student(), make_student(), make_student()
    enroll(seated, new)
    enroll(student, old)
    swap(student, new, old)
    enroll(next_one, new)  # waitlisted behind the swap
    enroll(student, lab)  # LAB1 needs OLD1 now: the swap's drop became impossible
    with write_transaction(db.session):
        result = services.drop(seated, new, actor=None, now=NOW)
    assert [s.id for s, _ in result.skipped] == [student.id]
    assert links(student) == {"OLD1": Status.ENROLLED, "NEW1": Status.WAITLISTED,
                              "LAB1": Status.ENROLLED}
    assert links(next_one) == {"NEW1": Status.ENROLLED}
    skipped = db.session.scalars(select(EnrollmentEvent).where(
        EnrollmentEvent.student_id == student.id, EnrollmentEvent.action == Action.REFUSED)
    ).one()
    assert "OLD1 cannot be dropped alone" in skipped.reason
    assert services.waitlist_position(db.session.get(Enrollment, (student.id, new.id))) == 1


def test_dropping_the_course_to_give_up_makes_the_entry_plain(make_course, make_student):
    old, new = sections(make_course, capacity=1, waitlist_capacity=5)
    seated, student = make_student(), make_student()
    enroll(seated, new)
    enroll(student, old)
    swap(student, new, old)
    with write_transaction(db.session):
        services.drop(student, old, actor=None, now=NOW)
    assert swaps() == []
    with write_transaction(db.session):
        services.drop(seated, new, actor=None, now=NOW)
    assert links(student) == {"NEW1": Status.ENROLLED}


def test_in_offer_mode_accepting_the_offer_drops_the_other(make_course, make_student):
    old, new = sections(make_course, capacity=1, waitlist_capacity=5)
    new.term.waitlist_mode = WaitlistMode.OFFER
    db.session.flush()
    seated, student = make_student(), make_student()
    enroll(seated, new)
    enroll(student, old)
    swap(student, new, old)
    with write_transaction(db.session):
        services.drop(seated, new, actor=None, now=NOW)
    assert links(student) == {"OLD1": Status.ENROLLED, "NEW1": Status.OFFERED}
    with write_transaction(db.session):
        services.accept_offer(student, new, actor=None, now=NOW)
    assert links(student) == {"NEW1": Status.ENROLLED}
    assert swaps() == []


# --- the site ----------------------------------------------------------------------------------

def test_the_course_page_offers_the_swap_and_the_post_does_it(client, login, make_course,
                                                            make_student):
    old, new = sections(make_course)
    student = make_student()
    enroll(student, old)
    db.session.commit()
    login(student.user)
    page = client.get(f"/courses/{new.id}").text
    assert "Swap for OLD1" in page and f'name="drop" value="{old.id}"' in page
    response = client.post(f"/courses/{new.id}/swap", data={"drop": str(old.id)})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/courses/{new.id}"
    assert flashes(client.get(response.headers["Location"])) == [
        f"You swapped OLD1 {old.title} for NEW1 {new.title}: you are enrolled in NEW1 "
        f"{new.title}."]
    assert links(student) == {"NEW1": Status.ENROLLED}


def test_the_site_waits_with_the_swap_and_says_so(client, login, make_course, make_student):
    old, new = sections(make_course, capacity=0, waitlist_capacity=3)
    student = make_student()
    enroll(student, old)
    db.session.commit()
    login(student.user)
    response = client.post(f"/courses/{new.id}/swap", data={"drop": str(old.id)})
    [message] = flashes(client.get(response.headers["Location"]))
    assert message.startswith(f"NEW1 {new.title} is full: you joined the waitlist at "
                              "position 1, with your swap attached.")
    page = client.get(f"/courses/{new.id}").text
    assert "Swap attached" in page and "OLD1" in page


@pytest.mark.parametrize("value", ["", "abc", "-3", "99999999999", "SELF"])
def test_a_bad_drop_field_is_a_400_and_changes_nothing(client, login, make_course,
                                                      make_student, value):
    old, new = sections(make_course)
    student = make_student()
    enroll(student, old)
    db.session.commit()
    login(student.user)
    data = {"drop": str(new.id) if value == "SELF" else value}
    assert client.post(f"/courses/{new.id}/swap", data=data).status_code == 400
    assert links(student) == {"OLD1": Status.ENROLLED}


def test_a_swap_refused_or_for_no_course_says_why(client, login, make_course, make_student):
    old, new = sections(make_course)
    student = make_student()
    db.session.commit()
    login(student.user)
    response = client.post(f"/courses/{new.id}/swap", data={"drop": str(old.id)})
    assert response.status_code == 303
    [message] = flashes(client.get(response.headers["Location"]))
    assert message == (f"You could not swap into NEW1 {new.title}: You are not enrolled in or "
                       "waitlisted for OLD1.")
    assert client.post(f"/courses/{new.id}/swap", data={"drop": "7654321"}).status_code == 404
    assert client.post("/courses/7654321/swap", data={"drop": str(old.id)}).status_code == 404
    assert links(student) == {}


def test_the_schedule_and_the_api_show_the_swap_attached(client, login, make_course,
                                                       make_student):
    from tests.api_support import bearer, make_token

    old, new = sections(make_course, capacity=0, waitlist_capacity=3)
    student = make_student(student_number="S55")
    enroll(student, old)
    swap(student, new, old)
    secret = make_token(student.user, "read")
    db.session.commit()
    login(student.user)
    page = client.get("/me/schedule").text
    assert "swap: OLD1 is dropped when you get a seat" in page
    body = client.get("/api/v1/students/me/schedule", headers=bearer(secret)).get_json()
    courses = {c["code"]: c for term in body["terms"] for c in term["courses"]}
    assert courses["NEW1"]["swap_drops"] == old.id and courses["OLD1"]["swap_drops"] is None


def test_staff_promote_a_swap_and_the_roster_shows_it(client, login, make_course,
                                                    make_student, make_staff):
    old, new = sections(make_course, capacity=1, waitlist_capacity=3)
    seated, student = make_student(), make_student(name="Swap Waiter")
    enroll(seated, new)
    enroll(student, old)
    swap(student, new, old)
    staff = make_staff()
    db.session.commit()
    login(staff)
    roster = client.get(f"/admin/course/roster/?id={new.id}").text
    assert "swap: drops OLD1 when promoted" in roster
    confirm = client.get(f"/admin/course/roster/promote/?id={new.id}&student={student.id}")
    assert "Their swap drops OLD1 in the same change." in confirm.text
    with write_transaction(db.session):
        services.promote(student, new, actor=None, now=NOW, reason="Dean",
                         override={services.Override.CAPACITY})
    assert links(student) == {"NEW1": Status.ENROLLED}
    assert swaps() == []

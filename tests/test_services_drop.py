"""Drop, promotion from the waitlist, staff actions and the audit history."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from enrollment import clock, services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Action, Enrollment, EnrollmentEvent, Source, Status
from enrollment.services import EnrollmentRefused, Override
from tests.factories import NOW, at


def tx(fn, *args, **kw):
    kw.setdefault("now", NOW)
    kw.setdefault("actor", None)
    with write_transaction(db.session):
        return fn(*args, **kw)


def status(student, course):
    link = db.session.get(Enrollment, (student.id, course.id), populate_existing=True)
    return link.status if link else None


def fill(course, n, make_student, **student_kw):
    students = [make_student(**student_kw) for _ in range(n)]
    for s in students:
        tx(services.enroll, s, course)
    return students


def test_drop_promotes_first_waitlisted(make_course, make_student):
    course = make_course(capacity=2, waitlist_capacity=5)
    a, b, w1, w2 = fill(course, 4, make_student)
    assert status(w1, course) == Status.WAITLISTED
    result = tx(services.drop, a, course)
    assert result.previous_status == Status.ENROLLED
    assert [link.student_id for link in result.promoted] == [w1.id]
    assert status(a, course) is None
    assert status(w1, course) == Status.ENROLLED
    assert status(w2, course) == Status.WAITLISTED
    link = db.session.get(Enrollment, (w2.id, course.id))
    assert services.waitlist_position(link) == 1
    actions = [e.action for e in services.history_for_course(course)]
    assert actions[-2:] == [Action.DROPPED, Action.PROMOTED]


def test_leaving_the_waitlist_promotes_nobody(make_course, make_student):
    course = make_course(capacity=1)
    a, w1, w2 = fill(course, 3, make_student)
    result = tx(services.drop, w1, course)
    assert result.previous_status == Status.WAITLISTED and result.promoted == []
    assert services.waitlist_positions([course.id]) == {(w2.id, course.id): 1}


def test_promotion_skips_a_student_with_a_new_conflict(make_course, make_term, make_student):
    term = make_term()
    course = make_course(term=term, capacity=1, days="M", start_time=at("09:00"),
                         end_time=at("10:00"))
    clash = make_course(term=term, days="M", start_time=at("09:30"), end_time=at("10:30"))
    a, w1, w2 = fill(course, 3, make_student)
    tx(services.enroll, w1, clash)  # w1 is now busy at that time
    result = tx(services.drop, a, course)
    assert [link.student_id for link in result.promoted] == [w2.id]
    assert [(s.id, r.code) for s, r in result.skipped] == [(w1.id, "time_conflict")]
    assert status(w1, course) == Status.WAITLISTED
    skip_event = services.history_for_student(w1)[-1]
    assert skip_event.action == Action.REFUSED and "meets at the same time" in skip_event.reason


def test_promotion_skips_a_student_over_the_credit_limit(make_course, make_term, make_student):
    term = make_term()
    course = make_course(term=term, capacity=1, credits=3)
    a, w1 = fill(course, 2, make_student)
    w1.max_credits = 2  # staff lowered the limit after w1 joined the waitlist
    db.session.commit()
    result = tx(services.drop, a, course)
    assert result.promoted == [] and result.skipped[0][1].code == "credit_limit"


def test_drop_deadline(make_course, make_student, make_staff):
    course = make_course()
    student = make_student()
    tx(services.enroll, student, course)
    deadline = course.term.drop_deadline
    with pytest.raises(EnrollmentRefused) as info:
        tx(services.drop, student, course, now=deadline + timedelta(seconds=1))
    assert info.value.code == "drop_deadline_passed"
    with pytest.raises(EnrollmentRefused):  # staff need the override, with a reason
        tx(services.drop, student, course, now=deadline + timedelta(days=1), by_staff=True)
    tx(services.drop, student, course, now=deadline + timedelta(days=1), by_staff=True,
       override={Override.DEADLINE}, reason="Medical withdrawal", actor=make_staff())
    event = services.history_for_student(student)[-1]
    assert event.action == Action.REMOVED_BY_STAFF and "Medical" in event.reason


def test_drop_on_the_deadline_is_allowed(make_course, make_student):
    course, student = make_course(), make_student()
    tx(services.enroll, student, course)
    tx(services.drop, student, course, now=course.term.drop_deadline)
    assert status(student, course) is None


def test_drop_when_not_enrolled(make_course, make_student):
    with pytest.raises(EnrollmentRefused) as info:
        tx(services.drop, make_student(), make_course())
    assert info.value.code == "not_enrolled"


def test_raising_capacity_promotes_as_many_as_fit(make_course, make_student):
    course = make_course(capacity=1, waitlist_capacity=5)
    _, w1, w2, w3 = fill(course, 4, make_student)
    result = tx(services.set_capacity, course, 3)
    assert [link.student_id for link in result.promoted] == [w1.id, w2.id]
    assert status(w3, course) == Status.WAITLISTED


def test_lowering_capacity_removes_nobody(make_course, make_student):
    course = make_course(capacity=3)
    students = fill(course, 3, make_student)
    tx(services.set_capacity, course, 1)
    assert all(status(s, course) == Status.ENROLLED for s in students)
    assert services.seat_count(course.id, now=clock.now()).enrolled == 3


def test_staff_promote_with_capacity_override(make_course, make_student, make_staff):
    course = make_course(capacity=1)
    _, waiting = fill(course, 2, make_student)
    staff = make_staff()
    with pytest.raises(EnrollmentRefused) as info:
        tx(services.promote, waiting, course, actor=staff, reason="")
    assert info.value.code == "reason_required"
    with pytest.raises(EnrollmentRefused) as info:
        tx(services.promote, waiting, course, actor=staff, reason="TA")
    assert info.value.code == "course_full"
    tx(services.promote, waiting, course, actor=staff, reason="TA",
       override={Override.CAPACITY})
    assert status(waiting, course) == Status.ENROLLED


def test_move_between_sections(make_course, make_term, make_student, make_staff):
    term = make_term()
    old = make_course(term=term, code="CS101-A", capacity=1)
    new = make_course(term=term, code="CS101-B", capacity=5)
    student, waiting = fill(old, 2, make_student)
    tx(services.move, student, old, new, actor=make_staff(), reason="Section swap")
    assert status(student, old) is None and status(student, new) == Status.ENROLLED
    assert status(waiting, old) == Status.ENROLLED
    actions = [e.action for e in services.history_for_student(student)]
    assert actions == [Action.ENROLLED, Action.REMOVED_BY_STAFF, Action.ADDED_BY_STAFF]


def test_move_refused_leaves_everything(make_course, make_term, make_student, make_staff):
    term = make_term()
    old = make_course(term=term, capacity=1)
    new = make_course(term=term, capacity=0, waitlist_capacity=0)
    student = fill(old, 1, make_student)[0]
    with pytest.raises(EnrollmentRefused) as info:
        tx(services.move, student, old, new, actor=make_staff())
    assert info.value.code == "course_full"
    assert status(student, old) == Status.ENROLLED


def test_complete_with_grade(make_course, make_student, make_staff):
    course, student = make_course(), make_student()
    tx(services.enroll, student, course)
    link = tx(services.complete, student, course, "a-", actor=make_staff())
    assert link.status == Status.COMPLETED and link.grade == "A-"
    with pytest.raises(EnrollmentRefused) as info:
        tx(services.complete, student, course, "Z")
    assert info.value.code == "invalid_grade"
    with pytest.raises(EnrollmentRefused) as info:
        tx(services.enroll, student, course)
    assert info.value.code == "already_completed"


def test_drop_runs_a_fixed_number_of_queries(make_course, make_student, count_queries):
    def measure(n):
        course = make_course(capacity=n, waitlist_capacity=n)
        students = [make_student() for _ in range(2 * n)]
        for s in students:
            tx(services.enroll, s, course, source=Source.IMPORT)
        with write_transaction(db.session):
            with count_queries() as q:
                services.drop(students[0], course, actor=None, now=NOW)
        return q.count

    assert measure(2) == measure(15)


def test_history_in_order(make_course, make_student):
    course, student = make_course(), make_student()
    tx(services.enroll, student, course)
    tx(services.drop, student, course)
    tx(services.enroll, student, course)
    assert [e.action for e in services.history_for_student(student)] == [
        Action.ENROLLED, Action.DROPPED, Action.ENROLLED]
    assert all(e.course_label.endswith(course.code) for e in
               db.session.scalars(select(EnrollmentEvent)))


def test_staff_refusals_have_codes(make_course, make_term, make_student, make_staff):
    term = make_term()
    course = make_course(term=term)
    student, staff = make_student(), make_staff()
    tx(services.enroll, student, course)
    cases = [
        (services.promote, (student, course), {"reason": "x"}, "not_waitlisted"),
        (services.move, (student, course, course), {}, "same_course"),
        (services.set_capacity, (course, -1), {}, "invalid_capacity"),
    ]
    for fn, args, kw, code in cases:
        with pytest.raises(EnrollmentRefused) as info:
            tx(fn, *args, actor=staff, **kw)
        assert info.value.code == code
    assert status(student, course) == Status.ENROLLED


def test_audit_before_after_replays_to_the_table(make_course, make_term, make_student,
                                                 make_staff):
    """Replaying status_before -> status_after of every event rebuilds the enrollments table."""
    term = make_term()
    a = make_course(term=term, capacity=1, waitlist_capacity=3)
    b = make_course(term=term, capacity=2)
    s1, s2, s3 = make_student(), make_student(), make_student()
    staff = make_staff()
    for s in (s1, s2, s3):
        tx(services.enroll, s, a)
    tx(services.drop, s1, a)                                   # s2 promoted
    tx(services.move, s2, a, b, actor=staff, reason="swap")    # s3 promoted
    tx(services.complete, s3, a, "B", actor=staff)
    tx(services.set_capacity, a, 2, actor=staff)
    state = {}
    for event in db.session.scalars(select(EnrollmentEvent).order_by(EnrollmentEvent.id)):
        key = (event.student_id, event.course_id)
        assert state.get(key) == event.status_before, event
        state[key] = event.status_after
    table = {(link.student_id, link.course_id): link.status
             for link in db.session.scalars(select(Enrollment))}
    assert {k: v for k, v in state.items() if v is not None} == table

"""The rules engine at the service level: enroll, every refusal code, waitlist, audit."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Action, Enrollment, EnrollmentEvent, Source, Status
from enrollment.services import EnrollmentRefused, Override
from tests.factories import NOW, at


def enroll(student, course, now=NOW, **kw):
    with write_transaction(db.session):
        link = services.enroll(student, course, actor=student.user, now=now, **kw)
        return link.status


def refused(student, course, now=NOW, **kw) -> EnrollmentRefused:
    with pytest.raises(EnrollmentRefused) as info:
        enroll(student, course, now=now, **kw)
    return info.value


def events(**where):
    stmt = select(EnrollmentEvent).order_by(EnrollmentEvent.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(EnrollmentEvent, key) == value)
    return db.session.scalars(stmt).all()


def test_enroll_then_waitlist_then_full(make_course, make_student):
    course = make_course(capacity=1, waitlist_capacity=1)
    a, b, c = make_student(), make_student(), make_student()
    assert enroll(a, course) == Status.ENROLLED
    assert enroll(b, course) == Status.WAITLISTED
    err = refused(c, course)
    assert err.code == "course_full" and "full" in err.message
    assert [e.action for e in events()] == [Action.ENROLLED, Action.WAITLISTED]
    assert "position 1" in events()[1].reason


def test_window_not_open_and_closed(make_course, make_student):
    course, student = make_course(), make_student()
    term = course.term
    assert refused(student, course, now=term.enrollment_opens - timedelta(seconds=1)).code \
        == "window_not_open"
    assert refused(student, course, now=term.enrollment_closes + timedelta(seconds=1)).code \
        == "window_closed"
    # both ends of the window are included
    assert enroll(student, course, now=term.enrollment_opens) == Status.ENROLLED
    other = make_student()
    assert enroll(other, course, now=term.enrollment_closes) == Status.ENROLLED


def test_already_enrolled_and_waitlisted(make_course, make_student):
    course = make_course(capacity=1)
    a, b = make_student(), make_student()
    enroll(a, course)
    enroll(b, course)
    assert refused(a, course).code == "already_enrolled"
    assert refused(b, course).code == "already_waitlisted"
    assert len(events()) == 2  # a refusal writes nothing


def test_time_conflict_names_the_other_course(make_course, make_term, make_student):
    term = make_term()
    first = make_course(term=term, code="MATH1", days="MWF", start_time=at("09:00"),
                        end_time=at("10:00"))
    second = make_course(term=term, code="PHYS1", days="W", start_time=at("09:30"),
                         end_time=at("10:30"))
    student = make_student()
    enroll(student, first)
    err = refused(student, second)
    assert err.code == "time_conflict" and "MATH1" in err.message


def test_conflict_with_other_term_is_fine(make_course, make_student):
    a = make_course(days="M", start_time=at("09:00"), end_time=at("10:00"))
    b = make_course(days="M", start_time=at("09:00"), end_time=at("10:00"))  # another term
    student = make_student()
    enroll(student, a)
    assert enroll(student, b) == Status.ENROLLED


def test_missing_prerequisites_named_and_completed_in_any_term(make_course, make_term,
                                                               make_student, make_staff):
    past, now_term = make_term(), make_term()
    intro_past = make_course(term=past, code="CS101")
    intro = make_course(term=now_term, code="CS101")
    algebra = make_course(term=now_term, code="MATH101")
    advanced = make_course(term=now_term, code="CS201")
    advanced.prerequisites.extend([intro, algebra])
    student = make_student()
    err = refused(student, advanced)
    assert err.code == "missing_prerequisite"
    assert "CS101" in err.message and "MATH101" in err.message
    with write_transaction(db.session):
        services.complete(student, intro_past, "B", actor=make_staff(), now=NOW)
        services.complete(student, algebra, "A", actor=None, now=NOW)
    assert enroll(student, advanced) == Status.ENROLLED


def test_credit_limit_counts_enrolled_and_waitlisted(make_course, make_term, make_student):
    term = make_term()
    full = make_course(term=term, credits=4, capacity=0)
    course = make_course(term=term, credits=4)
    student = make_student(max_credits=7)
    assert enroll(student, full) == Status.WAITLISTED
    err = refused(student, course)
    assert err.code == "credit_limit" and "8" in err.message and "7" in err.message


def test_blockers_report_every_reason(make_course, make_term, make_student):
    term = make_term()
    other = make_course(term=term, code="A1", days="T", start_time=at("08:00"),
                        end_time=at("09:00"))
    course = make_course(term=term, code="B1", days="T", start_time=at("08:30"),
                         end_time=at("09:30"), credits=5, capacity=0, waitlist_capacity=0)
    course.prerequisites.append(make_course(term=term, code="Z9"))
    student = make_student(max_credits=6)
    enroll(student, other)
    codes = {r.code for r in services.enrollment_blockers(
        student, course, now=term.enrollment_closes + timedelta(days=1))}
    assert codes == {"window_closed", "time_conflict", "missing_prerequisite", "credit_limit",
                     "course_full"}
    assert services.enrollment_blockers(make_student(), other, now=NOW) == []


def test_staff_override_needs_reason_and_is_recorded(make_course, make_student, make_staff):
    course = make_course(capacity=1, waitlist_capacity=0)
    staff = make_staff()
    enroll(make_student(), course)
    student = make_student()
    with pytest.raises(EnrollmentRefused) as info, write_transaction(db.session):
        services.enroll(student, course, actor=staff, now=NOW, source=Source.STAFF,
                        override={Override.CAPACITY})
    assert info.value.code == "reason_required"
    with write_transaction(db.session):
        link = services.enroll(student, course, actor=staff, now=NOW, source=Source.STAFF,
                               override={Override.CAPACITY}, reason="Dean approved")
    assert link.status == Status.ENROLLED
    event = events(student_id=student.id)[0]
    assert event.action == Action.ADDED_BY_STAFF and event.actor_id == staff.id
    assert "capacity" in event.reason and "Dean approved" in event.reason


def test_students_cannot_override(make_course, make_student):
    with pytest.raises(ValueError):
        enroll(make_student(), make_course(), override={Override.CAPACITY}, reason="x")


def test_import_skips_window_and_prerequisites_but_not_capacity(make_course, make_term,
                                                                make_student):
    term = make_term()
    course = make_course(term=term, capacity=1, waitlist_capacity=0)
    course.prerequisites.append(make_course(term=term))
    late = term.enrollment_closes + timedelta(days=30)
    assert enroll(make_student(), course, now=late, source=Source.IMPORT) == Status.ENROLLED
    assert refused(make_student(), course, now=late, source=Source.IMPORT).code == "course_full"


def test_enroll_outside_write_transaction(app, make_course, make_student, backend):
    """SQLite can only lock from the start of a transaction: anything else is refused.
    PostgreSQL locks the course row wherever the transaction is."""
    course, student = make_course(), make_student()
    db.session.commit()
    if backend == "sqlite":
        with pytest.raises(services.NotInWriteTransaction):
            services.enroll(student, course, actor=None, now=NOW)
        db.session.rollback()
    else:
        assert services.enroll(student, course, actor=None, now=NOW).status == Status.ENROLLED


def test_enroll_runs_a_fixed_number_of_queries(make_course, make_term, make_student,
                                               count_queries):
    def measure(n_others):
        term = make_term()
        course = make_course(term=term, capacity=n_others + 1)
        course.prerequisites.extend(make_course(term=term) for _ in range(2))
        for _ in range(n_others):
            enroll(make_student(), course, source=Source.IMPORT)
        student = make_student()
        for _ in range(n_others):
            enroll(student, make_course(term=term, credits=1, capacity=5), source=Source.IMPORT)
        student.max_credits = 100
        db.session.commit()
        with write_transaction(db.session):
            student = db.session.merge(student)
            with count_queries() as q:
                services.enroll(student, course, actor=None, now=NOW, source=Source.IMPORT)
        return q.count

    assert measure(1) == measure(12)


def test_every_change_writes_one_event_in_the_same_transaction(make_course, make_student):
    course, student = make_course(), make_student()
    with pytest.raises(RuntimeError), write_transaction(db.session):
        services.enroll(student, course, actor=None, now=NOW)
        raise RuntimeError("the caller fails after the service call")
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0
    assert events() == []


@pytest.mark.config(SCHOOL_TIMEZONE="America/New_York")
def test_refusal_times_are_worded_in_the_school_zone_whoever_asks(make_course, make_student):
    """The zone is the school's (config), not whatever zone the caller's `now` carries."""
    from zoneinfo import ZoneInfo

    course, student = make_course(), make_student()
    late = course.term.enrollment_closes + timedelta(days=1)
    for now in (late, late.astimezone(ZoneInfo("Asia/Tokyo"))):
        assert "31 Jan 2027 18:59 EST" in refused(student, course, now=now).message
    with pytest.raises(services.EnrollmentRefused) as staff_refusal, write_transaction(db.session):
        services.enroll(student, course, actor=None, now=late, source=Source.STAFF)
    assert "31 Jan 2027 18:59 EST" in staff_refusal.value.message


def test_refusal_times_default_to_utc(make_course, make_student):
    course, student = make_course(), make_student()
    late = course.term.enrollment_closes + timedelta(days=1)
    assert "31 Jan 2027 23:59 UTC" in refused(student, course, now=late).message


@pytest.mark.config(SCHOOL_TIMEZONE="America/New_York",
                    FIXED_NOW="2027-02-20T12:00:00+00:00")
def test_course_page_words_refusals_in_the_school_zone(client, login, make_course, make_student):
    course, student = make_course(), make_student()
    db.session.commit()
    login(student.user)
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "31 Jan 2027 18:59 EST" in page

"""`flask seed-demo`: a demo school that keeps every invariant of the rules engine."""
from __future__ import annotations

import itertools
from collections import defaultdict

import pytest
import sqlalchemy as sa

from enrollment import clock, create_app, services
from enrollment.cli import demo_catalog as catalog
from enrollment.cli.seed import seed_demo
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import (
    Action,
    Course,
    Enrollment,
    EnrollmentEvent,
    Role,
    Status,
    Student,
    Term,
    User,
)
from enrollment.services.counts import SeatCount
from enrollment.services.facts import load_facts
from tests.factories import NOW


def seed(runner, *args):
    return runner.invoke(seed_demo, list(args))


@pytest.fixture
def seeded(runner):
    result = seed(runner)  # the defaults, as `make run` uses them
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result


def links_by(status=None):
    query = sa.select(Enrollment).options(sa.orm.joinedload(Enrollment.course))
    if status:
        query = query.where(Enrollment.status == status)
    return db.session.scalars(query).all()


def test_defaults_make_a_realistic_school(seeded):
    assert "Seeded 2 terms" in seeded.output
    terms = db.session.scalars(sa.select(Term).order_by(Term.classes_start)).all()
    past, current = terms
    now = clock.now()
    assert past.classes_end < now.date()
    assert current.window_state(now) == "open"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 60
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Student)) == 400
    capacities = db.session.scalars(sa.select(Course.capacity)).all()
    assert min(capacities) >= 10 and max(capacities) <= 200
    assert {c.days for c in db.session.scalars(sa.select(Course))} >= {"MWF", "TR"}
    assert len(db.session.scalars(sa.select(Course.department_id).distinct()).all()) >= 6


def test_prerequisite_chain_and_completed_courses(seeded):
    current = db.session.scalars(sa.select(Term).order_by(Term.classes_start.desc())).first()
    courses = {c.code: c for c in db.session.scalars(
        sa.select(Course).where(Course.term_id == current.id))}
    assert [p.code for p in courses["CS201"].prerequisites] == ["CS101"]
    assert [p.code for p in courses["CS301"].prerequisites] == ["CS201"]
    completed = links_by(Status.COMPLETED)
    assert completed and all(link.grade in services.GRADES for link in completed)
    assert all(link.course.term_id != current.id for link in completed)


def test_students_carry_a_full_load(seeded):
    """Returning students completed 3 to 5 courses; most students hold 3 or more seats now."""
    past, current = db.session.scalars(sa.select(Term).order_by(Term.classes_start)).all()
    per_student = defaultdict(lambda: defaultdict(int))
    for link in links_by():
        per_student[link.course.term_id][link.student_id] += link.status != Status.WAITLISTED
    completed, enrolled = per_student[past.id], per_student[current.id]
    assert sum(completed.values()) >= 3 * len(completed) and max(completed.values()) <= 5
    assert sum(n >= 3 for n in enrolled.values()) >= 0.7 * len(enrolled)


def test_seats_and_waitlists_hold(seeded):
    per_course = defaultdict(list)
    for link in links_by():
        per_course[link.course_id].append(link)
    full_with_waitlist = 0
    for links in per_course.values():
        course = links[0].course
        enrolled = [k for k in links if k.status == Status.ENROLLED]
        waiting = sorted(k.waitlist_seq for k in links if k.status == Status.WAITLISTED)
        assert len(enrolled) <= course.capacity
        assert len(waiting) <= course.waitlist_capacity
        assert waiting == list(range(1, len(waiting) + 1))
        if waiting:
            assert len(enrolled) == course.capacity  # a waitlist only on a full course
            full_with_waitlist += 1
    assert full_with_waitlist >= 3


def test_students_have_no_conflicts_and_stay_within_credits(seeded):
    per_student_term = defaultdict(list)
    for link in links_by():
        per_student_term[(link.student_id, link.course.term_id)].append(link)
    max_credits = dict(db.session.execute(sa.select(Student.id, Student.max_credits)).all())
    for (student_id, _term), links in per_student_term.items():
        active = [k for k in links if k.status != Status.COMPLETED]
        assert sum(k.course.credits for k in active) <= max_credits[student_id]
        enrolled = [k.course for k in links if k.status == Status.ENROLLED]
        for a, b in itertools.combinations(enrolled, 2):
            assert not a.overlaps(b), (student_id, a.code, b.code)
    for link in links_by(Status.ENROLLED) + links_by(Status.WAITLISTED):
        facts = load_facts(link.student, link.course, now=NOW, seats=SeatCount())
        assert facts.completions.missing == []


def test_one_audit_event_per_enrollment(seeded):
    events = db.session.scalars(sa.select(EnrollmentEvent)).all()
    links = links_by()
    assert len(events) == len(links)
    assert {e.reason for e in events} == {"demo data"}
    by_key = {(e.student_id, e.course_id): e for e in events}
    expected = {Status.ENROLLED: Action.ENROLLED, Status.WAITLISTED: Action.WAITLISTED,
                Status.COMPLETED: Action.COMPLETED}
    for link in links:
        assert by_key[(link.student_id, link.course_id)].action == expected[link.status]


def test_demo_logins_work(seeded):
    assert "Demo logins" in seeded.output
    staff = db.session.scalar(sa.select(User).where(User.email == "registrar@example.edu"))
    assert staff.role == Role.STAFF and staff.check_password("registrar-demo-1")
    ada = db.session.scalar(sa.select(User).where(User.email == "ada@example.edu"))
    assert ada.student is not None and ada.check_password("student-demo-1")
    assert "registrar-demo-1" in seeded.output and "ada@example.edu" in seeded.output


def test_services_work_on_the_seeded_data(seeded):
    """A drop from a full course with a waitlist promotes its first eligible student."""
    link = next(k for k in links_by(Status.WAITLISTED) if k.waitlist_seq == 1)
    course_id = link.course_id
    leaver = db.session.scalars(sa.select(Enrollment).where(
        Enrollment.course_id == course_id, Enrollment.status == Status.ENROLLED)).first()
    with write_transaction(db.session):
        result = services.drop(leaver.student, leaver.course, actor=None, now=clock.now())
    assert len(result.promoted) + len(result.skipped) >= 1


def test_if_empty_seeds_nothing_but_prints_logins(seeded, runner):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment))
    result = seed(runner, "--if-empty")
    assert result.exit_code == 0, result.output
    assert "seeded nothing" in result.output and "Demo logins" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == before


def test_refuses_a_database_with_data(seeded, runner):
    result = seed(runner)
    assert result.exit_code == 1
    assert "already has" in result.output and "Traceback" not in result.output


def test_refuses_without_schema(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite3'}"})
    with app.app_context():
        result = app.test_cli_runner().invoke(seed_demo, [])
        db.engine.dispose()
    assert result.exit_code == 1
    assert "flask db upgrade" in result.output and "Traceback" not in result.output


def _snapshot():
    return (
        db.session.execute(sa.select(Course.code, Course.capacity, Course.days, Course.start_time)
                           .order_by(Course.id)).all(),
        db.session.execute(sa.select(Student.student_number, Enrollment.status,
                                     Enrollment.waitlist_seq, Enrollment.grade)
                           .join(Enrollment.student)
                           .order_by(Student.student_number, Enrollment.course_id)).all(),
    )


def test_same_seed_same_school(make_app):
    snapshots = []
    for _ in range(2):
        app = make_app(FIXED_NOW="2027-01-10T12:00:00")
        with app.app_context():
            result = app.test_cli_runner().invoke(
                seed_demo, ["--students", "80", "--courses", "20", "--seed", "7"])
            assert result.exit_code == 0, result.output
            snapshots.append(_snapshot())
            db.session.remove()
    assert snapshots[0] == snapshots[1] and snapshots[0][1]


def test_small_and_large_counts(runner):
    result = seed(runner, "--students", "0", "--courses", "2")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 2
    result = seed(runner, "--students", "-1")
    assert result.exit_code == 2


def test_new_rows_after_seeding_get_fresh_ids(seeded, make_student, make_course):
    """The bulk insert reserved its ids: ordinary inserts afterwards do not collide."""
    student = make_student()
    course = make_course()
    with write_transaction(db.session):
        services.enroll(student, course, actor=None, now=clock.now())
    assert db.session.get(Student, student.id).user.email == student.user.email


def test_the_demo_has_appointments_and_holds_but_not_for_the_named_logins(seeded):
    from enrollment.models import Appointment, Hold, Term, User
    from enrollment.services import appointments as appointment_service

    now = clock.now()
    current = db.session.scalars(sa.select(Term).order_by(Term.enrollment_opens.desc())).first()
    opens = list(db.session.scalars(sa.select(Appointment.opens_at)
                                    .where(Appointment.term_id == current.id)))
    assert len(opens) == db.session.scalar(sa.select(sa.func.count()).select_from(Student))
    assert any(t <= now for t in opens) and any(t > now for t in opens)  # groups still ahead
    holds = db.session.scalars(sa.select(Hold)).all()
    assert holds and any(h.blocks_registration for h in holds)
    for email, *_ in catalog.DEMO_STUDENTS:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert appointment_service.upcoming(user.student, now) == []
        assert not [h for h in holds if h.student_id == user.student.id]


def test_the_demo_has_corequisites_its_students_satisfy(seeded):
    """A few courses are taken with another of their term; every student holding one is
    enrolled in its co-requisite or passed it (what the rules would have allowed)."""
    from enrollment.models import corequisite_links
    from enrollment.services import grades

    pairs = db.session.execute(sa.select(corequisite_links)).all()
    assert 1 <= len(pairs) <= 3
    for course_id, corequisite_id in pairs:
        course, needed = db.session.get(Course, course_id), db.session.get(Course, corequisite_id)
        assert course.term_id == needed.term_id and course.id != needed.id
        assert f"Taken with {needed.code}." in course.description
        holders = db.session.scalars(sa.select(Enrollment).where(
            Enrollment.course_id == course_id, Enrollment.status != Status.COMPLETED)).all()
        assert holders  # the demo links courses that have students
        for link in holders:
            mine = {(e.course.code, e.course.term_id, e.status, e.grade)
                    for e in link.student.enrollments}
            assert (needed.code, needed.term_id, Status.ENROLLED, None) in mine or any(
                code == needed.code and status == Status.COMPLETED and grades.passed(grade)
                for code, _, status, grade in mine)


def test_the_demo_has_a_few_waitlist_entries_with_a_swap(seeded):
    from enrollment.models import WaitlistSwap

    swaps = db.session.scalars(sa.select(WaitlistSwap)).all()
    assert 1 <= len(swaps) <= 3
    for swap in swaps:
        waiting = db.session.get(Enrollment, (swap.student_id, swap.course_id))
        kept = db.session.get(Enrollment, (swap.student_id, swap.drop_course_id))
        assert waiting.status == Status.WAITLISTED and kept.status == Status.ENROLLED
        assert waiting.course.term_id == kept.course.term_id


def test_the_demo_has_cross_listed_groups_whose_pools_hold(seeded):
    from enrollment.models import Crosslist, crosslist_sections

    groups = db.session.scalars(sa.select(Crosslist)).all()
    assert 1 <= len(groups) <= 2
    for group in groups:
        ids = db.session.scalars(sa.select(crosslist_sections.c.course_id).where(
            crosslist_sections.c.crosslist_id == group.id)).all()
        assert len(ids) == 2
        seats = services.seat_count(ids[0], now=clock.now())
        assert seats.pool == group.capacity and seats.pool_taken <= group.capacity
        holders = [set(db.session.scalars(sa.select(Enrollment.student_id).where(
            Enrollment.course_id == i))) for i in ids]
        assert not holders[0] & holders[1]

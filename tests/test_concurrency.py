"""Capacity and waitlist order under real parallelism, on SQLite (a file) and PostgreSQL.

Each worker thread has its own app context, session and database connection. The naive
count-then-insert at the end is the same race without the course lock: it overbooks, which
shows that the main tests can fail.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import (
    Action,
    Course,
    Enrollment,
    EnrollmentEvent,
    Reservation,
    Status,
    Student,
)
from enrollment.services import EnrollmentRefused, periodic
from enrollment.services.reservations import set_reservation
from tests.factories import NOW, make_course, make_student, make_term

pytestmark = [pytest.mark.sqlite_file, pytest.mark.slow,
              pytest.mark.config(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 24, "max_overflow": 8})]

WORKERS = 16
ATTEMPTS = 112
CAPACITY = 10


def run_parallel(app, jobs):
    """Run the callables on WORKERS threads released together; return their results."""
    barrier = threading.Barrier(min(WORKERS, len(jobs)))

    def worker(indexed):
        index, job = indexed
        with app.app_context():
            if index < barrier.parties:  # the first wave starts at the same moment
                barrier.wait(timeout=30)
            try:
                return job()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(worker, enumerate(jobs)))


def enroll_job(student_id, course_id, now=NOW):
    def job():
        with write_transaction(db.session):
            student = db.session.get(Student, student_id)
            course = db.session.get(Course, course_id)
            try:
                return services.enroll(student, course, actor=None, now=now).status
            except EnrollmentRefused as exc:
                return exc.code
    return job


def drop_job(student_id, course_id):
    def job():
        with write_transaction(db.session):
            student = db.session.get(Student, student_id)
            course = db.session.get(Course, course_id)
            try:
                return services.drop(student, course, actor=None, now=NOW).previous_status
            except EnrollmentRefused as exc:
                return exc.code
    return job


def counts(course_id):
    db.session.rollback()  # end any read transaction: its snapshot predates the workers
    return dict(db.session.execute(
        select(Enrollment.status, func.count()).where(Enrollment.course_id == course_id)
        .group_by(Enrollment.status)).all())


def waitlist_seqs(course_id):
    return list(db.session.scalars(
        select(Enrollment.waitlist_seq).where(Enrollment.course_id == course_id,
                                              Enrollment.status == Status.WAITLISTED)
        .order_by(Enrollment.waitlist_seq)))


def test_parallel_enrolls_never_exceed_capacity(app):
    course = make_course(capacity=CAPACITY, waitlist_capacity=ATTEMPTS)
    students = [make_student() for _ in range(ATTEMPTS)]
    course_id, ids = course.id, [s.id for s in students]
    db.session.commit()

    results = run_parallel(app, [enroll_job(sid, course_id) for sid in ids])

    assert results.count(Status.ENROLLED) == CAPACITY
    assert results.count(Status.WAITLISTED) == ATTEMPTS - CAPACITY
    assert counts(course_id) == {Status.ENROLLED: CAPACITY,
                                 Status.WAITLISTED: ATTEMPTS - CAPACITY}
    # arrival order: consecutive sequence numbers, one per waitlisted student
    assert waitlist_seqs(course_id) == list(range(1, ATTEMPTS - CAPACITY + 1))
    assert db.session.scalar(select(func.count()).select_from(EnrollmentEvent)) == ATTEMPTS


def test_parallel_drops_and_enrolls_keep_capacity_and_waitlist(app):
    course = make_course(capacity=CAPACITY, waitlist_capacity=200)
    first = [make_student() for _ in range(2 * CAPACITY)]   # 10 enrolled, 10 waitlisted
    late = [make_student() for _ in range(40)]
    db.session.commit()
    course_id = course.id
    for s in first:
        enroll_job(s.id, course_id)()
    enrolled_ids = [s.id for s in first[:CAPACITY]]

    jobs = [drop_job(sid, course_id) for sid in enrolled_ids]
    jobs += [enroll_job(s.id, course_id) for s in late]
    results = run_parallel(app, jobs)
    assert results.count(Status.ENROLLED) == CAPACITY  # the ten drops succeeded
    assert set(results[CAPACITY:]) <= {Status.ENROLLED, Status.WAITLISTED}

    final = counts(course_id)
    assert final[Status.ENROLLED] == CAPACITY  # every freed seat was refilled, none overbooked
    # nobody lost: 50 students remain, all either enrolled or waitlisted
    assert final[Status.ENROLLED] + final[Status.WAITLISTED] == len(first) + len(late) - CAPACITY
    seqs = waitlist_seqs(course_id)
    assert len(seqs) == len(set(seqs))
    # the ten who were waitlisted first were promoted first
    promoted = set(db.session.scalars(select(Enrollment.student_id).where(
        Enrollment.course_id == course_id, Enrollment.status == Status.ENROLLED)))
    assert {s.id for s in first[CAPACITY:]} <= promoted


def enrolled_programs(course_id):
    db.session.rollback()
    return list(db.session.scalars(
        select(Student.program).join(Enrollment, Enrollment.student_id == Student.id)
        .where(Enrollment.course_id == course_id, Enrollment.status == Status.ENROLLED)))


RESERVED = 4


def reserved_course(waitlist_capacity):
    course = make_course(capacity=CAPACITY, waitlist_capacity=waitlist_capacity)
    with write_transaction(db.session):
        set_reservation(course, "Computer Science", RESERVED, NOW + timedelta(days=1),
                        actor=None, now=NOW)
    return course


def test_parallel_enrolls_keep_the_reserved_and_the_open_pool(app):
    """Members and others racing: nobody outside the program takes a reserved seat, and the
    course as a whole is never overbooked."""
    course = reserved_course(waitlist_capacity=ATTEMPTS)
    members = [make_student(program="Computer Science").id for _ in range(RESERVED + 2)]
    others = [make_student(program="History").id for _ in range(ATTEMPTS - len(members))]
    course_id = course.id
    db.session.commit()
    ids = [*others[:40], *members, *others[40:]]  # members arrive in the middle of the rush

    results = run_parallel(app, [enroll_job(sid, course_id) for sid in ids])

    assert results.count(Status.ENROLLED) == CAPACITY
    programs = enrolled_programs(course_id)
    assert len(programs) == CAPACITY
    assert programs.count("History") <= CAPACITY - RESERVED
    assert programs.count("Computer Science") >= RESERVED
    assert db.session.scalar(select(func.count()).select_from(EnrollmentEvent)) == ATTEMPTS


def test_a_release_racing_with_enrolls_promotes_the_waitlist_first_and_never_overbooks(app):
    """At the release time, ticks and new enrolls race: whichever comes first releases the
    seats under the course lock, the waitlist takes them in order, the newcomers queue."""
    course = reserved_course(waitlist_capacity=ATTEMPTS)
    course_id = course.id
    seated = [make_student(program="History").id for _ in range(CAPACITY - RESERVED)]
    waiting = [make_student(program="History").id for _ in range(RESERVED + 2)]
    newcomers = [make_student(program=p).id for p in ("History", "Computer Science") * 20]
    db.session.commit()
    for sid in seated + waiting:
        enroll_job(sid, course_id)()
    later = NOW + timedelta(days=1, minutes=1)

    def tick():
        return periodic.release_reserved_seats(later).summary

    jobs = [enroll_job(sid, course_id, now=later) for sid in newcomers]
    for index in (0, 7, 15, 30):
        jobs.insert(index, tick)
    results = run_parallel(app, jobs)

    assert Status.ENROLLED not in results  # the released seats went to the waitlist
    final = counts(course_id)
    assert final[Status.ENROLLED] == CAPACITY
    promoted = set(db.session.scalars(select(Enrollment.student_id).where(
        Enrollment.course_id == course_id, Enrollment.status == Status.ENROLLED)))
    assert set(waiting[:RESERVED]) <= promoted  # in arrival order
    assert set(waiting[RESERVED:]).isdisjoint(promoted)
    [released_at] = db.session.scalars(select(Reservation.released_at))
    assert released_at == later
    promotions = db.session.scalar(select(func.count()).select_from(EnrollmentEvent).where(
        EnrollmentEvent.action == Action.PROMOTED))
    assert promotions == RESERVED  # released once, however many raced


def test_naive_count_then_insert_overbooks(app, database_url):
    """The same race without the lock (a plain engine, no immediate transactions, no FOR
    UPDATE): counting then inserting lets many requests see a free seat at once."""
    course = make_course(capacity=CAPACITY, waitlist_capacity=ATTEMPTS)
    ids = [make_student().id for _ in range(ATTEMPTS)]
    course_id = course.id
    db.session.commit()
    engine = sa.create_engine(database_url, pool_size=WORKERS + 4,
                              connect_args={"timeout": 30} if "sqlite" in database_url else {})
    barrier = threading.Barrier(WORKERS)
    enrollments = Enrollment.__table__

    def naive(student_id):
        try:
            barrier.wait(timeout=30)
        except threading.BrokenBarrierError:
            pass
        with engine.begin() as conn:
            taken = conn.scalar(select(func.count()).select_from(enrollments).where(
                enrollments.c.course_id == course_id, enrollments.c.status == "enrolled"))
            time.sleep(0.01)  # the request does other work between the check and the insert
            status = "enrolled" if taken < CAPACITY else "waitlisted"
            conn.execute(enrollments.insert().values(
                student_id=student_id, course_id=course_id, status=status,
                waitlist_seq=None if status == "enrolled" else student_id, source="self",
                created_at=NOW.replace(tzinfo=None), status_changed_at=NOW.replace(tzinfo=None),
                updated_at=NOW.replace(tzinfo=None)))

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(naive, ids))
    engine.dispose()
    assert counts(course_id)[Status.ENROLLED] > CAPACITY


def test_one_student_racing_into_two_courses_keeps_the_credit_limit(app):
    """Two requests of one student (two tabs) for two courses that together exceed the credit
    limit: each locks its own course, so the student's row is locked too, or both would pass
    the rule on a term load that does not show the other."""
    rounds = 8
    pairs = []
    term = make_term()
    for _ in range(rounds):
        student = make_student(max_credits=4)
        first, second = make_course(term=term, credits=3), make_course(term=term, credits=3)
        pairs.append((student.id, first.id, second.id))
    db.session.commit()
    jobs = [enroll_job(student_id, course_id)
            for student_id, first_id, second_id in pairs for course_id in (first_id, second_id)]
    results = run_parallel(app, jobs)
    for n in range(rounds):
        assert sorted(map(str, results[2 * n:2 * n + 2])) == ["credit_limit", "enrolled"], (
            results[2 * n:2 * n + 2])

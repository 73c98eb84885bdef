"""Capacity and waitlist order under real parallelism, on SQLite (a file) and PostgreSQL.

Each worker thread has its own app context, session and database connection. The naive
count-then-insert at the end is the same race without the course lock: it overbooks, which
shows that the main tests can fail.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Course, Enrollment, EnrollmentEvent, Status, Student
from enrollment.services import EnrollmentRefused
from tests.factories import NOW, make_course, make_student

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


def enroll_job(student_id, course_id):
    def job():
        with write_transaction(db.session):
            student = db.session.get(Student, student_id)
            course = db.session.get(Course, course_id)
            try:
                return services.enroll(student, course, actor=None, now=NOW).status
            except EnrollmentRefused as exc:
                return exc.code
    return job


def drop_job(student_id, course_id):
    def job():
        with write_transaction(db.session):
            student = db.session.get(Student, student_id)
            course = db.session.get(Course, course_id)
            return services.drop(student, course, actor=None, now=NOW).previous_status
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

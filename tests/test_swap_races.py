"""Swaps and enrolling together under real parallelism, on SQLite (a file) and PostgreSQL:
capacity holds, a swap is both or neither, and crossing swaps (A for B and B for A, with
their promotions dropping the other course) never deadlock. The naive swap at the end, without
the course locks, overbooks: the main tests can fail."""
from __future__ import annotations

import threading
import time
from datetime import time as clock

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Course, Enrollment, Status, Student, WaitlistSwap
from enrollment.services import EnrollmentRefused
from tests.factories import NOW, make_course, make_student, make_term
from tests.test_concurrency import WORKERS, counts, drop_job, enroll_job, run_parallel

pytestmark = [pytest.mark.sqlite_file, pytest.mark.slow,
              pytest.mark.config(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 24, "max_overflow": 8})]

SEATS = 6


def swap_job(student_id, course_id, give_up_id):
    def job():
        with write_transaction(db.session):
            student = db.session.get(Student, student_id)
            try:
                return services.swap(student, course_id, give_up_id, actor=None,
                                     now=NOW).link.status
            except EnrollmentRefused as exc:
                return exc.code
    return job


def together_job(student_id, course_ids):
    def job():
        with write_transaction(db.session):
            student = db.session.get(Student, student_id)
            try:
                courses = services.together_courses(course_ids[0], course_ids[1:])
                return [link.status for link in services.enroll_together(
                    student, courses, actor=None, now=NOW)]
            except EnrollmentRefused as exc:
                return exc.code
    return job


def held(student_ids) -> dict[int, dict[int, Status]]:
    db.session.rollback()
    found: dict[int, dict[int, Status]] = {sid: {} for sid in student_ids}
    for link in db.session.scalars(select(Enrollment).where(
            Enrollment.student_id.in_(student_ids))):
        found[link.student_id][link.course_id] = link.status
    return found


def test_parallel_swaps_and_enrolls_never_overbook_and_are_both_or_neither(app):
    term = make_term()
    old = make_course(term=term, code="OLD1", capacity=200, waitlist_capacity=0)
    new = make_course(term=term, code="NEW1", capacity=SEATS, waitlist_capacity=200)
    swappers = [make_student() for _ in range(40)]
    direct = [make_student() for _ in range(24)]
    db.session.commit()
    for s in swappers:
        enroll_job(s.id, old.id)()
    jobs = [swap_job(s.id, new.id, old.id) for s in swappers]
    jobs += [enroll_job(s.id, new.id) for s in direct]
    results = run_parallel(app, jobs)
    assert results.count(Status.ENROLLED) == SEATS
    assert counts(new.id)[Status.ENROLLED] == SEATS
    for sid, mine in held([s.id for s in swappers]).items():
        # Seated in NEW1 and OLD1 gone, or waiting for NEW1 with OLD1 kept: never both seats.
        assert mine in ({new.id: Status.ENROLLED},
                        {old.id: Status.ENROLLED, new.id: Status.WAITLISTED}), (sid, mine)
    waiting_swaps = db.session.scalar(select(func.count()).select_from(WaitlistSwap))
    assert waiting_swaps == sum(1 for s in swappers if held([s.id])[s.id].get(new.id)
                                == Status.WAITLISTED)
    # Seats freed in parallel promote the swappers (dropping OLD1 with them) and the others.
    seated = [sid for sid, mine in held([s.id for s in swappers + direct]).items()
              if mine.get(new.id) == Status.ENROLLED]
    run_parallel(app, [drop_job(sid, new.id) for sid in seated])
    assert counts(new.id)[Status.ENROLLED] == SEATS
    for sid, mine in held([s.id for s in swappers]).items():
        assert mine in ({}, {new.id: Status.ENROLLED},
                        {old.id: Status.ENROLLED, new.id: Status.WAITLISTED}), (sid, mine)
    db.session.rollback()
    assert all(link_swap.drop_course_id == old.id for link_swap in db.session.scalars(
        select(WaitlistSwap)))


def test_crossing_swaps_and_their_promotions_never_deadlock(app):
    """Students of A swap into B and students of B into A, both full, while seats free up in
    both: promotions drop the other course (locks out of id order are never waited for)."""
    term = make_term()
    a = make_course(term=term, code="AAA1", capacity=SEATS, waitlist_capacity=100,
                    days="MWF", start_time=clock(9), end_time=clock(10))
    b = make_course(term=term, code="BBB1", capacity=SEATS, waitlist_capacity=100,
                    days="MWF", start_time=clock(9), end_time=clock(10))
    in_a = [make_student() for _ in range(SEATS)]
    in_b = [make_student() for _ in range(SEATS)]
    db.session.commit()
    for s in in_a:
        enroll_job(s.id, a.id)()
    for s in in_b:
        enroll_job(s.id, b.id)()
    # Every one waits for the other course with a swap attached.
    run_parallel(app, [swap_job(s.id, b.id, a.id) for s in in_a]
                 + [swap_job(s.id, a.id, b.id) for s in in_b])
    before = held([s.id for s in in_a + in_b])
    assert all(len(mine) == 2 for mine in before.values())
    # Raising both capacities in parallel with drops: promotions cross in both directions.
    def raise_job(course_id):
        def job():
            with write_transaction(db.session):
                return len(services.set_capacity(db.session.get(Course, course_id), SEATS + 2,
                                                 actor=None, now=NOW).promoted)
        return job
    jobs = [raise_job(a.id), raise_job(b.id)]
    jobs += [drop_job(s.id, a.id) for s in in_a[:2]] + [drop_job(s.id, b.id) for s in in_b[:2]]
    results = run_parallel(app, jobs)
    assert len(results) == len(jobs)  # every request finished: none deadlocked
    for course in (a, b):
        assert counts(course.id).get(Status.ENROLLED, 0) <= SEATS + 2
    for sid, mine in held([s.id for s in in_a + in_b]).items():
        seats = [c for c, status in mine.items() if status == Status.ENROLLED]
        assert len(seats) <= 1, (sid, mine)  # a swap never leaves both seats


def test_parallel_enrolls_together_never_overbook_either_course(app):
    term = make_term()
    lab = make_course(term=term, code="LAB1", capacity=SEATS, waitlist_capacity=50)
    lecture = make_course(term=term, code="LEC1", capacity=3 * SEATS, waitlist_capacity=50,
                          corequisites=[lab])
    students = [make_student() for _ in range(3 * WORKERS)]
    db.session.commit()
    results = run_parallel(app, [together_job(s.id, [lecture.id, lab.id]) for s in students])
    assert results.count([Status.ENROLLED, Status.ENROLLED]) == SEATS
    assert results.count("course_full") == len(students) - SEATS
    assert counts(lab.id) == {Status.ENROLLED: SEATS}
    assert counts(lecture.id) == {Status.ENROLLED: SEATS}


def test_naive_swap_overbooks(app, database_url):
    """The same swap without the locks (a plain engine, no immediate transactions, no FOR
    UPDATE): counting, inserting and deleting lets many swappers see the one free seat."""
    term = make_term()
    old = make_course(term=term, code="OLD1", capacity=200, waitlist_capacity=0)
    new = make_course(term=term, code="NEW1", capacity=1, waitlist_capacity=200)
    ids = [make_student().id for _ in range(WORKERS)]
    old_id, new_id = old.id, new.id
    db.session.commit()
    for sid in ids:
        enroll_job(sid, old_id)()
    engine = sa.create_engine(database_url, pool_size=WORKERS + 4,
                              connect_args={"timeout": 30} if "sqlite" in database_url else {})
    barrier = threading.Barrier(WORKERS)
    enrollments = Enrollment.__table__

    def naive(student_id):
        barrier.wait(timeout=30)
        with engine.begin() as conn:
            taken = conn.scalar(select(func.count()).select_from(enrollments).where(
                enrollments.c.course_id == new_id, enrollments.c.status == "enrolled"))
            time.sleep(0.01)
            if taken >= 1:
                return
            conn.execute(enrollments.insert().values(
                student_id=student_id, course_id=new_id, status="enrolled", source="self",
                created_at=NOW.replace(tzinfo=None), status_changed_at=NOW.replace(tzinfo=None),
                updated_at=NOW.replace(tzinfo=None)))
            conn.execute(enrollments.delete().where(enrollments.c.student_id == student_id,
                                                    enrollments.c.course_id == old_id))

    threads = [threading.Thread(target=naive, args=(sid,)) for sid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert counts(new_id)[Status.ENROLLED] > 1

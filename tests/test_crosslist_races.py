"""Cross-listed sections under real parallelism, on SQLite (a file) and PostgreSQL: enrolling
through both codes at once never overbooks the pool or a section, and the group's line keeps
arrival order. The naive count at the end, without the group lock, overbooks the pool."""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Enrollment, Status
from enrollment.services.crosslists import set_group
from tests.factories import NOW, make_course, make_student, make_term
from tests.test_concurrency import WORKERS, counts, enroll_job, run_parallel
from tests.test_swap_races import drop_job

pytestmark = [pytest.mark.sqlite_file, pytest.mark.slow,
              pytest.mark.config(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 24, "max_overflow": 8})]

POOL, SECTION = 8, 6  # each section could take 6, the group only 8


def make_group():
    term = make_term()
    hist = make_course(term=term, code="HIST200", capacity=SECTION, waitlist_capacity=200)
    anth = make_course(term=term, code="ANTH200", capacity=SECTION, waitlist_capacity=200)
    with write_transaction(db.session):
        set_group(term, "HA", POOL, [hist, anth], actor=None, now=NOW)
    return hist.id, anth.id


def test_enrolling_through_both_codes_at_once_never_overbooks(app):
    hist, anth = make_group()
    students = [make_student().id for _ in range(4 * WORKERS)]
    db.session.commit()
    jobs = [enroll_job(sid, hist if n % 2 else anth) for n, sid in enumerate(students)]
    results = run_parallel(app, jobs)
    assert results.count(Status.ENROLLED) == POOL
    seated = [counts(c).get(Status.ENROLLED, 0) for c in (hist, anth)]
    assert sum(seated) == POOL and max(seated) <= SECTION
    # One line across the group: waitlist numbers are the group's, each used once.
    seqs = sorted(db.session.scalars(select(Enrollment.waitlist_seq).where(
        Enrollment.course_id.in_([hist, anth]), Enrollment.status == Status.WAITLISTED)))
    assert seqs == list(range(1, len(students) - POOL + 1))
    # Drops through both codes at once: freed seats go to the line, the pool still holds.
    leavers = list(db.session.scalars(select(Enrollment.student_id).where(
        Enrollment.course_id.in_([hist, anth]), Enrollment.status == Status.ENROLLED)))
    by_course = dict(db.session.execute(select(Enrollment.student_id, Enrollment.course_id)
                                        .where(Enrollment.student_id.in_(leavers))).all())
    run_parallel(app, [drop_job(sid, by_course[sid]) for sid in leavers[:4]])
    seated = [counts(c).get(Status.ENROLLED, 0) for c in (hist, anth)]
    assert sum(seated) == POOL and max(seated) <= SECTION


def test_naive_pool_count_overbooks(app, database_url):
    """The same race counting the group's seats without the lock: the pool overbooks."""
    hist, anth = make_group()
    ids = [make_student().id for _ in range(WORKERS)]
    db.session.commit()
    engine = sa.create_engine(database_url, pool_size=WORKERS + 4,
                              connect_args={"timeout": 30} if "sqlite" in database_url else {})
    barrier = threading.Barrier(WORKERS)
    enrollments = Enrollment.__table__

    def naive(n, student_id):
        barrier.wait(timeout=30)
        with engine.begin() as conn:
            taken = conn.scalar(select(func.count()).select_from(enrollments).where(
                enrollments.c.course_id.in_([hist, anth]), enrollments.c.status == "enrolled"))
            time.sleep(0.01)
            if taken < POOL:
                conn.execute(enrollments.insert().values(
                    student_id=student_id, course_id=hist if n % 2 else anth,
                    status="enrolled", source="self", created_at=NOW.replace(tzinfo=None),
                    status_changed_at=NOW.replace(tzinfo=None),
                    updated_at=NOW.replace(tzinfo=None)))

    threads = [threading.Thread(target=naive, args=(n, sid)) for n, sid in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert sum(counts(c).get(Status.ENROLLED, 0) for c in (hist, anth)) > POOL

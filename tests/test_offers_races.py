"""Offers under real parallelism, on SQLite (a file) and PostgreSQL: accepts, declines,
expiries, drops and new enrolls racing never lose or double a seat, and the audit trail
equals the table. Each worker thread has its own app context, session and connection
(`test_concurrency.run_parallel`)."""
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
    Status,
    Student,
    WaitlistMode,
)
from enrollment.services import EnrollmentRefused, periodic
from tests.factories import NOW, make_course, make_student, make_term
from tests.test_concurrency import counts, enroll_job, run_parallel, waitlist_seqs

pytestmark = [pytest.mark.sqlite_file, pytest.mark.slow,
              pytest.mark.config(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 24, "max_overflow": 8})]

CAPACITY = 8
LATER = NOW + timedelta(hours=2)  # past every offer made at NOW (offer_hours 1)


def offer_course(capacity=CAPACITY, waitlist_capacity=200):
    term = make_term(waitlist_mode=WaitlistMode.OFFER, offer_hours=1)
    return make_course(term=term, capacity=capacity, waitlist_capacity=waitlist_capacity)


def _student_course(student_id, course_id):
    return db.session.get(Student, student_id), db.session.get(Course, course_id)


def offer_job(action, student_id, course_id, now=NOW):
    """Accept or decline (or drop) as the student; the result's code or what it did."""
    def job():
        with write_transaction(db.session):
            student, course = _student_course(student_id, course_id)
            try:
                if action == "drop":
                    return services.drop(student, course, actor=None,
                                         now=now).previous_status
                fn = services.accept_offer if action == "accept" else services.decline_offer
                outcome = fn(student, course, actor=student.user, now=now)
                return "expired" if outcome.expired else action
            except EnrollmentRefused as exc:
                return exc.code
    return job


def tick(now):
    def job():
        return periodic.settle_expired_offers(now).summary
    return job


def assert_consistent(course_id, capacity=CAPACITY):
    """Capacity never exceeded, no seat lost while someone waits, the waitlist numbered
    once each, and replaying the audit trail gives the table."""
    final = counts(course_id)
    taken = final.get(Status.ENROLLED, 0) + final.get(Status.OFFERED, 0)
    assert taken <= capacity, final
    if final.get(Status.WAITLISTED):
        assert taken == capacity, final  # every free seat went to someone waiting
    seqs = waitlist_seqs(course_id)
    assert len(seqs) == len(set(seqs))
    replayed = {}
    for e in db.session.scalars(select(EnrollmentEvent)
                                .where(EnrollmentEvent.course_id == course_id)
                                .order_by(EnrollmentEvent.id)):
        assert replayed.get(e.student_id) == e.status_before, (e, e.reason)
        replayed[e.student_id] = e.status_after
    table = dict(db.session.execute(select(Enrollment.student_id, Enrollment.status)
                                    .where(Enrollment.course_id == course_id)).all())
    assert {k: v for k, v in replayed.items() if v is not None} == table
    # Every offer made is accepted, declined, expired or still held: none lost, none twice.
    actions = dict(db.session.execute(
        select(EnrollmentEvent.action, func.count())
        .where(EnrollmentEvent.course_id == course_id).group_by(EnrollmentEvent.action)).all())
    settled = sum(actions.get(a, 0) for a in (Action.OFFER_ACCEPTED, Action.OFFER_DECLINED,
                                              Action.OFFER_EXPIRED))
    assert actions.get(Action.OFFERED, 0) == settled + final.get(Status.OFFERED, 0), actions
    return final


def test_accepts_declines_drops_enrolls_and_expiries_racing(app):
    course = offer_course()
    course_id = course.id
    seated = [make_student().id for _ in range(CAPACITY)]
    waiting = [make_student().id for _ in range(24)]
    newcomers = [make_student().id for _ in range(16)]
    db.session.commit()
    for sid in seated + waiting:
        enroll_job(sid, course_id)()

    jobs = [offer_job("drop", sid, course_id) for sid in seated]
    jobs += [offer_job("accept", sid, course_id) for sid in waiting[:8]]
    jobs += [offer_job("decline", sid, course_id) for sid in waiting[8:12]]
    jobs += [enroll_job(sid, course_id) for sid in newcomers[:8]]
    jobs += [enroll_job(sid, course_id, now=LATER) for sid in newcomers[8:]]
    jobs += [offer_job("accept", sid, course_id, now=LATER) for sid in waiting[12:16]]
    for index in (3, 11, 20, 33):
        jobs.insert(index, tick(LATER))
    results = run_parallel(app, jobs)

    assert results.count(Status.ENROLLED) == CAPACITY  # every drop went through
    allowed = {Status.ENROLLED, Status.WAITLISTED, "accept", "decline", "expired", "not_offered"}
    assert all(r in allowed or "expired offer" in str(r) for r in results), results
    run_parallel(app, [tick(LATER)])  # whatever expired and is still held is settled
    final = assert_consistent(course_id)
    accepted = db.session.scalar(select(func.count()).select_from(EnrollmentEvent).where(
        EnrollmentEvent.course_id == course_id, EnrollmentEvent.action == Action.OFFER_ACCEPTED))
    assert accepted == results.count("accept")
    assert final.get(Status.ENROLLED, 0) == accepted  # the seated ones all dropped


def test_a_double_accept_enrolls_once(app):
    course = offer_course(capacity=1)
    course_id = course.id
    seated, waiting = make_student().id, make_student().id
    db.session.commit()
    enroll_job(seated, course_id)()
    enroll_job(waiting, course_id)()
    offer_job("drop", seated, course_id)()

    results = run_parallel(app, [offer_job("accept", waiting, course_id) for _ in range(12)])

    assert results.count("accept") == 1 and set(results) == {"accept", "not_offered"}
    assert counts(course_id) == {Status.ENROLLED: 1}
    assert_consistent(course_id, capacity=1)


def test_accepts_racing_with_the_expiry(app):
    """At the expiry, accepts (a minute late) and ticks race: each offer is either accepted
    (before expiry would be refused as late) or expired, never both, never a seat twice."""
    course = offer_course()
    course_id = course.id
    seated = [make_student().id for _ in range(CAPACITY)]
    waiting = [make_student().id for _ in range(CAPACITY * 2)]
    db.session.commit()
    for sid in seated + waiting:
        enroll_job(sid, course_id)()
    for sid in seated:
        offer_job("drop", sid, course_id)()
    expiry = NOW + timedelta(hours=1)
    early, late = expiry - timedelta(minutes=1), expiry + timedelta(minutes=1)

    jobs = [offer_job("accept", sid, course_id, now=early) for sid in waiting[:4]]
    jobs += [offer_job("accept", sid, course_id, now=late) for sid in waiting[4:CAPACITY]]
    jobs += [tick(late) for _ in range(6)]
    jobs += [offer_job("accept", sid, course_id, now=late) for sid in waiting[CAPACITY:]]
    results = run_parallel(app, jobs)

    assert "expired" not in results[:4]  # an accept before the expiry is never refused as late
    final = assert_consistent(course_id)
    events = dict(db.session.execute(
        select(EnrollmentEvent.action, func.count()).where(
            EnrollmentEvent.course_id == course_id,
            EnrollmentEvent.action.in_([Action.OFFER_ACCEPTED, Action.OFFER_EXPIRED]))
        .group_by(EnrollmentEvent.action)).all())
    assert events.get(Action.OFFER_ACCEPTED, 0) == final.get(Status.ENROLLED, 0)
    assert events.get(Action.OFFER_ACCEPTED, 0) == results.count("accept")
    # The first eight offers were each accepted in time or expired: never both.
    first = set(waiting[:CAPACITY])
    resolved = list(db.session.scalars(select(EnrollmentEvent.student_id).where(
        EnrollmentEvent.course_id == course_id, EnrollmentEvent.student_id.in_(first),
        EnrollmentEvent.action.in_([Action.OFFER_ACCEPTED, Action.OFFER_EXPIRED]))))
    assert sorted(resolved) == sorted(first)


def test_naive_decline_then_offer_loses_seats(app, database_url):
    """The control: the same declines without the lock (a plain engine, no immediate
    transactions, no FOR UPDATE). Each looks up the head of the waitlist, then gives its seat
    to it: several give theirs to the same student, and seats are lost while people wait,
    which the checks above would catch."""
    course = offer_course()
    course_id = course.id
    seated = [make_student().id for _ in range(CAPACITY)]
    waiting = [make_student().id for _ in range(CAPACITY * 2)]
    db.session.commit()
    for sid in seated + waiting:
        enroll_job(sid, course_id)()
    for sid in seated:
        offer_job("drop", sid, course_id)()
    offered = waiting[:CAPACITY]
    engine = sa.create_engine(database_url, pool_size=CAPACITY + 4,
                              connect_args={"timeout": 30} if "sqlite" in database_url else {})
    barrier = threading.Barrier(CAPACITY)
    links = Enrollment.__table__

    def naive(student_id):
        barrier.wait(timeout=30)
        with engine.begin() as conn:
            head = conn.scalar(select(links.c.student_id).where(
                links.c.course_id == course_id, links.c.status == "waitlisted")
                .order_by(links.c.waitlist_seq).limit(1))
            time.sleep(0.01)  # the request does other work between the read and the writes
            conn.execute(links.delete().where(links.c.course_id == course_id,
                                              links.c.student_id == student_id))
            conn.execute(links.update().where(links.c.course_id == course_id,
                                              links.c.student_id == head)
                         .values(status="offered", waitlist_seq=None,
                                 offer_expires_at=LATER.replace(tzinfo=None)))

    with ThreadPoolExecutor(max_workers=CAPACITY) as pool:
        list(pool.map(naive, offered))
    engine.dispose()
    final = counts(course_id)
    assert final[Status.WAITLISTED] > 0 and final[Status.OFFERED] < CAPACITY  # seats lost

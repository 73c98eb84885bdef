"""The periodic jobs: work that falls due with time rather than with a request.

Each job is also done by the next change to the course it concerns (under that course's
lock), so the system is correct with no scheduler running; `flask tick` runs every job once
(cron-friendly). A job runs each course in its own short transaction.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..database import write_transaction
from ..extensions import db
from ..models import Enrollment, Status
from .locking import lock_course
from .reservations import courses_due
from .waitlist import fill_from_waitlist


@dataclass(frozen=True)
class JobReport:
    name: str
    summary: str


def release_reserved_seats(now: datetime) -> JobReport:
    """Open the reserved seats whose release time has passed and promote the waitlists into
    them (what `waitlist.fill_from_waitlist` does under each course's lock)."""
    courses = promoted = 0
    for course_id in courses_due(now):
        with write_transaction(db.session):
            try:
                course = lock_course(course_id)
            except LookupError:  # deleted meanwhile
                continue
            result = fill_from_waitlist(course, actor=None, now=now,
                                        reason="Reserved seats were released.")
        courses += 1
        promoted += len(result.promoted)
    return JobReport("release reserved seats",
                     f"{courses} course{'' if courses == 1 else 's'}, "
                     f"{promoted} promoted from the waitlist")


def courses_with_expired_offers(now: datetime) -> list[int]:
    """Ids of the courses holding an offer past its expiry at `now` (one query)."""
    return list(db.session.scalars(
        select(Enrollment.course_id).distinct()
        .where(Enrollment.status == Status.OFFERED, Enrollment.offer_expires_at <= now)
        .order_by(Enrollment.course_id)))


def settle_expired_offers(now: datetime) -> JobReport:
    """Remove the offers past their expiry and offer their seats to the next students (what
    `waitlist.fill_from_waitlist` does under each course's lock)."""
    expired = offered = promoted = 0
    course_ids = courses_with_expired_offers(now)
    for course_id in course_ids:
        with write_transaction(db.session):
            try:
                course = lock_course(course_id)
            except LookupError:  # deleted meanwhile
                continue
            result = fill_from_waitlist(course, actor=None, now=now)
        expired += len(result.expired)
        offered += len(result.offered)
        promoted += len(result.promoted)
    return JobReport("settle expired offers",
                     f"{expired} expired offer{'' if expired == 1 else 's'}, "
                     f"{offered} new offer{'' if offered == 1 else 's'}, {promoted} promoted")


def deliver_outbox(now: datetime) -> JobReport:
    """Fan out the pending events and send the mail and webhook calls that are due (last,
    so that what the other jobs changed is delivered in the same round)."""
    from . import outbox

    return JobReport("deliver notifications and webhooks", outbox.deliver_due(now).summary())


# The registry: `flask tick` runs these in order (`flask worker`: each every minute).
JOBS: tuple[Callable[[datetime], JobReport], ...] = (settle_expired_offers,
                                                     release_reserved_seats, deliver_outbox)


def run_all(now: datetime) -> list[JobReport]:
    return [job(now) for job in JOBS]

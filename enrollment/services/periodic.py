"""The periodic jobs: work that falls due with time rather than with a request.

Each job is also done by the next change to the course it concerns (under that course's
lock), so the system is correct with no scheduler running; `flask tick` runs every job once
(cron-friendly). A job runs each course in its own short transaction.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..database import write_transaction
from ..extensions import db
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


# The registry: `flask tick` runs these in order.
JOBS: tuple[Callable[[datetime], JobReport], ...] = (release_reserved_seats,)


def run_all(now: datetime) -> list[JobReport]:
    return [job(now) for job in JOBS]

"""Seat counts and waitlist positions, each in one query for any number of courses."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, case, func, select

from ..extensions import db
from ..models import Enrollment, Status


@dataclass(frozen=True)
class SeatCount:
    """A course's taken seats and waitlist; the one place that compares them with capacity."""

    enrolled: int = 0
    waitlisted: int = 0
    last_waitlist_seq: int = 0

    def free_seats(self, course) -> int:
        """Seats left in `course` (0 when it is at or past its capacity)."""
        return max(course.capacity - self.enrolled, 0)

    def has_seat(self, course) -> bool:
        return self.enrolled < course.capacity

    def waitlist_has_room(self, course) -> bool:
        return self.waitlisted < course.waitlist_capacity

    def after(self, status) -> SeatCount:
        """The count once one more link of `status` (enrolled or waitlisted) is added."""
        if status == Status.ENROLLED:
            return replace(self, enrolled=self.enrolled + 1)
        return replace(self, waitlisted=self.waitlisted + 1,
                       last_waitlist_seq=self.last_waitlist_seq + 1)


def links_in(status: Status):
    """SQL aggregate: how many of the grouped `enrollments` rows have `status`.

    The one way a status is counted: the seat counts below, the catalog (through them), the
    reports and the admin dashboard (through `STATUS_COUNTS`) all use it.
    """
    return func.count(case((Enrollment.status == status, 1)))


# Links enrolled, waitlisted and completed per course: a subquery to outer-join on
# `course_id`. A course without links has no row here (read its counts through coalesce).
STATUS_COUNTS = (
    select(
        Enrollment.course_id.label("course_id"),
        links_in(Status.ENROLLED).label("enrolled"),
        links_in(Status.WAITLISTED).label("waitlisted"),
        links_in(Status.COMPLETED).label("completed"),
    )
    .group_by(Enrollment.course_id)
    .subquery("status_counts")
)


# Built once: these run on every enrollment change, and building a statement costs more
# than running it on a small table.
_SEAT_COUNTS = (
    select(
        Enrollment.course_id,
        links_in(Status.ENROLLED),
        links_in(Status.WAITLISTED),
        func.coalesce(func.max(Enrollment.waitlist_seq), 0),
    )
    .where(Enrollment.course_id.in_(bindparam("ids", expanding=True)),
           Enrollment.status != Status.COMPLETED)
    .group_by(Enrollment.course_id)
)


def seat_counts(course_ids: Iterable[int]) -> dict[int, SeatCount]:
    """Enrolled and waitlisted counts per course (missing courses count zero)."""
    ids = list(set(course_ids))
    if not ids:
        return {}
    rows = db.session.execute(_SEAT_COUNTS, {"ids": ids})
    counts = {course_id: SeatCount() for course_id in ids}
    for course_id, enrolled, waitlisted, last_seq in rows:
        counts[course_id] = SeatCount(enrolled, waitlisted, last_seq)
    return counts


def seat_count(course_id: int) -> SeatCount:
    return seat_counts([course_id])[course_id]


def waitlist_positions(course_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    """{(student_id, course_id): 1-based position} for everyone waitlisted in the courses."""
    ids = list(set(course_ids))
    if not ids:
        return {}
    position = func.row_number().over(
        partition_by=Enrollment.course_id, order_by=Enrollment.waitlist_seq
    )
    rows = db.session.execute(
        select(Enrollment.student_id, Enrollment.course_id, position)
        .where(Enrollment.course_id.in_(ids), Enrollment.status == Status.WAITLISTED)
    )
    return {(student_id, course_id): pos for student_id, course_id, pos in rows}


def waitlist_position(enrollment: Enrollment) -> int | None:
    """The 1-based waitlist position of one link, or None when it is not waitlisted."""
    if enrollment.status != Status.WAITLISTED:
        return None
    return db.session.scalar(
        select(func.count()).select_from(Enrollment).where(
            Enrollment.course_id == enrollment.course_id,
            Enrollment.status == Status.WAITLISTED,
            Enrollment.waitlist_seq <= enrollment.waitlist_seq,
        )
    )

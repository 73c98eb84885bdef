"""Reserved seats: keeping part of a course's capacity for a program (set, change, remove).

How reserved seats are counted is `counts.SeatCount`'s; who takes a seat that opens, and the
release at the release time, are the waitlist's (`waitlist.fill_from_waitlist`, under the
course lock). `flask tick` releases what is due in courses nobody has touched (`periodic`).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Course, Reservation, User, program_key
from .errors import EnrollmentRefused
from .locking import lock_course, lock_courses
from .waitlist import fill_from_waitlist


def courses_due(now: datetime) -> list[int]:
    """Ids of the courses with reserved seats due for release, in id order."""
    return list(db.session.scalars(
        select(Reservation.course_id).distinct()
        .where(Reservation.released_at.is_(None), Reservation.release_at <= now)
        .order_by(Reservation.course_id)))


def reserved_total(course_id: int) -> int:
    """Seats the course reserves, over all its reservations."""
    return sum(r.seats for r in _of_course(course_id))


def _of_course(course_id: int) -> list[Reservation]:
    return list(db.session.scalars(select(Reservation)
                                   .where(Reservation.course_id == course_id)))


def over_capacity_message(course: Course, seats: int, others: int, *,
                          capacity: int | None = None) -> str | None:
    """The one wording of "reservations cannot exceed the capacity" (imports, the admin, a
    capacity change); `capacity` defaults to the course's."""
    capacity = course.capacity if capacity is None else capacity
    if seats + others <= capacity:
        return None
    other = f" with the {others} reserved for other programs" if others else ""
    return (f"{seats} reserved seats{other} would exceed the capacity of {course.code} "
            f"({capacity}).")


RESERVATION_CHANGED = "Reserved seats changed."


def set_reservation(course: Course, program: str, seats: int, release_at: datetime, *,
                    actor: User | None, now: datetime,
                    reservation: Reservation | None = None, new: bool = False) -> Reservation:
    """Add the program's reservation in the course, or update the one it has (or, given,
    `reservation`, which may move to this course and program; with `new`, a reservation the
    course already has for the program is refused instead of updated); flushes.

    Locks the course (and the course a moved reservation leaves). The course's reservations
    together cannot exceed its capacity. A release time moved into the future reserves the
    seats again; seats that open go to the waitlist at once. Must run inside
    `write_transaction`.
    """
    program = program.strip()
    if seats < 0:
        raise EnrollmentRefused.single("invalid_seats", "Reserved seats cannot be negative.")
    left = reservation.course_id if reservation is not None else course.id
    locked = lock_courses(course.id, left)
    course = locked[course.id]
    held = _of_course(course.id)
    current = next((r for r in held if program_key(r.program) == program_key(program)), None)
    if current is not None and (new or (reservation is not None
                                        and current.id != reservation.id)):
        raise EnrollmentRefused.single(
            "reservation_exists", f"Already exists: {course.code} already reserves seats for "
                                  f"{current.program}; edit that reservation instead.")
    moving, reservation = reservation is not None, reservation or current
    # The seats of the course's other reservations (a moved one's own seats excluded).
    others = sum(r.seats for r in held if r is not reservation
                 and program_key(r.program) != program_key(program))
    error = over_capacity_message(course, seats, others)
    if error:
        raise EnrollmentRefused.single("reserved_over_capacity", error)
    if reservation is None:
        reservation = Reservation(course_id=course.id, program=program)
        db.session.add(reservation)
    elif moving:  # a new course or spelling of the program (found by key, it keeps its own)
        reservation.course_id, reservation.program = course.id, program
    reservation.seats, reservation.release_at = seats, release_at
    if release_at > now:
        reservation.released_at = None
    db.session.flush()
    for touched in locked.values():
        fill_from_waitlist(touched, actor=actor, now=now, reason=RESERVATION_CHANGED)
    return reservation


def remove_reservation(reservation: Reservation, *, actor: User | None, now: datetime) -> None:
    """Delete a reservation; its unused seats go to the waitlist at once."""
    course = lock_course(reservation.course_id)
    db.session.delete(reservation)
    db.session.flush()
    fill_from_waitlist(course, actor=actor, now=now, reason=RESERVATION_CHANGED)

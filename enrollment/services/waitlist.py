"""The waitlist: arrival order, and promotion into freed seats (first come, first served).

In a term in offer mode (`Term.waitlist_mode`) a freed seat is offered instead: it is held
for the first eligible waitlisted student (`offered`) until `offer_expires_at`; an offer past
its expiry is settled here, by the next change to the course (under its lock), and by
`flask tick` (`periodic.settle_expired_offers`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from ..clock import wall_clock
from ..extensions import db
from ..models import (
    Action,
    Course,
    Enrollment,
    Reservation,
    Status,
    Student,
    User,
    WaitlistMode,
)
from . import audit
from .counts import SeatCount, seat_count
from .eligibility import promotion_refusals
from .errors import Refusal
from .facts import term_loads
from .holds import blocking_holds

_MARK_RELEASED = (
    update(Reservation)
    .where(Reservation.course_id == bindparam("course"), Reservation.released_at.is_(None),
           Reservation.release_at <= bindparam("moment"))
    .values(released_at=bindparam("moment"))
    .execution_options(synchronize_session=False)
)


def _mark_released(course_id: int, now: datetime) -> None:
    """Record that the course's reservations past their release time are released."""
    db.session.execute(_MARK_RELEASED, {"course": course_id, "moment": now})


@dataclass
class Promotions:
    promoted: list[Enrollment] = field(default_factory=list)
    skipped: list[tuple[Student, Refusal]] = field(default_factory=list)
    offered: list[Enrollment] = field(default_factory=list)  # seats held (offer mode)
    expired: list[Enrollment] = field(default_factory=list)  # offers settled as expired

    @property
    def seated(self) -> int:
        """How many waitlisted students got the freed seats (promoted or offered)."""
        return len(self.promoted) + len(self.offered)


_EXPIRED_OFFERS = (
    select(Enrollment)
    .options(joinedload(Enrollment.student).joinedload(Student.user))
    .where(Enrollment.course_id == bindparam("course"), Enrollment.status == Status.OFFERED,
           Enrollment.offer_expires_at <= bindparam("moment"))
    .order_by(Enrollment.offer_expires_at, Enrollment.student_id)
)


def expire_offer(link: Enrollment, course: Course, *, now: datetime) -> None:
    """Remove an offered link past its expiry, with its `offer_expired` event (no actor: time
    did it). The student may join the waitlist again, at the end of the line."""
    db.session.delete(link)
    audit.record(Action.OFFER_EXPIRED, link.student, course, actor=None, now=now,
                 before=Status.OFFERED, after=None,
                 reason=f"The offered seat was not accepted by "
                        f"{wall_clock(link.offer_expires_at)}.")


def settle_expired_offers(course: Course, *, now: datetime) -> list[Enrollment]:
    """Remove the course's offers past their expiry (the course must be locked); their seats
    are free again for `fill_from_waitlist`."""
    expired = list(db.session.scalars(_EXPIRED_OFFERS, {"course": course.id, "moment": now}))
    for link in expired:
        expire_offer(link, course, now=now)
    if expired:
        db.session.flush()
    return expired


def offer_expiry(course: Course, now: datetime) -> datetime:
    """When an offer made now in the course expires: `offer_hours` of its term from now."""
    return now + timedelta(hours=course.term.offer_hours)


def fill_from_waitlist(course: Course, *, actor: User | None, now: datetime,
                       reason: str = "") -> Promotions:
    """Move waitlisted students into the course's free seats, in arrival order (in a term in
    offer mode: offer them the seats, held until `offer_hours` from now).

    The course must be locked by the caller. Offers past their expiry are settled and reserved
    seats whose release time has passed are released here (this is "the next change to the
    course"). A seat still reserved for a program goes to the first waitlisted member of it;
    the others keep their place. A student who now has a conflict or would exceed the credit
    limit stays waitlisted and the skip is recorded as a `refused` event. Runs a fixed number
    of queries however long the waitlist is.
    """
    result = Promotions()
    seats = seat_count(course.id, now=now)
    if seats.offer_due:
        result.expired = settle_expired_offers(course, now=now)
        seats = seat_count(course.id, now=now)
        reason = reason or "An offered seat was not accepted in time."
    if seats.release_due:
        _mark_released(course.id, now)
        reason = reason or "Reserved seats were released."
    if seats.untaken(course) <= 0 or seats.waitlisted == 0:
        return result
    waiting = db.session.scalars(
        select(Enrollment)
        .options(joinedload(Enrollment.student).joinedload(Student.user))
        .where(Enrollment.course_id == course.id, Enrollment.status == Status.WAITLISTED)
        .order_by(Enrollment.waitlist_seq)
    ).all()
    if not waiting:
        return result
    loads = term_loads([e.student_id for e in waiting], course.term_id, excluding=course.id)
    holds = blocking_holds(loads)
    offering = course.term.waitlist_mode == WaitlistMode.OFFER
    for link in waiting:
        if seats.untaken(course) <= 0:
            break
        if not seats.has_seat(course, link.student.program):
            continue  # what is left is reserved for another program: they keep their place
        refusals = promotion_refusals(link.student, course, loads[link.student_id], now=now,
                                      holds=holds[link.student_id])
        if refusals:
            refusal = refusals[0]
            result.skipped.append((link.student, refusal))
            audit.record(Action.REFUSED, link.student, course, actor=actor, now=now,
                         before=Status.WAITLISTED, after=Status.WAITLISTED,
                         reason=f"Skipped for {'an offer' if offering else 'promotion'}: "
                                f"{refusal.message}")
            continue
        if offering:
            expires = offer_expiry(course, now)
            set_status(link, Status.OFFERED, now, offer_expires_at=expires)
            audit.record(Action.OFFERED, link.student, course, actor=actor, now=now,
                         before=Status.WAITLISTED, after=Status.OFFERED,
                         reason=" ".join(part for part in (
                             reason or "A seat became free.",
                             f"Held until {wall_clock(expires)}.") if part))
            result.offered.append(link)
            seats = seats.after(Status.OFFERED, link.student.program)
            continue
        set_status(link, Status.ENROLLED, now)
        loads[link.student_id].enrolled.append(course)
        audit.record(Action.PROMOTED, link.student, course, actor=actor, now=now,
                     before=Status.WAITLISTED, after=Status.ENROLLED,
                     reason=reason or "A seat became free.")
        result.promoted.append(link)
        seats = seats.after(Status.ENROLLED, link.student.program)
    db.session.flush()
    return result


def release_first(course: Course, seats: SeatCount, *, actor: User | None,
                  now: datetime) -> SeatCount:
    """Before a new link is added: when reserved seats are due for release or offers have
    expired, their seats go to the waitlist first (it keeps its turn). The count to decide the
    new link with."""
    if not (seats.release_due or seats.offer_due):
        return seats
    fill_from_waitlist(course, actor=actor, now=now)
    return seat_count(course.id, now=now)


def set_status(link: Enrollment, status: Status, now: datetime, *,
               waitlist_seq: int | None = None,
               offer_expires_at: datetime | None = None) -> None:
    """Change a link's status; `status_changed_at` is when the current status began."""
    link.status = status
    link.waitlist_seq = waitlist_seq if status == Status.WAITLISTED else None
    link.offer_expires_at = offer_expires_at if status == Status.OFFERED else None
    link.status_changed_at = now
    link.updated_at = now

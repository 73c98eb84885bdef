"""The waitlist: arrival order, and promotion into freed seats (first come, first served).

In a term in offer mode (`Term.waitlist_mode`) a freed seat is offered instead: it is held
for the first eligible waitlisted student (`offered`) until `offer_expires_at`; an offer past
its expiry is settled here, by the next change to the course (under its lock), and by
`flask tick` (`periodic.settle_expired_offers`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, select, update
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
    WaitlistSwap,
    crosslist_sections,
)
from . import audit
from .counts import SeatCount, after_peer, seat_count, seat_counts
from .eligibility import promotion_refusals
from .errors import Refusal
from .facts import TermLoad, existing_link, term_loads
from .holds import blocking_holds
from .locking import lock_course_if_free, lock_courses

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
    limit stays waitlisted and the skip is recorded as a `refused` event. An entry with a
    swap attached (`services.swap`) is promoted only when its course to drop can be dropped
    now (else skipped and recorded); that course is then dropped in this transaction, and its
    own waitlist promoted. Runs a fixed number of queries however long the waitlist is (plus
    the swaps' drops).
    """
    result = Promotions()
    sections = line_of(course)
    counts = seat_counts(sections, now=now)
    due = [c for c in sections.values() if counts[c.id].offer_due]
    for section in due:
        result.expired += settle_expired_offers(section, now=now)
    if due:
        counts = seat_counts(sections, now=now)
        reason = reason or "An offered seat was not accepted in time."
    for section in sections.values():
        if counts[section.id].release_due:
            _mark_released(section.id, now)
            reason = reason or "Reserved seats were released."

    def room() -> bool:
        return any(counts[i].untaken(c) > 0 for i, c in sections.items())

    if not room() or not any(counts[i].waitlisted for i in sections):
        return result
    waiting = db.session.execute(
        select(Enrollment, WaitlistSwap.drop_course_id)
        .options(joinedload(Enrollment.student).joinedload(Student.user))
        .outerjoin(WaitlistSwap, and_(WaitlistSwap.student_id == Enrollment.student_id,
                                      WaitlistSwap.course_id == Enrollment.course_id))
        .where(Enrollment.course_id.in_(list(sections)),
               Enrollment.status == Status.WAITLISTED)
        .order_by(Enrollment.waitlist_seq, Enrollment.course_id)
    ).all()
    if not waiting:
        return result
    grouped = len(sections) > 1
    loads = term_loads([e.student_id for e, _ in waiting], course.term_id,
                       excluding=None if grouped else course.id)
    holds = blocking_holds(loads)
    offering = course.term.waitlist_mode == WaitlistMode.OFFER
    swapped: list[tuple[Student, Course, Course]] = []  # promoted with a swap: drop after
    for link, give_up_id in waiting:
        if not room():
            break
        section = sections[link.course_id]
        if not counts[section.id].has_seat(section, link.student.program):
            continue  # no seat in their section (or only reserved ones): they keep their place
        load, give_up = loads[link.student_id], None
        if grouped:  # their own waitlist link is in the load: leave it out
            load = without(load, section.id)
        refusals = []
        if give_up_id is not None:
            give_up, refusals = swap_drop(link.student, give_up_id, now=now)
            load = without(load, give_up_id)
        refusals = refusals or promotion_refusals(link.student, section, load, now=now,
                                                  holds=holds[link.student_id])
        if refusals:
            refusal = refusals[0]
            result.skipped.append((link.student, refusal))
            audit.record(Action.REFUSED, link.student, section, actor=actor, now=now,
                         before=Status.WAITLISTED, after=Status.WAITLISTED,
                         reason=f"Skipped for {'an offer' if offering else 'promotion'}: "
                                f"{refusal.message}")
            continue
        status = Status.OFFERED if offering else Status.ENROLLED
        if offering:
            expires = offer_expiry(section, now)
            set_status(link, Status.OFFERED, now, offer_expires_at=expires)
            audit.record(Action.OFFERED, link.student, section, actor=actor, now=now,
                         before=Status.WAITLISTED, after=Status.OFFERED,
                         reason=" ".join(part for part in (
                             reason or "A seat became free.",
                             f"Held until {wall_clock(expires)}.") if part))
            result.offered.append(link)
        else:
            set_status(link, Status.ENROLLED, now)
            text = reason or "A seat became free."
            if give_up is not None:
                swapped.append((link.student, section, give_up))
                text = f"{text} Swap: {give_up.code} is dropped."
            loads[link.student_id] = TermLoad([*load.enrolled, section], load.waitlisted)
            audit.record(Action.PROMOTED, link.student, section, actor=actor, now=now,
                         before=Status.WAITLISTED, after=Status.ENROLLED, reason=text)
            result.promoted.append(link)
        counts[section.id] = counts[section.id].after(status, link.student.program)
        for other in sections:  # one pool for the group
            if other != section.id:
                counts[other] = after_peer(counts[other], status)
    db.session.flush()
    if swapped:
        _drop_swapped(swapped, actor=actor, now=now)
    return result


def without(load: TermLoad, course_id: int) -> TermLoad:
    """The term load as if the student no longer held `course_id`."""
    return TermLoad([c for c in load.enrolled if c.id != course_id],
                    [c for c in load.waitlisted if c.id != course_id])


_GROUP_OF = (
    select(crosslist_sections.c.course_id)
    .where(crosslist_sections.c.crosslist_id.in_(
        select(crosslist_sections.c.crosslist_id)
        .where(crosslist_sections.c.course_id == bindparam("course_id"))))
)


def line_of(course: Course) -> dict[int, Course]:
    """The sections whose waitlists make one line with the course's: its cross-listed group
    (locked with it), or the course alone."""
    group = db.session.scalars(_GROUP_OF, {"course_id": course.id}).all()
    if not group:
        return {course.id: course}
    return lock_courses(course.id, *group)


SWAP_BUSY = ("the course to drop in the swap is being changed by another request just now; "
             "try again")


def swap_drop(student: Student, give_up_id: int, *, now: datetime, by_staff: bool = True
              ) -> tuple[Course | None, list[Refusal]]:
    """The course a waitlisted student's swap drops, locked, and why it cannot be dropped now.
    None and `swap_busy` when another request is changing it (never wait out of lock order):
    a promotion then skips the student, who keeps their place; an accept or a staff promote
    is refused. The promotions, the accepted offers and staff promotes all decide here."""
    from .swap import drop_blockers  # swap.py builds on this module

    give_up = lock_course_if_free(give_up_id)
    if give_up is None:
        return None, [Refusal("swap_busy", SWAP_BUSY)]
    return give_up, drop_blockers(student, existing_link(student.id, give_up.id), give_up,
                                  now=now, by_staff=by_staff)


def _drop_swapped(swapped: list[tuple[Student, Course, Course]], *, actor: User | None,
                  now: datetime) -> None:
    """Drop what the promoted swaps give up (each freed seat promotes its own waitlist)."""
    from .drop import drop  # drop.py builds on this module
    from .swap import forget_swap

    for student, course, give_up in swapped:
        forget_swap(student.id, course.id)
        drop(student, give_up, actor=actor, now=now,
             reason=f"Swapped for {course.code} (promoted from the waitlist).")


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

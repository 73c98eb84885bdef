"""Seats offered to waitlisted students (terms in offer mode): accepting and declining.

An offer is made by `waitlist.fill_from_waitlist` when a seat frees up; it holds the seat
(status `offered`, counted against capacity) until `offer_expires_at`. The student accepts it
(enrolled) or declines it (the link is removed: they may join the waitlist again, at the end),
and an offer past its expiry is settled by the next change to the course or by `flask tick`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..clock import wall_clock
from ..extensions import db
from ..models import Action, Course, Enrollment, Source, Status, Student, User
from . import audit
from .drop import drop
from .eligibility import promotion_refusals
from .errors import EnrollmentRefused
from .facts import existing_link, term_load
from .locking import lock_course_for
from .swap import forget_swap, swap_of, without
from .waitlist import fill_from_waitlist, set_status, swap_drop


@dataclass
class OfferOutcome:
    """What an accept or a decline did. `expired`: the offer had run out before it (it was
    settled as expired, and the seat went on to the next student)."""

    link: Enrollment | None = None  # the enrolled link, after an accept
    expired_at: datetime | None = None
    offered: list[Enrollment] = field(default_factory=list)  # the seat offered on, if it was

    @property
    def expired(self) -> bool:
        return self.expired_at is not None


def _offer_of(student: Student, course: Course, *, actor: User | None) -> Enrollment:
    link = existing_link(student.id, course.id)
    if link is None or link.status != Status.OFFERED:
        who = "You have" if actor is not None and actor.id == student.user_id else \
            f"{student.name} has"
        raise EnrollmentRefused.single("not_offered",
                                       f"{who} no seat offered in {course.code}.")
    return link


def _settle_expired(link: Enrollment, course: Course, *, now: datetime) -> OfferOutcome:
    """The student's own offer ran out: it is settled (removed, audited) and the seat goes
    on, as any change to the course would do."""
    expired_at = link.offer_expires_at
    promotions = fill_from_waitlist(course, actor=None, now=now)
    return OfferOutcome(expired_at=expired_at, offered=promotions.offered)


def accept_offer(student: Student, course: Course, *, actor: User | None,
                 now: datetime) -> OfferOutcome:
    """Enroll the student in the seat offered to them.

    The rules that can change while a student waits are checked again (a hold, a time
    conflict with a course enrolled since, the credit limit); a refusal raises
    `EnrollmentRefused` with every reason and the offer stays until it expires. An offer
    past its expiry is not accepted: it is settled as expired (the outcome says so, and the
    change is kept). An offer made to a waitlist entry with a swap attached drops the swap's
    course as it is accepted (both or neither). Locks the course and the student; must run
    inside `write_transaction`.
    """
    course = lock_course_for(course, student.id)
    link = _offer_of(student, course, actor=actor)
    if link.offer_expires_at <= now:
        return _settle_expired(link, course, now=now)
    load = term_load(student.id, course.term_id, excluding=course.id)
    give_up, refusals = swap_of(student.id, course.id), []
    if give_up is not None:
        give_up, refusals = swap_drop(student, give_up.id, now=now, by_staff=False)
        if give_up is None:
            raise EnrollmentRefused(refusals)
        load = without(load, give_up.id)
    refusals += promotion_refusals(student, course, load, now=now, source=Source.SELF)
    if refusals:
        raise EnrollmentRefused(refusals)
    expires = link.offer_expires_at
    set_status(link, Status.ENROLLED, now)
    audit.record(Action.OFFER_ACCEPTED, student, course, actor=actor, now=now,
                 before=Status.OFFERED, after=Status.ENROLLED,
                 reason=f"Accepted the seat offered until {wall_clock(expires)}.")
    db.session.flush()
    if give_up is not None:
        forget_swap(student.id, course.id)
        drop(student, give_up, actor=actor, now=now, reason=f"Swapped for {course.code}.")
    # A change to the course: offers of others that ran out are settled with it.
    promotions = fill_from_waitlist(course, actor=None, now=now)
    return OfferOutcome(link=link, offered=promotions.offered)


def decline_offer(student: Student, course: Course, *, actor: User | None,
                  now: datetime) -> OfferOutcome:
    """Give up the seat offered to the student: the link is removed (`offer_declined`) and
    the seat is offered to the next eligible student on the waitlist. An offer past its
    expiry is settled as expired instead. Must run inside `write_transaction`."""
    course = lock_course_for(course, student.id)
    link = _offer_of(student, course, actor=actor)
    if link.offer_expires_at <= now:
        return _settle_expired(link, course, now=now)
    result = drop(student, course, actor=actor, now=now)
    return OfferOutcome(offered=result.offered)

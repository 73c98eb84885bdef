"""Staff actions: promote, move between sections, mark completed, change capacity."""
from __future__ import annotations

from datetime import datetime

from ..extensions import db
from ..models import Action, Course, Enrollment, Source, Status, Student, User
from . import audit
from .counts import seat_count
from .drop import drop
from .eligibility import promotion_refusals
from .enroll import enroll
from .errors import EnrollmentRefused, Override, overrode
from .facts import existing_link, term_load
from .grades import GRADES, IN_ORDER
from .locking import lock_course, lock_courses
from .reservations import over_capacity_message, reserved_total
from .swap import forget_swap, swap_of, without
from .waitlist import (
    Promotions,
    fill_from_waitlist,
    set_status,
    settle_expired_offers,
    swap_drop,
)


def promote(student: Student, course: Course, *, actor: User | None, now: datetime,
            reason: str, override: frozenset[Override] = frozenset()) -> Enrollment:
    """Staff move a waitlisted student into the course now, ahead of the queue.

    Without a free seat this needs `Override.CAPACITY`; a conflict or credit load needs its
    own override. The reason is always required. A waitlist entry with a swap attached drops
    the swap's course in the same change (its drop deadline and co-requisites apply, unless
    overridden).
    """
    override = frozenset(override)
    if not (reason or "").strip():
        raise EnrollmentRefused.single("reason_required", "A reason is required to promote.")
    course = lock_course(course)
    link = existing_link(student.id, course.id)
    if link is None or link.status != Status.WAITLISTED:
        raise EnrollmentRefused.single(
            "not_waitlisted", f"{student.name} is not on the waitlist for {course.code}.")
    seats = seat_count(course.id, now=now)
    expired = settle_expired_offers(course, now=now) if seats.offer_due else []
    if expired:  # a change to the course: the seats of expired offers are free again
        seats = seat_count(course.id, now=now)
    if (not seats.has_seat(course, student.program)
            and Override.CAPACITY not in override):
        raise EnrollmentRefused.single(
            "course_full", f"{course.code} has no free seat; override capacity to promote.",
            Override.CAPACITY)
    load = term_load(student.id, course.term_id, excluding=course.id)
    give_up, refusals = swap_of(student.id, course.id), []
    if give_up is not None:
        give_up, refusals = swap_drop(student, give_up.id, now=now)
        if give_up is None:
            raise EnrollmentRefused(refusals)
        refusals = [r for r in refusals if r.override is None or r.override not in override]
        load = without(load, give_up.id)
    refusals += promotion_refusals(student, course, load, now=now, skip=override)
    if refusals:
        raise EnrollmentRefused(refusals)
    set_status(link, Status.ENROLLED, now)
    text = " ".join(part for part in (f"Promoted by staff. {reason.strip()}", overrode(override))
                    if part)
    audit.record(Action.PROMOTED, student, course, actor=actor, now=now,
                 before=Status.WAITLISTED, after=Status.ENROLLED, reason=text)
    db.session.flush()
    if give_up is not None:
        forget_swap(student.id, course.id)
        drop(student, give_up, actor=actor, now=now, by_staff=True, override=override,
             reason=f"Swapped for {course.code} (promoted by staff).")
    if expired:  # the other freed seats go to the waitlist in its order
        fill_from_waitlist(course, actor=actor, now=now)
    return link


def move(student: Student, from_course: Course, to_course: Course, *, actor: User | None,
         now: datetime, reason: str = "", override: frozenset[Override] = frozenset()
         ) -> Enrollment:
    """Move a student from one section to another, as one change: both or neither.

    The old seat goes to the old section's waitlist; the new section enrolls or waitlists by
    the rules (window and deadline are staff's to ignore here; other rules need overrides).
    """
    if from_course.id == to_course.id:
        raise EnrollmentRefused.single("same_course", "Choose a different section to move to.")
    lock_courses(from_course.id, to_course.id)  # both, in id order: two movers cannot deadlock
    override = frozenset(override) | {Override.DEADLINE}
    drop(student, from_course, actor=actor, now=now, by_staff=True, override=override,
         reason=f"Moved to {to_course.code}. {reason}".strip())
    return enroll(student, to_course, actor=actor, now=now, source=Source.STAFF,
                  override=override | {Override.WINDOW},
                  reason=f"Moved from {from_course.code}. {reason}".strip())


def complete(student: Student, course: Course, grade: str, *, actor: User | None,
             now: datetime, reason: str = "", source: Source | None = None) -> Enrollment:
    """Record a completed course with its grade (prerequisites look at these).

    An enrolled link becomes completed; without a link (a past term being recorded) one is
    created. A waitlisted student cannot complete the course.
    """
    grade = (grade or "").strip().upper()
    if grade not in GRADES:
        raise EnrollmentRefused.single(
            "invalid_grade", f"{grade or 'An empty grade'} is not a grade "
                             f"(use one of {', '.join(IN_ORDER)}).")
    course = lock_course(course)
    link = existing_link(student.id, course.id)
    if link is not None and link.status in (Status.WAITLISTED, Status.OFFERED):
        where = "on the waitlist for" if link.status == Status.WAITLISTED else "offered a seat in"
        raise EnrollmentRefused.single(
            "not_enrolled", f"{student.name} is {where} {course.code}, not enrolled.")
    before = link.status if link is not None else None
    if link is None:
        link = Enrollment(student_id=student.id, course_id=course.id, status=Status.COMPLETED,
                          source=source or (Source.STAFF if actor is not None
                                            else Source.IMPORT),
                          created_at=now, status_changed_at=now, updated_at=now)
        db.session.add(link)
    elif link.status != Status.COMPLETED:
        set_status(link, Status.COMPLETED, now)
    link.grade = grade
    link.updated_at = now
    audit.record(Action.COMPLETED, student, course, actor=actor, now=now, before=before,
                 after=Status.COMPLETED, reason=f"Grade {grade}. {reason}".strip())
    db.session.flush()
    return link


def set_capacity(course: Course, capacity: int, *, actor: User | None, now: datetime,
                 waitlist_capacity: int | None = None) -> Promotions:
    """Change the capacity; a raise promotes from the waitlist, a cut removes nobody."""
    if capacity < 0 or (waitlist_capacity is not None and waitlist_capacity < 0):
        raise EnrollmentRefused.single("invalid_capacity", "Capacities cannot be negative.")
    course = lock_course(course)
    error = over_capacity_message(course, reserved_total(course.id), 0, capacity=capacity)
    if error:
        raise EnrollmentRefused.single("reserved_over_capacity", error)
    course.capacity = capacity
    if waitlist_capacity is not None:
        course.waitlist_capacity = waitlist_capacity
    db.session.flush()
    return fill_from_waitlist(course, actor=actor, now=now,
                              reason=f"Capacity raised to {capacity}.")


__all__ = ["complete", "move", "promote", "set_capacity"]

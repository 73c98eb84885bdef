"""Enrolling: a seat if there is one, else the waitlist, else a refusal with every reason."""
from __future__ import annotations

from datetime import datetime

from ..extensions import db
from ..models import Action, Course, Enrollment, EnrollmentEvent, Source, Status, Student, User
from . import audit
from .counts import SeatCount, seat_count
from .eligibility import check_enroll, skipped_rules
from .errors import EnrollmentRefused, Override, overrode, require_reason
from .locking import lock_course
from .waitlist import fill_from_waitlist

ACTIONS = {
    Source.SELF: {Status.ENROLLED: Action.ENROLLED, Status.WAITLISTED: Action.WAITLISTED},
    Source.STAFF: {Status.ENROLLED: Action.ADDED_BY_STAFF, Status.WAITLISTED: Action.ADDED_BY_STAFF},
    Source.IMPORT: {Status.ENROLLED: Action.IMPORTED, Status.WAITLISTED: Action.IMPORTED},
}


def checked_override(source: Source, override, reason: str) -> frozenset[Override]:
    """The override set of an enroll request: never for students, always with a reason."""
    override = frozenset(override)
    if source == Source.SELF and override:
        raise ValueError("students cannot override rules")
    require_reason(override, reason)
    return override


def enroll(student: Student, course: Course, *, actor: User | None, now: datetime,
           source: Source = Source.SELF, override: frozenset[Override] = frozenset(),
           reason: str = "") -> Enrollment:
    """Enroll the student, or put them on the waitlist when the seats are taken.

    Locks the course first. Raises `EnrollmentRefused` with every reason found when a rule
    blocks it. Staff (`source=Source.STAFF`) may override rules with a reason; an override of
    capacity enrolls beyond the capacity. Imports skip the window and prerequisites.
    Must run inside `write_transaction`; flushes, the caller commits.
    """
    override = checked_override(source, override, reason)
    course = lock_course(course)
    seats = seat_count(course.id, now=now)
    if seats.release_due:  # reserved seats open now: the waitlist goes first
        fill_from_waitlist(course, actor=actor, now=now)
        seats = seat_count(course.id, now=now)
    skip = skipped_rules(source, override)
    reasons = check_enroll(student, course, now=now, skip=skip, seats=seats, source=source)
    if reasons:
        raise EnrollmentRefused(reasons)

    link = add_link(student, course, seats, actor=actor, now=now, source=source,
                    override=override, reason=reason)
    db.session.flush()
    return link


def add_link(student: Student, course: Course, seats: SeatCount, *, actor: User | None,
             now: datetime, source: Source, override: frozenset[Override],
             reason: str, events: list[dict] | None = None) -> Enrollment:
    """Add the link (a seat, else the end of the waitlist) and its audit event; no flush.

    With `events`, the audit row is appended there for `audit.record_many` instead.
    """
    if seats.has_seat(course, student.program) or Override.CAPACITY in override:
        status, seq = Status.ENROLLED, None
    else:
        status, seq = Status.WAITLISTED, seats.last_waitlist_seq + 1
    link = Enrollment(student_id=student.id, course_id=course.id, status=status,
                      waitlist_seq=seq, source=source, created_at=now,
                      status_changed_at=now, updated_at=now)
    link.joined_position = seats.waitlisted + 1 if status == Status.WAITLISTED else None
    db.session.add(link)
    values = audit.event_values(ACTIONS[source][status], student, course, actor=actor, now=now,
                                before=None, after=status,
                                reason=describe(status, seats.waitlisted + 1, override, reason))
    if events is None:
        db.session.add(EnrollmentEvent(**values))
    else:
        events.append(values)
    return link


def describe(status: Status, position: int, override: frozenset[Override], reason: str) -> str:
    text = "Enrolled." if status == Status.ENROLLED else f"Waitlisted at position {position}."
    return " ".join(part for part in (text, overrode(override), (reason or "").strip()) if part)


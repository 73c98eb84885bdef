"""Changes to a course that its students must hear of: when it meets and where.

The admin's course form and the courses CSV import take `snapshot(course)` before they set
the fields and call `record_change` after; a change of days, times or room writes one
`CourseEvent` in the same transaction, worded for people ("Meets Mon Wed 10:00–10:50 instead
of Tue Thu 09:00–09:50; room Library 115 instead of Room 1"). The outbox turns it into a
message to every enrolled, offered and waitlisted student, and a `course.updated` webhook.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..extensions import db
from ..models import Course, CourseEvent, User

TBA = "Time to be announced"  # `Course.schedule_label` of a course without a meeting time


@dataclass(frozen=True)
class Snapshot:
    schedule: str
    location: str


def snapshot(course: Course) -> Snapshot:
    """What a course's students know of it now: when it meets and where."""
    return Snapshot(course.schedule_label, (course.location or "").strip())


def describe(before: Snapshot, after: Snapshot) -> str:
    """The change in words; empty when nothing a student must hear of changed."""
    parts = []
    if before.schedule != after.schedule:
        if after.schedule == TBA:
            parts.append(f"the time is to be announced (it met {before.schedule})")
        elif before.schedule == TBA:
            parts.append(f"meets {after.schedule} (the time was to be announced)")
        else:
            parts.append(f"meets {after.schedule} instead of {before.schedule}")
    if before.location != after.location:
        parts.append(f"room {after.location or 'to be announced'} instead of "
                     f"{before.location or 'none given'}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def record_change(course: Course, before: Snapshot, *, actor: User | None,
                  now: datetime) -> CourseEvent | None:
    """Add a `CourseEvent` to the session when the course's time or room changed since
    `before` (written with the change, in its transaction)."""
    changes = describe(before, snapshot(course))
    if not changes:
        return None
    label = f"{course.term.code} {course.code}" if course.term else course.code
    event = CourseEvent(at=now, course_id=course.id, actor_id=actor.id if actor else None,
                        changes=changes, course_label=label)
    db.session.add(event)
    return event

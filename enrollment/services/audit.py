"""The audit trail: one EnrollmentEvent for every change to `enrollments`."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..fields import strip_text
from ..models import Action, Course, EnrollmentEvent, Status, Student, User


def record(action: Action, student: Student, course: Course, *, actor: User | None,
           now: datetime, before: Status | None, after: Status | None,
           reason: str = "") -> EnrollmentEvent:
    """Add one audit event to the session (written with the change, in its transaction)."""
    event = EnrollmentEvent(**event_values(action, student, course, actor=actor, now=now,
                                           before=before, after=after, reason=reason))
    db.session.add(event)
    return event


def record_many(values: list[dict]) -> None:
    """Insert many audit events (from `event_values`) in one statement."""
    if values:
        db.session.execute(insert(EnrollmentEvent.__table__), values)


def event_values(action: Action, student: Student, course: Course, *, actor: User | None,
                 now: datetime, before: Status | None, after: Status | None,
                 reason: str = "") -> dict:
    """The column values of one audit event; `before`/`after`: the link's status (or None)."""
    return dict(
        status_before=before,
        status_after=after,
        at=now,
        actor_id=actor.id if actor is not None else None,
        student_id=student.id,
        course_id=course.id,
        action=action,
        # Reasons come from every edge (forms, the CLI, the API): no control characters.
        reason=strip_text(reason or ""),
        student_label=f"{student.student_number} {student.name}".strip(),
        course_label=f"{course.term.code} {course.code}" if course.term else course.code,
    )


def history_for_student(student: Student) -> list[EnrollmentEvent]:
    """The student's audit events, oldest first, with the acting user (one query)."""
    return _history(EnrollmentEvent.student_id == student.id)


def history_for_course(course: Course) -> list[EnrollmentEvent]:
    """The course's audit events, oldest first, with the acting user (one query)."""
    return _history(EnrollmentEvent.course_id == course.id)


def _history(condition) -> list[EnrollmentEvent]:
    # The actor comes along: every page that shows a history names who made each change.
    return list(db.session.scalars(
        select(EnrollmentEvent).where(condition)
        .options(joinedload(EnrollmentEvent.actor))
        .order_by(EnrollmentEvent.at, EnrollmentEvent.id)
    ))

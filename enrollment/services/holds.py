"""Placing and clearing holds; the holds and appointments that gate registration (read for
the rules in one round trip)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, bindparam, select

from ..database import in_batches
from ..extensions import db
from ..fields import strip_text
from ..models import Appointment, Hold, Student, User
from .errors import EnrollmentRefused


def blocks_registration_now():
    """The conditions of a hold that blocks registration: active and blocking."""
    return Hold.cleared_at.is_(None), Hold.blocks_registration.is_(True)


_GATES = (
    select(Student.id, Appointment.term_id, Appointment.opens_at, Hold)
    .outerjoin(Appointment, (Appointment.student_id == Student.id)
               & Appointment.term_id.in_(bindparam("terms", expanding=True)))
    .outerjoin(Hold, and_(Hold.student_id == Student.id, *blocks_registration_now()))
    .where(Student.id.in_(bindparam("ids", expanding=True)))
    .order_by(Hold.office)
)


def registration_gates(student_ids, term_ids):
    """({student_id: [blocking holds]}, {(student_id, term_id): appointment}) in one query."""
    holds: dict[int, list[Hold]] = defaultdict(list)
    openings: dict[tuple[int, int], datetime] = {}
    ids, terms = list(set(student_ids)), list(set(term_ids))
    if not ids:
        return holds, openings
    for student_id, term_id, opens_at, hold in (
            row for batch in in_batches(ids)
            for row in db.session.execute(_GATES, {"ids": batch, "terms": terms or [0]})):
        if term_id is not None:
            openings[(student_id, term_id)] = opens_at
        if hold is not None and hold not in holds[student_id]:
            holds[student_id].append(hold)
    return holds, openings


def blocking_holds(student_ids) -> dict[int, list[Hold]]:
    """The active holds that block registration, per student, in one query."""
    return registration_gates(student_ids, ())[0]


def place_hold(student: Student, office: str, *, reason: str, contact: str | None = None,
               blocks_registration: bool | None = None, actor: User | None,
               now: datetime) -> Hold:
    """Add the office's hold on the student, or update (and reopen) the one it has; flushes.

    `contact` and `blocks_registration` left as None keep the hold's values (a new hold: no
    contact, blocking).
    """
    hold = db.session.scalar(select(Hold).where(Hold.student_id == student.id,
                                                Hold.office == office))
    if hold is None:
        hold = Hold(student_id=student.id, office=office)
        db.session.add(hold)
    hold.reason = reason
    if contact is not None or hold.contact is None:
        hold.contact = contact or ""
    if blocks_registration is not None or hold.blocks_registration is None:
        hold.blocks_registration = True if blocks_registration is None else blocks_registration
    if hold.id is None or not hold.active:
        hold.added_at, hold.added_by_id = now, actor.id if actor is not None else None
        hold.cleared_at = hold.cleared_by_id = None
        hold.cleared_reason = ""
    db.session.flush()
    return hold


def clear_hold(hold: Hold, *, reason: str, actor: User | None, now: datetime) -> Hold:
    """Clear an active hold; the reason is required and kept with who cleared it and when."""
    if not strip_text(reason or ""):
        raise EnrollmentRefused.single("reason_required", "A reason is required to clear a hold.")
    if not hold.active:
        raise EnrollmentRefused.single("not_active", f"The {hold.office} hold is already cleared.")
    hold.cleared_at, hold.cleared_reason = now, strip_text(reason)
    hold.cleared_by_id = actor.id if actor is not None else None
    db.session.flush()
    return hold

"""Appointments: when each student may start registering, and handing them out in groups."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, insert, select

from ..extensions import db
from ..models import Appointment, Course, Enrollment, Status, Student, Term
from . import grades

_OPENINGS = select(Appointment.student_id, Appointment.term_id, Appointment.opens_at).where(
    Appointment.student_id.in_(bindparam("ids", expanding=True)),
    Appointment.term_id.in_(bindparam("terms", expanding=True)))


def opening_times(student_ids, term_ids) -> dict[tuple[int, int], datetime]:
    """{(student_id, term_id): the student's own opening} for those who have one, one query."""
    ids, terms = list(set(student_ids)), list(set(term_ids))
    if not ids or not terms:
        return {}
    return {(s, t): at for s, t, at in db.session.execute(_OPENINGS, {"ids": ids,
                                                                       "terms": terms})}


@dataclass(frozen=True)
class Group:
    opens_at: datetime
    student_ids: list[int]


def earned_credits() -> dict[int, int]:
    """Credits of each student's passed completions (the best grade of a code counts once)."""
    best: dict[tuple[int, str], tuple[str | None, int]] = {}
    for student_id, code, grade, credits in db.session.execute(
            select(Enrollment.student_id, Course.code, Enrollment.grade, Course.credits)
            .join(Course, Course.id == Enrollment.course_id)
            .where(Enrollment.status == Status.COMPLETED)):
        key = (student_id, code)
        if key not in best or grades.best([grade, best[key][0]]) == grade:
            best[key] = (grade, credits)
    earned: dict[int, int] = {}
    for (student_id, _code), (grade, credits) in best.items():
        if grades.passed(grade):
            earned[student_id] = earned.get(student_id, 0) + credits
    return earned


def assign(term: Term, *, start: datetime, every: timedelta, group_size: int,
           seed: int = 0) -> list[Group]:
    """Give every student an appointment in the term, replacing earlier ones: groups of
    `group_size` by earned credits, most first, ties shuffled with `seed`; group k opens at
    `start + k × every`. Must run inside `write_transaction`; flushes, the caller commits."""
    if group_size < 1:
        raise ValueError("the group size must be at least 1")
    students = list(db.session.scalars(select(Student.id).order_by(Student.id)))
    earned = earned_credits()
    rng = random.Random(seed)
    shuffled = rng.sample(students, len(students))  # ties keep this (seeded) order
    ordered = sorted(shuffled, key=lambda sid: -earned.get(sid, 0))
    groups = [Group(start + every * k, ordered[i:i + group_size])
              for k, i in enumerate(range(0, len(ordered), group_size))]
    db.session.execute(delete(Appointment).where(Appointment.term_id == term.id))
    rows = [{"term_id": term.id, "student_id": sid, "opens_at": g.opens_at}
            for g in groups for sid in g.student_ids]
    if rows:
        db.session.execute(insert(Appointment), rows)
    db.session.flush()
    return groups


def upcoming(student: Student, now: datetime) -> list[tuple[Term, datetime]]:
    """The student's appointments not yet reached, in terms whose enrollment has not closed."""
    return list(db.session.execute(
        select(Term, Appointment.opens_at).join(Appointment, Appointment.term_id == Term.id)
        .where(Appointment.student_id == student.id, Appointment.opens_at > now,
               Term.enrollment_closes >= now)
        .order_by(Appointment.opens_at)).all())


def count(term: Term) -> int:
    return db.session.scalar(select(func.count()).select_from(Appointment)
                             .where(Appointment.term_id == term.id))

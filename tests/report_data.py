"""Data for the report tests, written through the rules engine (enrollment.services)."""
from __future__ import annotations

from datetime import timedelta

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Source
from tests import factories


def enroll(student, course, *, at=None, actor=None, source=Source.SELF, **kwargs):
    with write_transaction(db.session):
        return services.enroll(student, course, actor=actor, now=at or factories.NOW,
                               source=source, **kwargs)


def drop(student, course, *, at=None, actor=None, **kwargs):
    with write_transaction(db.session):
        return services.drop(student, course, actor=actor, now=at or factories.NOW, **kwargs)


def complete(student, course, grade="A", *, at=None, actor=None):
    with write_transaction(db.session):
        return services.complete(student, course, grade, actor=actor,
                                 now=at or factories.NOW)


def fill_course(course, names, *, start=None, step=timedelta(minutes=1), **student_fields):
    """Enroll one new student per name, in order, one minute apart; returns the students.

    Once the seats are taken the next students join the waitlist (the rules decide).
    """
    start = start or factories.NOW - timedelta(days=5)
    students = []
    for i, name in enumerate(names):
        student = factories.make_student(name=name, **student_fields)
        enroll(student, course, at=start + i * step)
        students.append(student)
    return students

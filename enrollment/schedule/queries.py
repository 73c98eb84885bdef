"""A student's courses grouped the way the schedule shows them, in two queries (three when
some waitlist entries carry a swap).

Terms, and the completed courses, come in `Term.display_order` (the newest first).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from .. import clock, services
from ..extensions import db
from ..models import DAY_LETTERS, Course, Enrollment, Status, Student, Term, WaitlistSwap


@dataclass
class TermSchedule:
    """One term of a student's schedule: enrolled courses, seats offered (with their expiry;
    expired ones are left out: they are settled by the next change) and waitlist places."""

    term: Term
    enrolled: list[Course] = field(default_factory=list)
    waitlisted: list[tuple[Course, int | None]] = field(default_factory=list)
    offered: list[tuple[Course, datetime]] = field(default_factory=list)

    @property
    def credits(self) -> int:
        return sum(course.credits for course in self.enrolled)


@dataclass
class StudentSchedule:
    terms: list[TermSchedule]
    completed: list[tuple[Course, str | None]]
    # {waitlisted course id: the course its swap drops on promotion}
    swaps: dict[int, Course] = field(default_factory=dict)

    @property
    def enrolled_courses(self) -> list[Course]:
        return [course for term in self.terms for course in term.enrolled]

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.completed


def student_schedule(student: Student) -> StudentSchedule:
    """The student's links with courses and terms (one query) and waitlist positions (one)."""
    links = db.session.scalars(
        select(Enrollment)
        .join(Enrollment.course)
        .join(Course.term)
        .options(contains_eager(Enrollment.course).contains_eager(Course.term))
        .where(Enrollment.student_id == student.id)
        .order_by(*Term.display_order(), Course.code)
    ).all()
    waitlisted_ids = [link.course_id for link in links if link.status == Status.WAITLISTED]
    positions = services.waitlist_positions(waitlisted_ids)
    swaps = dict(db.session.execute(
        select(WaitlistSwap.course_id, Course)
        .join(Course, Course.id == WaitlistSwap.drop_course_id)
        .where(WaitlistSwap.student_id == student.id)).all()) if waitlisted_ids else {}

    terms: dict[int, TermSchedule] = {}  # in the links' order: the terms' display order
    completed = []
    now = clock.now()
    for link in links:
        course = link.course
        if link.status == Status.COMPLETED:
            completed.append((course, link.grade))
            continue
        term = terms.setdefault(course.term_id, TermSchedule(course.term))
        if link.status == Status.ENROLLED:
            term.enrolled.append(course)
        elif link.status == Status.OFFERED:
            if link.offer_expires_at > now:
                term.offered.append((course, link.offer_expires_at))
        else:
            term.waitlisted.append((course, positions.get((student.id, course.id))))

    for term in terms.values():
        term.enrolled.sort(key=_meeting_order)  # the waitlist stays in code order
    return StudentSchedule(list(terms.values()), completed, swaps)


def _meeting_order(course: Course) -> tuple:
    """Courses in the order they first meet in the week; unscheduled ones last."""
    days = course.meets_on()
    first_day = DAY_LETTERS.index(days[0]) if days else len(DAY_LETTERS)
    return (first_day, course.start_time or time.max, course.code)

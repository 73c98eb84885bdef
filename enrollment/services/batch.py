"""Enrolling many students at once (the CSV import) in a fixed number of queries.

The same rules as `enroll`, applied by `eligibility.evaluate` to facts loaded for the whole
batch: the courses are locked once, and each accepted row updates the in-memory seats and
loads so that later rows of the batch see it, exactly as if they had come one by one.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, inspect, or_, select
from sqlalchemy.orm import selectinload

from ..database import rows_in, scalars_in
from ..extensions import db
from ..models import Course, Enrollment, Source, Status, Student, User, prerequisite_links
from .counts import seat_counts
from .eligibility import evaluate, skipped_rules
from .enroll import NewLinks, add_link, checked_override
from .errors import EnrollmentRefused, Override
from .facts import Completions, Facts, TermLoad, voice_for
from .holds import registration_gates
from .locking import lock_courses, lock_students
from .waitlist import release_first


def enroll_many(pairs: Sequence[tuple[Student, Course]], *, actor: User | None,
                now: datetime, source: Source = Source.IMPORT,
                override: frozenset[Override] = frozenset(), reason: str = ""
                ) -> list[Enrollment | EnrollmentRefused]:
    """Enroll (or waitlist) each (student, course) pair in order; one result per pair.

    A refused pair gets its `EnrollmentRefused` in the result list and changes nothing; the
    caller decides whether one refusal should roll back the batch. Must run inside
    `write_transaction`; flushes once, the caller commits.
    """
    override = checked_override(source, override, reason)
    if not pairs:
        return []
    # Ids from the identity keys: reading `.id` of an expired object would cost a query each.
    courses = lock_courses(*{_pk(course) for _, course in pairs})
    seats = {course_id: release_first(courses[course_id], count, actor=actor, now=now)
             for course_id, count in seat_counts(courses, now=now).items()}
    student_ids = list({_pk(student) for student, _ in pairs})
    lock_students(student_ids)  # their loads are read next: no enroll of theirs in between
    _load_users(student_ids)
    skip = skipped_rules(source, override)
    required = defaultdict(list) if Override.PREREQUISITES in skip else _required(courses)
    codes = {c.code for c in courses.values()} | {code for cs in required.values() for code in cs}
    links, loads, found = _links_loads_and_completions(
        student_ids, {c.term_id for c in courses.values()}, codes)
    holds, openings = registration_gates(student_ids, {c.term_id for c in courses.values()})

    results: list[Enrollment | EnrollmentRefused] = []
    new = NewLinks()
    for student, given in pairs:
        course = courses[_pk(given)]
        load = loads[(student.id, course.term_id)]
        codes = {course.code, *required[course.id]}
        done = {code: grades for code, grades in found[student.id].items() if code in codes}
        reasons = evaluate(Facts(student, course, now, link=links.get((student.id, course.id)),
                                 load=load, seats=seats[course.id],
                                 completions=Completions.of(required[course.id], done),
                                 holds=holds[student.id],
                                 opens_at=openings.get((student.id, course.term_id)),
                                 voice=voice_for(student, source)),
                           skip=skip)
        if reasons:
            results.append(EnrollmentRefused(reasons))
            continue
        link = add_link(student, course, seats[course.id], actor=actor, now=now, source=source,
                        override=override, reason=reason, new=new)
        links[(student.id, course.id)] = link
        seats[course.id] = seats[course.id].after(link.status, student.program)
        (load.enrolled if link.status == Status.ENROLLED else load.waitlisted).append(course)
        results.append(link)
    new.write()
    return results


def _pk(obj) -> int:
    identity = inspect(obj).identity
    return identity[0] if identity else obj.id


def _load_users(student_ids: list[int]) -> None:
    """Put the students' users in the session: the audit labels read their names."""
    scalars_in(db.session, lambda batch: select(Student).where(Student.id.in_(batch))
               .options(selectinload(Student.user)), student_ids)


def _links_loads_and_completions(student_ids: list[int], term_ids: set[int], codes: set[str]):
    """In one query: the students' links in the terms (by course, and their term loads) and
    their completions of the given codes in any term ({student_id: {code: [grades]}})."""
    links: dict[tuple[int, int], Enrollment] = {}
    loads: dict[tuple[int, int], TermLoad] = defaultdict(lambda: TermLoad([], []))
    found: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    rows = rows_in(db.session, lambda batch: (
        select(Enrollment, Course).join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.student_id.in_(batch),
               or_(Course.term_id.in_(term_ids),
                   and_(Enrollment.status == Status.COMPLETED, Course.code.in_(codes))))),
        student_ids)
    for link, course in rows:
        if link.status == Status.COMPLETED and course.code in codes:
            found[link.student_id][course.code].append(link.grade)
        if course.term_id not in term_ids:
            continue
        links[(link.student_id, course.id)] = link
        load = loads[(link.student_id, course.term_id)]
        if link.status == Status.ENROLLED:
            load.enrolled.append(course)
        elif link.status in (Status.WAITLISTED, Status.OFFERED):  # as `TermLoad` counts
            load.waitlisted.append(course)
    return links, loads, found


def _required(courses: dict[int, Course]) -> dict[int, list[str]]:
    """{course_id: [prerequisite codes]} in one query."""
    prereq = Course.__table__.alias("prereq")
    required = defaultdict(list)
    for course_id, code in db.session.execute(
            select(prerequisite_links.c.course_id, prereq.c.code)
            .join(prereq, prereq.c.id == prerequisite_links.c.prerequisite_id)
            .where(prerequisite_links.c.course_id.in_(list(courses)))
            .order_by(prereq.c.code)):
        required[course_id].append(code)
    return required

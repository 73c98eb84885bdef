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
from ..models import (
    Course,
    Enrollment,
    Source,
    Status,
    Student,
    User,
    corequisite_links,
    crosslist_sections,
    prerequisite_links,
)
from .counts import after_peer, seat_counts
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
    required = (defaultdict(list) if Override.PREREQUISITES in skip
                else _required(courses, prerequisite_links.c.prerequisite_id))
    corequired = (defaultdict(list) if Override.COREQUISITES in skip
                  else _required(courses, corequisite_links.c.corequisite_id))
    codes = {c.code for c in courses.values()} | {
        code for found in (required, corequired) for cs in found.values() for code in cs}
    links, loads, found = _links_loads_and_completions(
        student_ids, {c.term_id for c in courses.values()}, codes)
    holds, openings = registration_gates(student_ids, {c.term_id for c in courses.values()})
    # Sections cross-listed with the batch's courses (a query only when one has a pool).
    pooled = {course_id for course_id, count in seats.items() if count.pool is not None}
    peers = _crosslisted(pooled) if pooled else {}

    results: list[Enrollment | EnrollmentRefused] = []
    new = NewLinks()
    for student, given in pairs:
        course = courses[_pk(given)]
        load = loads[(student.id, course.term_id)]
        codes = {course.code, *required[course.id], *corequired[course.id]}
        done = {code: grades for code, grades in found[student.id].items() if code in codes}
        reasons = evaluate(Facts(student, course, now, link=links.get((student.id, course.id)),
                                 load=load, seats=seats[course.id],
                                 completions=Completions.of(required[course.id], done,
                                                            corequired[course.id]),
                                 holds=holds[student.id],
                                 opens_at=openings.get((student.id, course.term_id)),
                                 voice=voice_for(student, source),
                                 crosslisted=peers.get(course.id, frozenset())),
                           skip=skip)
        if reasons:
            results.append(EnrollmentRefused(reasons))
            continue
        link = add_link(student, course, seats[course.id], actor=actor, now=now, source=source,
                        override=override, reason=reason, new=new)
        links[(student.id, course.id)] = link
        seats[course.id] = seats[course.id].after(link.status, student.program)
        for peer in peers.get(course.id, ()):  # one pool and one line for the group
            if peer in seats:
                seats[peer] = after_peer(seats[peer], link.status)
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


def _crosslisted(courses) -> dict[int, frozenset[int]]:
    """{course_id: ids of the sections cross-listed with it} in one query."""
    mine, peers = crosslist_sections.alias("mine"), crosslist_sections.alias("peers")
    found = defaultdict(set)
    for course_id, peer_id in db.session.execute(
            select(mine.c.course_id, peers.c.course_id)
            .join(peers, peers.c.crosslist_id == mine.c.crosslist_id)
            .where(mine.c.course_id.in_(list(courses)), peers.c.course_id != mine.c.course_id)):
        found[course_id].add(peer_id)
    return {course_id: frozenset(ids) for course_id, ids in found.items()}


def _required(courses: dict[int, Course], required_id) -> dict[int, list[str]]:
    """{course_id: [codes]} in one query: of the prerequisites or the co-requisites, by the
    link table's column `required_id`."""
    links = required_id.table
    other = Course.__table__.alias("required")
    required = defaultdict(list)
    for course_id, code in db.session.execute(
            select(links.c.course_id, other.c.code)
            .join(other, other.c.id == required_id)
            .where(links.c.course_id.in_(list(courses)))
            .order_by(other.c.code)):
        required[course_id].append(code)
    return required

"""The course lock that keeps capacity and waitlist order right under concurrency.

PostgreSQL: `SELECT … FOR UPDATE` on the course row. SQLite: the whole database is locked by
the write transaction that `database.write_transaction` begins with `BEGIN IMMEDIATE`; the
SELECT here then only reloads the course. Either way the count-then-insert that follows sees
every committed change and no other writer can slip in before the commit.
"""
from __future__ import annotations

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import joinedload

from ..database import LOCKED, LOCKED_STUDENTS, in_batches, in_write_transaction
from ..extensions import db
from ..models import Course, Student, crosslist_sections


class NotInWriteTransaction(RuntimeError):
    """A programming error: enrollment changes must run inside `write_transaction`."""


def _with_groups(ids):
    """The courses `ids` and every section cross-listed with one of them: enrolling through
    any code locks the whole group, in the same id order as everything else."""
    mine, peers = crosslist_sections.alias("mine"), crosslist_sections.alias("peers")
    return or_(Course.id.in_(ids), Course.id.in_(
        select(peers.c.course_id).join(mine, mine.c.crosslist_id == peers.c.crosslist_id)
        .where(mine.c.course_id.in_(ids))))


_LOCK = (
    select(Course)
    .options(joinedload(Course.term, innerjoin=True))
    .where(_with_groups(bindparam("ids", expanding=True)))
    .order_by(Course.id)
    .with_for_update(of=Course)
    .execution_options(populate_existing=True)
)


def _require_write_transaction() -> None:
    if not in_write_transaction(db.session):
        raise NotInWriteTransaction(
            "enrollment changes must run inside enrollment.database.write_transaction()")


def lock_courses(*course_ids: int) -> dict[int, Course]:
    """Lock the courses (in id order, so two movers cannot deadlock) and reload them.

    A course already locked in this transaction is not read again: it is held since, and the
    session's copy is current (`LOCKED` is emptied when the transaction ends). The sections
    cross-listed with a course are locked with it (and held: see `locked_group`).
    """
    _require_write_transaction()
    held = db.session.info.setdefault(LOCKED, {})
    wanted = sorted(set(course_ids) - held.keys())
    if wanted:
        held.update((course.id, course) for course in db.session.scalars(_LOCK, {"ids": wanted}))
    return {course_id: held[course_id] for course_id in sorted(set(course_ids))
            if course_id in held}


# A course and one student together (PostgreSQL): the rules read the student's other links
# (credit load, conflicts), which the course lock alone does not cover; two requests of one
# student for two courses would each pass on a load that does not show the other. One
# statement, courses before students in every transaction (`of=`), so it cannot deadlock.
_LOCK_WITH_STUDENT = (
    select(Course)
    .options(joinedload(Course.term, innerjoin=True))
    .join(Student, Student.id == bindparam("student_id"))
    .where(_with_groups([bindparam("course_id")]))
    .order_by(Course.id)
    .with_for_update(of=(Course, Student))
    .execution_options(populate_existing=True)
)


def lock_course_for(course: Course | int, student_id: int) -> Course:
    """Lock the course (as `lock_course`) and the student's row with it, in one statement.

    On SQLite the write transaction holds the whole database already.
    """
    course_id = course if isinstance(course, int) else course.id
    if db.session.get_bind().dialect.name == "sqlite":
        return lock_course(course_id)
    held = db.session.info.setdefault(LOCKED_STUDENTS, set())
    if student_id in held:
        return lock_course(course_id)
    _require_write_transaction()
    locked = db.session.info.setdefault(LOCKED, {})
    found = {c.id: c for c in db.session.scalars(
        _LOCK_WITH_STUDENT, {"course_id": course_id, "student_id": student_id})}
    if course_id not in found:
        raise LookupError(f"course {course_id} or student {student_id} does not exist")
    locked.update(found)
    held.add(student_id)
    return found[course_id]


def lock_students(student_ids) -> None:
    """Lock the students' rows (PostgreSQL; in id order, after the courses) for a batch."""
    if db.session.get_bind().dialect.name == "sqlite":
        return
    held = db.session.info.setdefault(LOCKED_STUDENTS, set())
    for batch in in_batches(sorted(set(student_ids) - held)):
        db.session.execute(select(Student.id).where(Student.id.in_(batch))
                           .order_by(Student.id).with_for_update())
        held.update(batch)


def lock_course_if_free(course_id: int) -> Course | None:
    """Lock the course unless another transaction holds it (None then): for a lock taken out
    of id order, after others (a swap's course to drop, at promotion), which must never wait
    and so can never deadlock. SQLite: the write transaction holds the whole database."""
    held = db.session.info.setdefault(LOCKED, {})
    if course_id in held:
        return held[course_id]
    if db.session.get_bind().dialect.name == "sqlite":
        return lock_course(course_id)
    _require_write_transaction()
    group = db.session.scalars(select(crosslist_sections.c.course_id).where(
        crosslist_sections.c.crosslist_id.in_(select(crosslist_sections.c.crosslist_id).where(
            crosslist_sections.c.course_id == course_id)))).all()
    found = {c.id: c for c in db.session.scalars(
        _LOCK.with_for_update(of=Course, skip_locked=True), {"ids": [course_id]})}
    held.update(found)
    if course_id not in found or not set(group) <= found.keys():
        return None  # a section of its group is busy: the group is not wholly held
    return found[course_id]


def lock_course(course: Course | int) -> Course:
    course_id = course if isinstance(course, int) else course.id
    locked = lock_courses(course_id)
    if course_id not in locked:
        raise LookupError(f"course {course_id} does not exist")
    return locked[course_id]

"""The course lock that keeps capacity and waitlist order right under concurrency.

PostgreSQL: `SELECT … FOR UPDATE` on the course row. SQLite: the whole database is locked by
the write transaction that `database.write_transaction` begins with `BEGIN IMMEDIATE`; the
SELECT here then only reloads the course. Either way the count-then-insert that follows sees
every committed change and no other writer can slip in before the commit.
"""
from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..database import LOCKED, in_write_transaction
from ..extensions import db
from ..models import Course


class NotInWriteTransaction(RuntimeError):
    """A programming error: enrollment changes must run inside `write_transaction`."""


_LOCK = (
    select(Course)
    .options(joinedload(Course.term, innerjoin=True))
    .where(Course.id.in_(bindparam("ids", expanding=True)))
    .order_by(Course.id)
    .with_for_update(of=Course)
    .execution_options(populate_existing=True)
)


def lock_courses(*course_ids: int) -> dict[int, Course]:
    """Lock the courses (in id order, so two movers cannot deadlock) and reload them.

    A course already locked in this transaction is not read again: it is held since, and the
    session's copy is current (`LOCKED` is emptied when the transaction ends).
    """
    if not in_write_transaction(db.session):
        raise NotInWriteTransaction(
            "enrollment changes must run inside enrollment.database.write_transaction()"
        )
    held = db.session.info.setdefault(LOCKED, {})
    wanted = sorted(set(course_ids) - held.keys())
    if wanted:
        held.update((course.id, course) for course in db.session.scalars(_LOCK, {"ids": wanted}))
    return {course_id: held[course_id] for course_id in sorted(set(course_ids))
            if course_id in held}


def lock_course(course: Course | int) -> Course:
    course_id = course if isinstance(course, int) else course.id
    locked = lock_courses(course_id)
    if course_id not in locked:
        raise LookupError(f"course {course_id} does not exist")
    return locked[course_id]

"""Cross-listed groups: several sections of a term sharing one seat pool and one waitlist.

A group's `capacity` is an extra limit, the group's seated total, on top of each section's
own capacity (`counts.SeatCount.pool`); its sections' waitlists make one line in arrival order
(`waitlist.line_of`); enrolling through any section locks the whole group (`locking`). This
module changes groups: their pool and their sections. A change that may open seats promotes
the group's line.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, insert, select

from ..extensions import db
from ..models import Course, Crosslist, Term, User, crosslist_key, crosslist_sections
from .errors import EnrollmentRefused
from .locking import lock_courses
from .waitlist import Promotions, fill_from_waitlist


def group_of(course_id: int) -> Crosslist | None:
    return db.session.scalar(
        select(Crosslist).join(crosslist_sections,
                               crosslist_sections.c.crosslist_id == Crosslist.id)
        .where(crosslist_sections.c.course_id == course_id))


def set_group(term: Term, key: str, capacity: int, sections: Iterable[Course], *,
              actor: User | None, now: datetime) -> tuple[Crosslist, Promotions]:
    """Make `sections` (courses of `term`) the cross-listed group `key` with a pool of
    `capacity`: the group is created or updated (the key ignores case); sections that were in
    it and are not given leave it, given sections leave any other group. Refused
    (`EnrollmentRefused`) for a section of another term or fewer than two sections. Locks every
    section concerned; promotes the group's line when seats may have opened. Flushes."""
    key, sections = crosslist_key(key), {c.id: c for c in sections}
    if len(sections) < 2:
        raise EnrollmentRefused.single("crosslist_too_small",
                                       f"A cross-listed group ({key}) needs two sections or "
                                       "more.")
    elsewhere = [c.code for c in sections.values() if c.term_id != term.id]
    if elsewhere:
        raise EnrollmentRefused.single("with_other_term",
                                       f"Sections of a cross-listed group are of one term: "
                                       f"{', '.join(sorted(elsewhere))} "
                                       f"{'is' if len(elsewhere) == 1 else 'are'} not in "
                                       f"{term.code}.")
    group = db.session.scalar(select(Crosslist).where(Crosslist.term_id == term.id,
                                                      Crosslist.key == key))
    before = [] if group is None else list(db.session.scalars(
        select(crosslist_sections.c.course_id)
        .where(crosslist_sections.c.crosslist_id == group.id)))
    lock_courses(*sections, *before)  # with the groups they are in now
    if group is None:
        group = Crosslist(term_id=term.id, key=key, capacity=capacity)
        db.session.add(group)
        db.session.flush()
    group.capacity = capacity
    db.session.execute(delete(crosslist_sections).where(
        (crosslist_sections.c.crosslist_id == group.id)
        | crosslist_sections.c.course_id.in_(list(sections))))
    db.session.execute(insert(crosslist_sections),
                       [{"course_id": i, "crosslist_id": group.id} for i in sorted(sections)])
    db.session.flush()
    promotions = fill_from_waitlist(next(iter(sections.values())), actor=actor, now=now,
                                    reason=f"Cross-listed group {key} changed.")
    for left in set(before) - sections.keys():  # a section that left: its own line now
        promotions.promoted += fill_from_waitlist(db.session.get(Course, left), actor=actor,
                                                  now=now).promoted
    return group, promotions


def remove_group(group: Crosslist, *, actor: User | None, now: datetime) -> None:
    """Dissolve a cross-listed group: each section's seats and line are its own again (and
    promote). Locks the sections."""
    ids = list(db.session.scalars(select(crosslist_sections.c.course_id).where(
        crosslist_sections.c.crosslist_id == group.id)))
    lock_courses(*ids)
    db.session.delete(group)
    db.session.flush()
    for course_id in ids:
        fill_from_waitlist(db.session.get(Course, course_id), actor=actor, now=now)


def leave_group(course: Course, *, actor: User | None, now: datetime) -> None:
    """Take the course out of its cross-listed group (a group left with one section is
    removed). Its seats and line are its own again; both lines may promote."""
    group = group_of(course.id)
    if group is None:
        return
    others = list(db.session.scalars(select(crosslist_sections.c.course_id).where(
        crosslist_sections.c.crosslist_id == group.id,
        crosslist_sections.c.course_id != course.id)))
    lock_courses(course.id, *others)
    db.session.execute(delete(crosslist_sections).where(
        crosslist_sections.c.course_id == course.id))
    if len(others) < 2:
        db.session.delete(group)
    db.session.flush()
    fill_from_waitlist(course, actor=actor, now=now)
    if others:
        fill_from_waitlist(db.session.get(Course, others[0]), actor=actor, now=now)

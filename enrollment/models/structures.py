"""Course structures kept beside the courses and links: cross-listed groups (sections sharing
one seat pool and one waitlist) and a swap attached to a waitlist entry.

A cross-listed group (`Crosslist`) is a key within a term, with `capacity`: an extra limit,
the group's seated total, on top of each section's own capacity. Its sections are listed in
`crosslist_sections` (a course belongs to at most one group).

A student waitlisted through a conditional swap (`POST /courses/<id>/swap`) waits for the
course with the course to give up attached: when they are promoted, that course is dropped in
the same transaction. The row goes with the waitlist entry (CASCADE on the link) and with
either course; the services delete it when the entry is promoted or when the student drops
the course to give up themselves (the entry is then a plain waitlist entry).
"""
from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .catalog import Course, Term

# A course's group: at most one (the course is the key). CASCADE both ways: deleting a course
# leaves its group, deleting a group leaves its courses.
crosslist_sections = Table(
    "crosslist_sections",
    db.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("crosslist_id", ForeignKey("crosslists.id", ondelete="CASCADE"), nullable=False,
           index=True),
)


def crosslist_key(text: str | None) -> str:
    """A group key as stored: the key ignores case and surrounding spaces."""
    return (text or "").strip().upper()


class Crosslist(db.Model):
    __tablename__ = "crosslists"
    __table_args__ = (
        UniqueConstraint("term_id", "key", name="uq_crosslists_term_key"),
        CheckConstraint("capacity >= 0", name="capacity_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))  # `crosslist_key` form
    capacity: Mapped[int]  # the group's seated total at most

    term: Mapped[Term] = relationship()
    # Written only by `services.crosslists` (it locks the sections and promotes).
    sections: Mapped[list[Course]] = relationship(secondary=crosslist_sections,
                                                  order_by=lambda: Course.code, viewonly=True)

    def __str__(self) -> str:
        return self.key


class WaitlistSwap(db.Model):
    __tablename__ = "waitlist_swaps"
    __table_args__ = (
        ForeignKeyConstraint(["student_id", "course_id"],
                             ["enrollments.student_id", "enrollments.course_id"],
                             ondelete="CASCADE", name="fk_waitlist_swaps_link"),
    )

    student_id: Mapped[int] = mapped_column(primary_key=True)
    # The course waited for (the link is waitlisted in it).
    course_id: Mapped[int] = mapped_column(primary_key=True)
    # The course dropped on promotion.
    drop_course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True)

    def __repr__(self) -> str:
        return (f"<WaitlistSwap s={self.student_id} c={self.course_id} "
                f"drop={self.drop_course_id}>")

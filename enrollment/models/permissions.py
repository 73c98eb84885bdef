"""Instructor permissions: a student may enroll in one course past named rules, once.

Like a registrar system's "instructor permission": the course's instructor (or staff) lifts
some rules (a full course, a missing prerequisite) for one student in one course, with a
reason. The student then enrolls as usual; that enroll uses the permission up. The row keeps
who granted it, when, and when it was used or revoked: the record of permissions is their
audit, and the enrollment's own audit event names the permission.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .catalog import Course
from .types import UTCDateTime
from .users import Student, User


class Permission(db.Model):
    __tablename__ = "permissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # CASCADE: a permission is about this course and this student, and goes with either.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"),
                                            index=True)
    # The lifted rules: override names (`services.errors.Override`), space-separated, sorted.
    rules: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text, default="")
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    course: Mapped[Course] = relationship()
    student: Mapped[Student] = relationship()
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(self.rules.split())

    @property
    def state(self) -> str:
        """'active' (usable), 'used' or 'revoked'."""
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        return "active"

    def __str__(self) -> str:
        return f"Permission ({', '.join(self.rule_names)})"

"""Holds: an office (bursar, advising, …) blocks a student's registration until it clears it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .types import UTCDateTime
from .users import Student, User


class Hold(db.Model):
    """One office's hold on one student. Clearing keeps the row (who, when, why): the record
    of holds is their audit; the same office placing a hold again reopens it."""

    __tablename__ = "holds"
    __table_args__ = (UniqueConstraint("student_id", "office", name="uq_holds_student_office"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # CASCADE: a hold is part of the student's record and goes with it.
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"),
                                            index=True)
    office: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    blocks_registration: Mapped[bool] = mapped_column(default=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cleared_reason: Mapped[str] = mapped_column(Text, default="")

    student: Mapped[Student] = relationship()
    added_by: Mapped[User | None] = relationship(foreign_keys=[added_by_id])
    cleared_by: Mapped[User | None] = relationship(foreign_keys=[cleared_by_id])

    @property
    def active(self) -> bool:
        return self.cleared_at is None

    def __str__(self) -> str:
        return f"{self.office} hold"

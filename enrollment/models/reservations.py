"""Reserved seats: part of a course's capacity kept for one program until a release time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .catalog import Course
from .types import UTCDateTime


def program_key(program: str | None) -> str:
    """How programs are matched: ignoring case and surrounding spaces."""
    return (program or "").strip().casefold()


class Reservation(db.Model):
    """`seats` of the course's capacity are kept for students of `program` until `release_at`.

    Members of the program take these seats first; others take only the unreserved ones. At
    `release_at` the unused seats open to everyone and the waitlist is promoted into them by
    the next change to the course or by `flask tick`, which then set `released_at`.
    """

    __tablename__ = "reservations"
    __table_args__ = (
        UniqueConstraint("course_id", "program", name="uq_reservations_course_program"),
        CheckConstraint("seats >= 0", name="seats_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           index=True)
    program: Mapped[str] = mapped_column(String(120))
    seats: Mapped[int]
    release_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    course: Mapped[Course] = relationship()

    def __str__(self) -> str:
        return f"{self.seats} seats for {self.program}"

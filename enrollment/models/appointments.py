"""Appointments (time tickets): a student's own opening time for enrolling in a term."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .catalog import Term
from .types import UTCDateTime
from .users import Student


class Appointment(db.Model):
    """Before `opens_at` the student may not enroll or join a waitlist in the term (drops are
    never gated); a student without one uses the term's `enrollment_opens`."""

    __tablename__ = "appointments"
    __table_args__ = (UniqueConstraint("term_id", "student_id",
                                       name="uq_appointments_term_student"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"),
                                            index=True)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)

    term: Mapped[Term] = relationship()
    student: Mapped[Student] = relationship()

"""Login identities and student profiles (one-to-one)."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, true
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from ..clock import utcnow
from ..extensions import db
from .oneroster import Modified, Sourced
from .types import UTCDateTime, str_enum

if TYPE_CHECKING:
    from .catalog import Course
    from .enrollments import Enrollment


class Role(enum.StrEnum):
    STUDENT = "student"
    INSTRUCTOR = "instructor"
    STAFF = "staff"


class User(UserMixin, Sourced, db.Model):
    __tablename__ = "users"
    oneroster_kind = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased (see `normalize_email`), so the unique constraint ignores case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), default=Role.STUDENT)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the login id that sessions and remember-me cookies carry: a new token (at logout
    # or a password change) makes every earlier cookie of this user worthless.
    session_token: Mapped[str] = mapped_column(String(32), default=lambda: new_session_token())

    # One-to-one: deleting a user deletes its student profile (the profile is part of the account).
    student: Mapped[Student | None] = relationship(
        back_populates="user", uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )

    @validates("email")
    def _normalize_email(self, key, value: str) -> str:
        return normalize_email(value)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role == Role.STAFF

    @property
    def is_instructor(self) -> bool:
        return self.role == Role.INSTRUCTOR

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.rotate_session_token()

    def rotate_session_token(self) -> None:
        """Log this user out everywhere: sessions and remember cookies stop working."""
        self.session_token = new_session_token()

    def get_id(self) -> str:  # what Flask-Login stores in the session and remember cookie
        return f"{self.id}:{self.session_token}"

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email}>"

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def new_session_token() -> str:
    return secrets.token_hex(16)


def normalize_email(value: str) -> str:
    return (value or "").strip().lower()


class Student(Modified, db.Model):
    __tablename__ = "students"
    __table_args__ = (CheckConstraint("max_credits > 0", name="max_credits_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # ON DELETE CASCADE: the profile cannot outlive its login identity.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    student_number: Mapped[str] = mapped_column(String(20), unique=True)
    program: Mapped[str] = mapped_column(String(120), default="")
    max_credits: Mapped[int] = mapped_column(default=18)
    # Mail confirming the student's own enrolls, waitlist joins and drops (their choice on
    # /me/notifications); offers, promotions, skips and staff changes are always sent.
    mail_confirmations: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The secret of the student's private calendar address (/calendar/<it>.ics), which
    # calendar apps poll without logging in; None: turned off. A new one replaces the old.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    user: Mapped[User] = relationship(back_populates="student")
    # The association objects; links are written only by enrollment.services.
    enrollments: Mapped[list[Enrollment]] = relationship(
        back_populates="student", passive_deletes="all"
    )

    courses: AssociationProxy[list[Course]] = association_proxy("enrollments", "course")
    enrolled_courses: Mapped[list[Course]] = relationship(
        secondary="enrollments",
        primaryjoin="and_(Student.id == Enrollment.student_id, Enrollment.status == 'enrolled')",
        secondaryjoin="Course.id == Enrollment.course_id",
        viewonly=True,
    )
    waitlisted_courses: Mapped[list[Course]] = relationship(
        secondary="enrollments",
        primaryjoin="and_(Student.id == Enrollment.student_id, Enrollment.status == 'waitlisted')",
        secondaryjoin="Course.id == Enrollment.course_id",
        viewonly=True,
    )

    @property
    def name(self) -> str:
        return self.user.name if self.user else ""

    @property
    def email(self) -> str:
        return self.user.email if self.user else ""

    def __repr__(self) -> str:
        return f"<Student {self.student_number}>"

    def __str__(self) -> str:
        return f"{self.name} ({self.student_number})"

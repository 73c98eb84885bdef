"""Creating a student account: user, one-to-one profile and a generated student number."""
import secrets

from sqlalchemy import exists, select

from ..extensions import db
from ..models import Role, Student, User, normalize_email


class EmailTaken(Exception):
    """An account with that email (in any case) exists."""


def new_student_number() -> str:
    """A random, unused 8-digit number starting with 2 (imports use their own numbers)."""
    while True:
        number = f"2{secrets.randbelow(10**7):07d}"
        if not db.session.scalar(select(exists().where(Student.student_number == number))):
            return number


def register_student(*, name: str, email: str, password: str, program: str = "Undeclared"
                     ) -> User:
    """Add a student user and profile to the session (flushes; the caller commits)."""
    email = normalize_email(email)
    if db.session.scalar(select(exists().where(User.email == email))):
        raise EmailTaken(email)
    user = User(email=email, name=name.strip(), role=Role.STUDENT)
    user.set_password(password)
    user.student = Student(student_number=new_student_number(), program=program)
    db.session.add(user)
    db.session.flush()
    return user

"""Who an API request acts for: the bearer token, never a cookie.

Every request to the API's views is authenticated here, before the view runs: no token, an
unknown, expired or revoked one, or an inactive account is a 401 with `WWW-Authenticate:
Bearer`. The token's user becomes `current_user` for the request (Flask-Login would otherwise
read the session or remember-me cookie, which the API never does: see `session.py`).
"""
from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import clock
from ..database import write_transaction
from ..extensions import db, login_manager
from ..models import ApiToken, Role, Scope, Student
from . import tokens
from .errors import ApiError

ME = "me"


def authenticate() -> None:
    """The blueprint's `before_request`: the token, or a 401."""
    g._login_user = login_manager.anonymous_user()  # no cookie is read, whatever happens
    scheme, _, secret = request.headers.get("Authorization", "").strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise ApiError(401, "A bearer token is required (Authorization: Bearer <token>).")
    now = clock.now()
    token, why = tokens.token_for(secret, now)
    if token is None:
        raise ApiError(401, why)
    if tokens.note_use(token, now):
        token_id, user_id = token.id, token.user_id
        with write_transaction(db.session):
            tokens.record_use(token_id, now)
        token = db.session.get(ApiToken, token_id)  # the commit expired what was loaded
        if token is None or token.user_id != user_id:
            raise ApiError(401, "The token is not valid.")
    g.api_token = token
    g._login_user = token.user


def rate_key() -> str:
    """The rate limit's key: the token as sent (hashed; no query), so each client has its
    own budget and guessing tokens from one header has one too."""
    sent = request.headers.get("Authorization", "")
    return "api:" + tokens.hash_secret(sent)[:32]


def token() -> ApiToken:
    return g.api_token


def require_scope(scope: Scope):
    """A view decorator: 403 unless the request's token has `scope`."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            check_scope(scope)
            return view(*args, **kwargs)
        return wrapped
    return decorate


def check_scope(scope: Scope) -> None:
    if scope not in token().scope_set:
        raise ApiError(403, f"This token does not have the scope {scope.value!r}.",
                       code="insufficient_scope")


def is_staff() -> bool:
    return current_user.role == Role.STAFF


def own_student() -> Student:
    """The token's own student (a student's token), or 403."""
    student = current_user.student if current_user.role == Role.STUDENT else None
    if student is None:
        raise ApiError(403, "Only a student's token acts for a student; staff name the "
                            "student.")
    return student


def student_for(student_number: str | None) -> Student:
    """The student a request names: a student's token only itself (`me`, its own number or
    nothing), a staff token anyone (404 when unknown); instructors act for no student."""
    if current_user.role == Role.STUDENT:
        mine = own_student()
        if student_number in (None, "", ME, mine.student_number):
            return mine
        raise ApiError(403, "A student's token acts for that student only.")
    if not is_staff():
        raise ApiError(403, "An instructor's token cannot act for students.")
    if not student_number or student_number == ME:
        raise ApiError(422, "student_number: Give the student's number.",
                       reasons=[("invalid", "student_number: Give the student's number.")])
    if "\x00" in student_number:  # PostgreSQL refuses NUL in text: no such student
        raise ApiError(404, "There is no such student.")
    student = db.session.scalar(select(Student).where(Student.student_number == student_number)
                                .options(joinedload(Student.user)))
    if student is None:
        raise ApiError(404, f"There is no student {student_number[:20]!r}.")
    return student

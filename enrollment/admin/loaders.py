"""AJAX lookups for the admin's student and course selects (search by what staff type)."""
from __future__ import annotations

from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Course, Student, Term, User, parse_id

MAX_RESULTS = 50


def _like(term: str | None) -> str:
    # Escape LIKE wildcards so that "50%" or "a_b" match literally.
    text = (term or "").replace("\x00", "").strip()[:100]
    text = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{text}%"


class StudentLoader(QueryAjaxModelLoader):
    """Students by name, email or student number; shown as 'Name (number) email'."""

    def __init__(self, name: str):
        super().__init__(name, db, Student, fields=["student_number"],
                         placeholder="Type a name, email or student number")

    def format(self, model):
        if model is None:
            return None
        return model.id, f"{model.name} ({model.student_number}) {model.email}"

    def get_one(self, pk):
        pk = parse_id(pk)
        if pk is None:
            return None
        with db.session.no_autoflush:
            return db.session.get(Student, pk, options=[joinedload(Student.user)])

    def get_list(self, term, offset=0, limit=10):
        pattern = _like(term)
        query = (
            select(Student).join(Student.user).options(joinedload(Student.user))
            .where(or_(User.name.ilike(pattern, escape="\\"),
                       User.email.ilike(pattern, escape="\\"),
                       Student.student_number.ilike(pattern, escape="\\")))
            .order_by(User.name, Student.student_number)
            .offset(max(offset or 0, 0)).limit(min(max(limit or 10, 1), MAX_RESULTS))
        )
        return list(db.session.scalars(query))


class CourseLoader(QueryAjaxModelLoader):
    """Course sections by code or title; shown with their term so sections are told apart."""

    def __init__(self, name: str):
        super().__init__(name, db, Course, fields=["code"],
                         placeholder="Type a course code or title")

    def format(self, model):
        if model is None:
            return None
        return model.id, f"{model.code} {model.title} · {model.term.code}"

    def get_one(self, pk):
        pk = parse_id(pk)
        if pk is None:
            return None
        with db.session.no_autoflush:
            return db.session.get(Course, pk, options=[joinedload(Course.term)])

    def get_list(self, term, offset=0, limit=10):
        pattern = _like(term)
        query = (
            select(Course).join(Course.term).options(joinedload(Course.term))
            .where(or_(Course.code.ilike(pattern, escape="\\"),
                       Course.title.ilike(pattern, escape="\\"),
                       Term.code.ilike(pattern, escape="\\")))
            .order_by(Term.enrollment_opens.desc(), Course.code)
            .offset(max(offset or 0, 0)).limit(min(max(limit or 10, 1), MAX_RESULTS))
        )
        return list(db.session.scalars(query))

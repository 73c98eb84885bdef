"""The nested reads of the OneRoster REST provider: a class's students and teachers, the
classes of a term, a course or a user, and the school-scoped reads (one school here: the whole
roster). Each finds its parent first (one statement; an unknown parent is `unknownobject`) and
reads the collection scoped to it."""
from __future__ import annotations

from sqlalchemy import false, select

from ..extensions import db
from ..models import Course, Enrollment, Role, Student, Term, User
from . import ids, records
from .rest import IS_STUDENT, IS_TEACHER, bp, collection, is_term, not_found


# --- nested reads -------------------------------------------------------------------------------
def _class_row(sourced_id: str):
    found = db.session.execute(select(Course.id, Course.instructor_id)
                               .where(Course.sourced_id == sourced_id)).first()
    if found is None:
        raise not_found("class", sourced_id)
    return found


def _linked_students(course_pk: int):
    return select(Enrollment.student_id).where(Enrollment.course_id == course_pk,
                                               Enrollment.status.in_(records.LINKED))


@bp.get("/classes/<sourced_id>/students")
def class_students(sourced_id):
    course_pk, _ = _class_row(sourced_id)
    return collection("users", "users",
                      scope=(*IS_STUDENT, Student.id.in_(_linked_students(course_pk))))


@bp.get("/classes/<sourced_id>/teachers")
def class_teachers(sourced_id):
    _, instructor_id = _class_row(sourced_id)
    scope = (*IS_TEACHER, User.id == instructor_id) if instructor_id is not None else (false(),)
    return collection("users", "users", scope=scope)


def _check_school(sourced_id: str) -> None:
    if sourced_id != records.school()[0]:
        raise not_found("school", sourced_id)


@bp.get("/schools/<sourced_id>/classes")
def school_classes(sourced_id):
    _check_school(sourced_id)
    return collection("classes", "classes")


@bp.get("/schools/<sourced_id>/enrollments")
def school_enrollments(sourced_id):
    _check_school(sourced_id)
    return collection("enrollments", "enrollments")


@bp.get("/terms/<sourced_id>/classes")
def term_classes(sourced_id):
    term_pk = db.session.scalar(select(Term.id).where(Term.sourced_id == sourced_id))
    if term_pk is None:
        raise not_found("term", sourced_id)
    return collection("classes", "classes", scope=(Course.term_id == term_pk,))


@bp.get("/courses/<sourced_id>/classes")
def course_classes(sourced_id):
    # A course's id is derived from its code (not stored): find the code among the codes.
    code = next((c for c in db.session.scalars(select(Course.code).distinct())
                 if ids.course_id(c) == sourced_id), None)
    if code is None:
        raise not_found("course", sourced_id)
    return collection("classes", "classes", scope=(Course.code == code,))


def _user_classes(sourced_id: str, *, what: str, role: str | None):
    found = db.session.execute(
        select(User.id, User.role, Student.id).outerjoin(Student, Student.user_id == User.id)
        .where(User.sourced_id == sourced_id)).first()
    if found is None:
        raise not_found(what, sourced_id)
    user_pk, user_role, student_pk = found
    is_student = student_pk is not None
    is_teacher = not is_student and user_role == Role.INSTRUCTOR
    if (role == "student" and not is_student) or (role == "teacher" and not is_teacher) \
            or not (is_student or is_teacher):
        raise not_found(what, sourced_id)
    if is_student:
        taken = select(Enrollment.course_id).where(Enrollment.student_id == student_pk,
                                                   Enrollment.status.in_(records.LINKED))
        scope = (Course.id.in_(taken),)
    else:
        scope = (Course.instructor_id == user_pk,)
    return collection("classes", "classes", scope=scope)


@bp.get("/users/<sourced_id>/classes")
def user_classes(sourced_id):
    return _user_classes(sourced_id, what="user", role=None)


@bp.get("/students/<sourced_id>/classes")
def student_classes(sourced_id):
    return _user_classes(sourced_id, what="student", role="student")


@bp.get("/teachers/<sourced_id>/classes")
def teacher_classes(sourced_id):
    return _user_classes(sourced_id, what="teacher", role="teacher")


# --- the binding's other school-scoped reads (one school: the whole roster) --------------------
@bp.get("/schools/<sourced_id>/courses")
def school_courses(sourced_id):
    _check_school(sourced_id)
    return collection("courses", "courses")


@bp.get("/schools/<sourced_id>/terms")
def school_terms(sourced_id):
    _check_school(sourced_id)
    return collection("academicSessions", "academicSessions", keep=is_term)


@bp.get("/schools/<sourced_id>/students")
def school_students(sourced_id):
    _check_school(sourced_id)
    return collection("users", "users", scope=IS_STUDENT)


@bp.get("/schools/<sourced_id>/teachers")
def school_teachers(sourced_id):
    _check_school(sourced_id)
    return collection("users", "users", scope=IS_TEACHER)


@bp.get("/schools/<sourced_id>/classes/<class_id>/enrollments")
def school_class_enrollments(sourced_id, class_id):
    _check_school(sourced_id)
    course_pk, _ = _class_row(class_id)
    return collection("enrollments", "enrollments", scope=(Course.id == course_pk,))


@bp.get("/schools/<sourced_id>/classes/<class_id>/students")
def school_class_students(sourced_id, class_id):
    _check_school(sourced_id)
    return class_students(class_id)


@bp.get("/schools/<sourced_id>/classes/<class_id>/teachers")
def school_class_teachers(sourced_id, class_id):
    _check_school(sourced_id)
    return class_teachers(class_id)

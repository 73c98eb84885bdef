"""The large OneRoster types, read in SQL: classes, users and enrollments.

Each is a subquery (`*_rows(delta, scope)`) whose columns the REST provider filters, sorts and
pages in SQL through the `*_fields` mapping (OneRoster field name -> `Field`), and a function
making a record of one row. In a delta (`delta=True`) the subquery also holds the tombstones:
deleted rows (`Deletion`) and, for enrollments, links dropped (read from the audit trail).
A nested read's `scope` (conditions on the underlying tables) leaves the tombstones out.
"""
from __future__ import annotations

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)

from ..models import Course, Deletion, Enrollment, EnrollmentEvent, Role, Student, Term, User
from . import ids
from .csv_people import is_placeholder_email
from .record_format import (
    ACTIVE,
    LINKED,
    TOBEDELETED,
    Field,
    aware,
    flag,
    moment,
    names,
    ref,
    school,
)

STUDENT_TAG, TEACHER_TAG = 1, 2  # an enrollment row's kind, in sourcedId order


# --- classes (large: SQL) ---------------------------------------------------------------------
def class_rows(delta: bool, scope=()):
    active = (select(Course.id.label("pk"), Course.sourced_id.label("sourced_id"),
                     literal(ACTIVE).label("status"), Course.updated_at.label("modified"),
                     Course.title.label("title"), Course.code.label("code"),
                     Course.location.label("location"), Term.sourced_id.label("term_sid"),
                     Course.instructor_id.label("instructor_id"))
              .join(Term, Course.term_id == Term.id).where(*scope))
    if not delta or scope:  # a nested read (the classes of a term, a user…) has no tombstones
        return active.subquery("classes")
    gone = (select(cast(null(), Integer), Deletion.sourced_id, literal(TOBEDELETED),
                   func.max(Deletion.deleted_at), cast(null(), String), cast(null(), String),
                   cast(null(), String), cast(null(), String), cast(null(), Integer))
            .where(Deletion.kind == "class",
                   ~select(Course.id).where(Course.sourced_id == Deletion.sourced_id).exists())
            .group_by(Deletion.sourced_id))
    return union_all(active, gone).subquery("classes")


def class_record(row, base_url: str) -> dict:
    school_id, _ = school()
    if row.status == TOBEDELETED:
        return {"sourcedId": row.sourced_id, "status": TOBEDELETED,
                "dateLastModified": moment(aware(row.modified))}
    return {"sourcedId": row.sourced_id, "status": ACTIVE,
            "dateLastModified": moment(aware(row.modified)), "title": row.title,
            "classCode": row.code, "classType": "scheduled", "location": row.location or "",
            "grades": [], "subjects": [], "course": ref(base_url, "course", ids.course_id(row.code)),
            "school": ref(base_url, "org", school_id),
            "terms": [ref(base_url, "academicSession", row.term_sid)], "subjectCodes": [],
            "periods": [], "resources": []}


def class_fields(rows) -> dict[str, Field]:
    c = rows.c
    return {"sourcedId": Field(c.sourced_id), "status": Field(c.status),
            "dateLastModified": Field(c.modified, "moment"), "title": Field(c.title),
            "classCode": Field(c.code), "classType": Field(literal("scheduled")),
            "location": Field(c.location)}


# --- users (large: SQL) -----------------------------------------------------------------------
def user_rows(delta: bool, scope=()):
    modified = case((and_(Student.updated_at.is_not(None),
                          Student.updated_at > User.updated_at), Student.updated_at),
                    else_=User.updated_at)
    active = (select(User.id.label("pk"), User.sourced_id.label("sourced_id"),
                     literal(ACTIVE).label("status"), modified.label("modified"),
                     User.name.label("name"), User.email.label("email"),
                     User.active.label("enabled"),
                     case((Student.id.is_not(None), "student"), else_="teacher").label("role"),
                     Student.student_number.label("student_number"))
              .outerjoin(Student, Student.user_id == User.id)
              .where(or_(Student.id.is_not(None), User.role == Role.INSTRUCTOR), *scope))
    if not delta or scope:
        return active.subquery("users")
    gone = (select(cast(null(), Integer), Deletion.sourced_id, literal(TOBEDELETED),
                   func.max(Deletion.deleted_at), cast(null(), String), cast(null(), String),
                   null(), cast(null(), String), cast(null(), String))
            .where(Deletion.kind == "user",
                   ~select(User.id).where(User.sourced_id == Deletion.sourced_id).exists())
            .group_by(Deletion.sourced_id))
    return union_all(active, gone).subquery("users")


def user_record(row, base_url: str) -> dict:
    if row.status == TOBEDELETED:
        return {"sourcedId": row.sourced_id, "status": TOBEDELETED,
                "dateLastModified": moment(aware(row.modified))}
    given, family = names(row.name)
    email = "" if is_placeholder_email(row.email) else row.email
    student = row.role == "student"
    return {"sourcedId": row.sourced_id, "status": ACTIVE,
            "dateLastModified": moment(aware(row.modified)),
            "username": email or (row.student_number if student else row.sourced_id),
            "userIds": ([{"type": "studentNumber", "identifier": row.student_number}]
                        if student else []),
            "enabledUser": flag(bool(row.enabled)), "givenName": given, "familyName": family,
            "middleName": "", "role": row.role,
            "identifier": row.student_number if student else "", "email": email, "sms": "",
            "phone": "", "agents": [], "orgs": [ref(base_url, "org", school()[0])],
            "grades": []}


def user_fields(rows) -> dict[str, Field]:
    c = rows.c
    return {"sourcedId": Field(c.sourced_id), "status": Field(c.status),
            "dateLastModified": Field(c.modified, "moment"), "username": Field(c.email),
            "email": Field(c.email), "enabledUser": Field(c.enabled, "flag"),
            "role": Field(c.role), "identifier": Field(c.student_number)}


# --- enrollments (large: SQL) -----------------------------------------------------------------
def enrollment_rows(delta: bool, scope=()):
    """Student links and teacher enrollments (and, in a delta, dropped links) as one
    subquery: tag, course_pk, other_pk (students.id or users.id), status, modified,
    class_sid, user_sid, role, primary."""
    students = (select(literal(STUDENT_TAG).label("tag"), Enrollment.course_id.label("course_pk"),
                       Enrollment.student_id.label("other_pk"), literal(ACTIVE).label("status"),
                       Enrollment.updated_at.label("modified"),
                       Course.sourced_id.label("class_sid"), User.sourced_id.label("user_sid"),
                       literal("student").label("role"), literal("false").label("primary"))
                .join(Course, Enrollment.course_id == Course.id)
                .join(Student, Enrollment.student_id == Student.id)
                .join(User, Student.user_id == User.id)
                .where(Enrollment.status.in_(LINKED), *scope))
    teachers = (select(literal(TEACHER_TAG), Course.id, User.id, literal(ACTIVE),
                       Course.updated_at, Course.sourced_id, User.sourced_id, literal("teacher"),
                       literal("true"))
                .join(User, Course.instructor_id == User.id)
                .where(User.role == Role.INSTRUCTOR, *scope))
    parts = [students, teachers]
    if delta:
        now_linked = select(Enrollment.student_id).where(
            Enrollment.student_id == EnrollmentEvent.student_id,
            Enrollment.course_id == EnrollmentEvent.course_id, Enrollment.status.in_(LINKED))
        parts.append(
            select(literal(STUDENT_TAG), EnrollmentEvent.course_id, EnrollmentEvent.student_id,
                   literal(TOBEDELETED), func.max(EnrollmentEvent.at), Course.sourced_id,
                   User.sourced_id, literal("student"), literal("false"))
            .join(Course, EnrollmentEvent.course_id == Course.id)
            .join(Student, EnrollmentEvent.student_id == Student.id)
            .join(User, Student.user_id == User.id)
            .where(EnrollmentEvent.status_before.in_(LINKED),
                   or_(EnrollmentEvent.status_after.is_(None),
                       EnrollmentEvent.status_after.not_in(LINKED)),
                   ~now_linked.exists(), *scope)
            .group_by(EnrollmentEvent.course_id, EnrollmentEvent.student_id, Course.sourced_id,
                      User.sourced_id))
    return union_all(*parts).subquery("enrollments")


def enrollment_sourced_id(tag: int, course_pk: int, other_pk: int) -> str:
    if tag == TEACHER_TAG:
        return ids.teacher_enrollment_id(course_pk, other_pk)
    return ids.enrollment_id(course_pk, other_pk)


def enrollment_record(row, base_url: str) -> dict:
    record = {"sourcedId": enrollment_sourced_id(row.tag, row.course_pk, row.other_pk),
              "status": row.status, "dateLastModified": moment(aware(row.modified)),
              "user": ref(base_url, "user", row.user_sid),
              "class": ref(base_url, "class", row.class_sid),
              "school": ref(base_url, "org", school()[0]), "role": row.role}
    if row.status == ACTIVE:
        record.update({"primary": row.primary, "beginDate": None, "endDate": None})
    return record


def enrollment_fields(rows) -> dict[str, Field]:
    c = rows.c
    return {"sourcedId": Field(rows, "enrollment_id"), "status": Field(c.status),
            "dateLastModified": Field(c.modified, "moment"), "role": Field(c.role),
            "primary": Field(c.primary)}


def enrollment_id_condition(rows, sourced_id: str):
    """The condition `sourcedId = sourced_id` on an enrollments subquery."""
    parsed = ids.parse_enrollment_id(sourced_id)
    if parsed is None:
        return literal(False)
    kind, course_pk, other_pk = parsed
    tag = STUDENT_TAG if kind == "student" else TEACHER_TAG
    return and_(rows.c.tag == tag, rows.c.course_pk == course_pk, rows.c.other_pk == other_pk)

"""The sourcedIds of OneRoster records that have no row of their own.

Classes, academic sessions of type `term`, department orgs and users keep a UUID on their row
(`sourced_id`). The others are derived, so that they are stable without being stored:

- an **enrollment** is one link (a student in a class) or a class's teacher: its id encodes the
  course and the student (or the instructor's user), so a dropped link's tombstone, read from the
  audit trail, carries the same id as the record it removes, and an id names its row;
- a OneRoster **course** is one course code, shared by every term that offers it;
- a **school year** is the year its terms end in (1EdTech: "2027" is the year 2026–2027);
- the **school** is the one org above the departments.
"""
from __future__ import annotations

import uuid
from datetime import date

# The high 32 bits of a derived enrollment id say what its low bits hold.
STUDENT_TAG = 0x0E5E0001
TEACHER_TAG = 0x0E5E0002
_BITS = 48
_MASK = (1 << _BITS) - 1
_NAMESPACE = uuid.UUID("4f6e6552-6f73-7465-7220-456e726f6c6c")  # fixed: ids never change


def enrollment_id(course_id: int, student_id: int) -> str:
    """The id of the link of student `student_id` (students.id) in course `course_id`."""
    return _pack(STUDENT_TAG, course_id, student_id)


def teacher_enrollment_id(course_id: int, user_id: int) -> str:
    """The id of the teacher enrollment of instructor `user_id` (users.id) in `course_id`."""
    return _pack(TEACHER_TAG, course_id, user_id)


def parse_enrollment_id(sourced_id: str) -> tuple[str, int, int] | None:
    """("student", course id, students.id) or ("teacher", course id, users.id); None when the
    text is not an enrollment id of ours."""
    try:
        value = uuid.UUID(sourced_id.strip()).int
    except (ValueError, AttributeError):
        return None
    tag, course_id, other = value >> (2 * _BITS), (value >> _BITS) & _MASK, value & _MASK
    kind = {STUDENT_TAG: "student", TEACHER_TAG: "teacher"}.get(tag)
    if kind is None or _pack(tag, course_id, other) != str(uuid.UUID(sourced_id.strip())):
        return None
    return kind, course_id, other


def course_id(code: str) -> str:
    """The id of the OneRoster course of a course code (case kept: codes are stored as given)."""
    return str(uuid.uuid5(_NAMESPACE, f"course:{code}"))


# A term ending in September or later belongs to the next school year (a fall term of 2026 is
# in the year 2026–2027, "2027"); one ending by August to the year it ends in.
NEXT_YEAR_FROM_MONTH = 9


def school_year(classes_end: date) -> int:
    """The school year (its ending year) a term belongs to."""
    return classes_end.year + (1 if classes_end.month >= NEXT_YEAR_FROM_MONTH else 0)


def school_year_id(year: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"schoolYear:{year}"))


def school_id(school_name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"school:{school_name}"))


def _pack(tag: int, high: int, low: int) -> str:
    if not (0 <= high <= _MASK and 0 <= low <= _MASK):
        raise ValueError("id out of range")
    return str(uuid.UUID(int=(tag << (2 * _BITS)) | (high << _BITS) | low))

"""Marshmallow schemas of the API: what the views read (query strings, JSON bodies) and what
they answer; flask-smorest builds the OpenAPI document from them."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from ..models import MAX_ID
from ..services import Override

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_OFFSET = 2**31 - 1
TEXT_MAX = 100


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ma.ValidationError("Must not contain a NUL character.")


def _text(max_length: int = TEXT_MAX, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=[validate.Length(max=max_length), _no_nul], **kwargs)


class PageArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=DEFAULT_LIMIT,
                              validate=validate.Range(min=1, max=MAX_LIMIT),
                              metadata={"description": f"Items per page, 1–{MAX_LIMIT}."})
    offset = ma.fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_OFFSET),
                               metadata={"description": "Items to skip."})


class CourseArgs(PageArgs):
    term = _text(metadata={"description": "A term code (e.g. 2027SP)."})
    q = _text(metadata={"description": "Search in course codes and titles."})
    department = _text(metadata={"description": "A department code."})
    open = ma.fields.Boolean(metadata={
        "description": "true: only courses with a free seat in a term still open."})


class TermSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    enrollment_opens = ma.fields.AwareDateTime(required=True)
    enrollment_closes = ma.fields.AwareDateTime(required=True)
    drop_deadline = ma.fields.AwareDateTime(required=True)


class CourseSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    term = ma.fields.String(required=True, metadata={"description": "The term's code."})
    department = ma.fields.String(required=True, metadata={"description": "Its code."})
    credits = ma.fields.Integer(required=True)
    capacity = ma.fields.Integer(required=True)
    enrolled = ma.fields.Integer(required=True)
    waitlisted = ma.fields.Integer(required=True)
    seats_left = ma.fields.Integer(required=True, metadata={
        "description": "Seats this token's student may take (staff: seats open to anyone)."})
    days = ma.fields.String(required=True, metadata={"description": "Letters of MTWRFSU."})
    start_time = ma.fields.String(required=True, allow_none=True,
                                  metadata={"description": "HH:MM, school time."})
    end_time = ma.fields.String(required=True, allow_none=True)
    location = ma.fields.String(required=True)
    instructor = ma.fields.String(required=True)


class CrosslistSchema(ma.Schema):
    key = ma.fields.String(required=True)
    capacity = ma.fields.Integer(required=True, metadata={
        "description": "The group's seat pool: its seated total at most."})
    seats_left = ma.fields.Integer(required=True)
    sections = ma.fields.List(ma.fields.String(), required=True,
                              metadata={"description": "Course codes of the group."})


class CourseDetailSchema(CourseSchema):
    description = ma.fields.String(required=True)
    waitlist_capacity = ma.fields.Integer(required=True)
    prerequisites = ma.fields.List(ma.fields.String(), required=True,
                                   metadata={"description": "Course codes."})
    corequisites = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "Course codes of the same term taken with this one (enrolled in the "
                       "term, or passed before, or enrolled together: `with`)."})
    crosslist = ma.fields.Nested(CrosslistSchema, required=True, allow_none=True, metadata={
        "description": "The cross-listed group (one pool, one waitlist), or null."})


class RosterEntrySchema(ma.Schema):
    student_number = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(
        ["enrolled", "offered", "waitlisted", "completed"]))
    waitlist_position = ma.fields.Integer(required=True, allow_none=True)
    enrolled_at = ma.fields.AwareDateTime(required=True, metadata={
        "description": "When the current status began."})


def page_of(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The envelope of a collection: items, total, limit, offset."""
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "total": ma.fields.Integer(required=True),
        "limit": ma.fields.Integer(required=True),
        "offset": ma.fields.Integer(required=True),
    }, name=name)


TermPage = page_of(TermSchema, "TermPage")
CoursePage = page_of(CourseSchema, "CoursePage")
RosterPage = page_of(RosterEntrySchema, "RosterPage")

OVERRIDES = [o.value for o in Override]
MAX_TOGETHER = 10  # courses enrolled or dropped with one in one request


def _together(description: str):
    return ma.fields.List(ma.fields.Integer(validate=validate.Range(1, MAX_ID)),
                          data_key="with", attribute="together", load_default=list,
                          validate=validate.Length(max=MAX_TOGETHER),
                          metadata={"description": description})


class EnrollArgs(ma.Schema):
    student_number = _text(20, metadata={
        "description": "Staff: the student to enroll. A student's token leaves it out "
                       "(or gives its own)."})
    override = ma.fields.List(ma.fields.String(validate=validate.OneOf(OVERRIDES)),
                              load_default=list, validate=validate.Length(max=len(OVERRIDES)),
                              metadata={"description": "Rules to override (staff, scope "
                                                       "admin; a reason is required)."})
    reason = _text(500, load_default="")
    together = _together("Ids of courses of the same term to enroll in with this one: all "
                         "are enrolled, or none (each needs a free seat).")


class DropArgs(ma.Schema):
    override = ma.fields.List(ma.fields.String(validate=validate.OneOf(OVERRIDES)),
                              load_default=list, validate=validate.Length(max=len(OVERRIDES)),
                              metadata={"description": "Staff (scope admin): `deadline`, "
                                                       "`corequisites`."})
    reason = _text(500, load_default="")
    together = _together("Ids of courses to drop with this one: all are dropped, or none.")


class EnrollmentSchema(ma.Schema):
    student_number = ma.fields.String(required=True)
    course_id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(["enrolled", "waitlisted"]))
    waitlist_position = ma.fields.Integer(required=True, allow_none=True)
    together = ma.fields.List(ma.fields.Integer(), data_key="with", metadata={
        "description": "Ids of the courses enrolled in the same request (when `with` was "
                       "given)."})


class DropSchema(ma.Schema):
    student_number = ma.fields.String(required=True)
    course_id = ma.fields.Integer(required=True)
    previous_status = ma.fields.String(required=True)
    promoted = ma.fields.Integer(required=True, metadata={
        "description": "Students promoted from the waitlist into the freed seat."})
    offered = ma.fields.Integer(required=True, metadata={
        "description": "Seats offered to waitlisted students (offer mode)."})
    together = ma.fields.List(ma.fields.Integer(), data_key="with", metadata={
        "description": "Ids of the courses dropped in the same request (when `with` was "
                       "given)."})


class ScheduleCourseSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    credits = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    waitlist_position = ma.fields.Integer(required=True, allow_none=True)
    offer_expires_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    swap_drops = ma.fields.Integer(required=True, allow_none=True, metadata={
        "description": "Waitlisted with a swap attached: the id of the course dropped when a "
                       "seat is given (else null)."})
    days = ma.fields.String(required=True)
    start_time = ma.fields.String(required=True, allow_none=True)
    end_time = ma.fields.String(required=True, allow_none=True)
    location = ma.fields.String(required=True)


class ScheduleTermSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    credits = ma.fields.Integer(required=True, metadata={"description": "Enrolled credits."})
    courses = ma.fields.List(ma.fields.Nested(ScheduleCourseSchema), required=True)


class CompletedSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    term = ma.fields.String(required=True)
    credits = ma.fields.Integer(required=True)
    grade = ma.fields.String(required=True, allow_none=True)


class ScheduleSchema(ma.Schema):
    student_number = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    terms = ma.fields.List(ma.fields.Nested(ScheduleTermSchema), required=True)
    completed = ma.fields.List(ma.fields.Nested(CompletedSchema), required=True)

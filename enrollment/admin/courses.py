"""Courses in the admin: seat counts on the list, the course's fields through the rules.

The roster is not a field of the course form (a stray "×" in a multi-select dropped a student
on Save): it has its own editor, `roster_editor.RosterEditorMixin`, linked from the list and
the edit page.
"""
from __future__ import annotations

from flask import g, url_for
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import clock, services
from ..extensions import db
from ..models import (
    Course,
    Crosslist,
    Enrollment,
    Role,
    User,
    corequisite_links,
    crosslist_sections,
    parse_id,
)
from ..models.catalog import instructor_name
from ..records import CourseFields
from ..services import course_changes
from .base import StaffModelView
from .loaders import CourseLoader
from .records import RecordFormMixin
from .roster import RosterFormMixin, RosterRefused
from .roster_editor import RosterEditorMixin


def _seats(view, context, model, name):
    counts = g.get("admin_seat_counts", {}).get(model.id)
    enrolled = counts.enrolled if counts else 0
    return f"{enrolled} / {model.capacity}"


def _waitlist(view, context, model, name):
    counts = g.get("admin_seat_counts", {}).get(model.id)
    waiting = counts.waitlisted if counts else 0
    return f"{waiting} / {model.waitlist_capacity}"


def corequisite_codes(course_ids: list[int]) -> dict[int, str]:
    """{course id: its co-requisite codes, space-separated} in one query (the export's
    column, as the courses CSV writes it)."""
    found: dict[int, list[str]] = {}
    if course_ids:
        for course_id, code in db.session.execute(
                select(corequisite_links.c.course_id, Course.code)
                .join(Course, Course.id == corequisite_links.c.corequisite_id)
                .where(corequisite_links.c.course_id.in_(course_ids)).order_by(Course.code)):
            found.setdefault(course_id, []).append(code)
    return {course_id: " ".join(codes) for course_id, codes in found.items()}


def _corequisites(view, context, model, name):
    return g.get("admin_corequisites", {}).get(model.id, "")


def crosslist_cells(course_ids: list[int]) -> dict[int, tuple[str, int]]:
    """{course id: (its cross-listed group's key, the pool)} in one query."""
    if not course_ids:
        return {}
    return {course_id: (key, capacity) for course_id, key, capacity in db.session.execute(
        select(crosslist_sections.c.course_id, Crosslist.key, Crosslist.capacity)
        .join(Crosslist, Crosslist.id == crosslist_sections.c.crosslist_id)
        .where(crosslist_sections.c.course_id.in_(course_ids)))}


def _crosslist(view, context, model, name):
    return g.get("admin_crosslists", {}).get(model.id, ("", ""))[0]


def _crosslist_capacity(view, context, model, name):
    return g.get("admin_crosslists", {}).get(model.id, ("", ""))[1]


def _roster_link(view, context, model, name):
    return Markup('<a href="{}">edit roster</a> · <a href="{}">print</a>').format(
        url_for("course.roster_view", id=model.id),
        url_for("reports.roster", course_id=model.id))


class CourseView(RosterEditorMixin, RosterFormMixin, RecordFormMixin, StaffModelView):
    edit_template = "admin/course/edit.html"
    unique_message = "Another course in this term already uses this code."

    column_list = ["term", "department", "code", "title", "credits", "seats", "waitlist",
                   "instructor", "schedule_label", "roster"]
    column_labels = {"term": "Term", "department": "Dept.", "seats": "Enrolled / capacity",
                     "waitlist": "Waitlist", "schedule_label": "Meets",
                     "term.code": "Term", "department.code": "Department"}
    column_formatters = {"term": lambda v, c, m, n: m.term.code,
                         "department": lambda v, c, m, n: m.department.code,
                         "seats": _seats, "waitlist": _waitlist, "roster": _roster_link}
    column_formatters_export = {"term": lambda v, c, m, n: m.term.code,
                                "department": lambda v, c, m, n: m.department.code,
                                "seats": _seats, "waitlist": _waitlist,
                                "corequisites": _corequisites, "crosslist": _crosslist,
                                "crosslist_capacity": _crosslist_capacity}
    column_export_list = ["term", "department", "code", "title", "credits", "capacity",
                          "seats", "waitlist", "instructor", "days", "start_time", "end_time",
                          "location", "corequisites", "crosslist", "crosslist_capacity"]
    column_sortable_list = [("term", "term.code"), ("department", "department.code"), "code",
                            "title", "credits", "instructor"]
    column_default_sort = [("code", False)]
    column_searchable_list = ["code", "title", "instructor"]
    column_filters = ["term.code", "department.code", "code", "credits", "instructor"]

    # The course's own fields come from `records.CourseFields` (as in the CSV import); the
    # scaffolded ones are its references. The rules set the order on the page.
    record_fields = CourseFields
    form_columns = ["term", "department", "instructor_user", "prerequisites", "corequisites"]
    form_create_rules = form_edit_rules = (
        "term", "department", "code", "title", "description", "credits", "capacity",
        "waitlist_capacity", "instructor", "instructor_user", "days", "start_time", "end_time",
        "location", "repeatable", "prerequisites", "corequisites")
    form_ajax_refs = {"prerequisites": CourseLoader("prerequisites"),
                      "corequisites": CourseLoader("corequisites")}
    form_args = {
        "department": {"label": "Department"},
        "corequisites": {"label": "Co-requisites",
                         "description": "Courses of the same term taken with this one: "
                                        "enrolled in the term (or passed before), or enrolled "
                                        "together in one request."},
        # As in the courses CSV (`instructor_email`): only an instructor's account teaches.
        "instructor_user": {
            "label": "Instructor account",
            "description": "Who sees this course on their Teaching pages. The name shown is "
                           "the Instructor field, or this account's name when that is empty.",
            "query_factory": lambda: db.session.scalars(
                select(User).where(User.role == Role.INSTRUCTOR).order_by(User.name)).all(),
            "get_label": lambda user: f"{user.name} ({user.email})",
        },
    }

    def get_query(self):
        return super().get_query().options(joinedload(Course.term), joinedload(Course.department))

    def get_list(self, *args, **kwargs):
        count, data = super().get_list(*args, **kwargs)
        # One aggregate for the page's seat counts instead of two queries per row.
        g.admin_seat_counts = services.seat_counts([c.id for c in data], now=clock.now())
        g.admin_corequisites = corequisite_codes([c.id for c in data])
        g.admin_crosslists = crosslist_cells([c.id for c in data])
        return count, data

    def get_one(self, id):
        pk = parse_id(id)
        if pk is None:
            return None
        # populate_existing: the eager loads apply even to a course already in the session.
        return db.session.scalars(
            select(Course).where(Course.id == pk).options(
                joinedload(Course.term), joinedload(Course.department),
                selectinload(Course.prerequisites).joinedload(Course.term),
                selectinload(Course.corequisites).joinedload(Course.term))
            .execution_options(populate_existing=True)).first()

    def roster_counts(self, course: Course) -> services.SeatCount:
        """The edit page's roster summary (one query)."""
        return services.seat_count(course.id, now=clock.now())

    def populate_plain(self, form, model, is_created):
        # A capacity change promotes from the waitlist: `after_plain` runs it by the rules.
        skip = () if is_created else ("capacity", "waitlist_capacity")
        # What its students knew (time, room): `after_plain` tells them what changed.
        model.schedule_before = None if is_created else course_changes.snapshot(model)
        super().populate_plain(form, model, is_created, skip=skip)

    def after_plain(self, form, model, is_created, context):
        model.instructor = instructor_name(model.instructor, model.instructor_user)
        if model in (form.prerequisites.data or []):
            raise RosterRefused("prerequisites", "A course cannot be its own prerequisite.")
        corequisites = form.corequisites.data or []
        if model in corequisites:
            raise RosterRefused("corequisites", "A course cannot be its own co-requisite.")
        elsewhere = [c.code for c in corequisites if c.term_id != model.term.id]
        if elsewhere:
            raise RosterRefused("corequisites", f"Co-requisites are courses of the same term: "
                                                f"{', '.join(elsewhere)} "
                                                f"{'is' if len(elsewhere) == 1 else 'are'} not "
                                                f"in {model.term.code}.")
        if is_created:
            return
        course_changes.record_change(model, model.schedule_before, actor=context["actor"],
                                     now=context["now"])
        capacity, waitlist = form.capacity.data, form.waitlist_capacity.data
        if (capacity, waitlist) != (model.capacity, model.waitlist_capacity):
            try:
                result = services.set_capacity(model, capacity, actor=context["actor"],
                                               now=context["now"], waitlist_capacity=waitlist)
            except services.EnrollmentRefused as exc:  # below its reserved seats
                raise RosterRefused("capacity", exc.message) from None
            context["tally"]["promoted"] += len(result.promoted)
            enrolled = services.seat_count(model.id, now=context["now"]).enrolled
            if enrolled > capacity:
                context.setdefault("notes", []).append(
                    f"{model.code} has {enrolled} students enrolled, more than its new capacity "
                    f"of {capacity}. Nobody was removed: new students join the waitlist until "
                    f"drops bring it under {capacity}.")

    def delete_blocker(self, model):
        links = db.session.scalar(select(func.count()).select_from(Enrollment)
                                  .where(Enrollment.course_id == model.id))
        if links:
            return (f"{model.code} cannot be deleted: it has {links} enrolled, waitlisted or "
                    "completed students. Drop them first (Enrollments → With selected → Drop).")
        return None

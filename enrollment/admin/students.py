"""Students in the admin: name and email from the login, courses edited through the rules."""
from __future__ import annotations

from flask_admin.actions import action
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import services
from ..extensions import db
from ..models import (
    Course,
    Enrollment,
    Role,
    Source,
    Status,
    Student,
    User,
    parse_id,
)
from ..records import StudentFields
from ..services import Override
from .base import StaffModelView
from .bulk import BulkActionsMixin, BulkOp, int_ids
from .forms import COURSE_LOOKUP, BulkEnrollForm, overrides_of
from .loaders import CourseLoader
from .records import RecordFormMixin
from .roster import RosterFormMixin, RosterRefused, WhenDropsPending, WhenOffered


def _enroll_one(view, student, form, context) -> str:
    link = services.enroll(student, form.course.data, actor=context["actor"],
                           now=context["now"], source=Source.STAFF,
                           override=overrides_of(form.overrides), reason=form.reason.data or "")
    return "enrolled" if link.status == Status.ENROLLED else "waitlisted"


class StudentView(BulkActionsMixin, RosterFormMixin, RecordFormMixin, StaffModelView):
    edit_template = "admin/student/edit.html"
    link_field = "courses"
    link_loader = CourseLoader(COURSE_LOOKUP)
    link_description = ("Type a course code or title. Added courses enroll the student (or "
                        "waitlist when full) by the rules; removed ones are dropped.")
    link_overrides = (*services.ENROLL_OVERRIDES, Override.DEADLINE)
    unique_message = "Another student already uses this student number or email."

    column_list = ["student_number", "user.name", "user.email", "program", "max_credits"]
    column_labels = {"user.name": "Name", "user.email": "Email", "max_credits": "Max credits",
                     "student_number": "Student number"}
    column_sortable_list = ["student_number", "user.name", "user.email", "program",
                            "max_credits"]
    column_default_sort = [("student_number", False)]
    column_searchable_list = ["student_number", "user.name", "user.email"]
    column_filters = ["program", "max_credits", "user.active"]
    column_export_list = ["student_number", "user.name", "user.email", "program",
                          "max_credits"]

    # The student's own fields (name and email live on the login) come from
    # `records.StudentFields`, as in the CSV import; the rules set the order on the page.
    record_fields = StudentFields
    form_columns = ["courses"]
    form_create_rules = form_edit_rules = (
        "student_number", "name", "email", "program", "max_credits", "courses",
        WhenDropsPending("confirm_drops"), WhenOffered("overrides"), "reason")
    unique_fields = {"student_number": "Already exists: another student has this number."}
    form_ajax_refs = {COURSE_LOOKUP: link_loader}

    def get_query(self):
        return super().get_query().options(joinedload(Student.user))

    def get_one(self, id):
        pk = parse_id(id)
        if pk is None:
            return None
        # populate_existing: the eager loads apply even to a student already in the session.
        return db.session.scalars(
            select(Student).where(Student.id == pk).options(
                joinedload(Student.user),
                selectinload(Student.enrollments).joinedload(Enrollment.course)
                .joinedload(Course.term))
            .execution_options(populate_existing=True)).first()

    def current_courses(self, student: Student) -> list[tuple[Enrollment, int | None]]:
        """The edit page's list of the student's links with waitlist positions (one query:
        the links came with the student, see `get_one`)."""
        links = sorted(student.enrollments,
                       key=lambda e: (e.course.term.code, e.course.code))
        positions = services.waitlist_positions(
            {e.course_id for e in links if e.status == Status.WAITLISTED})
        return [(e, positions.get((e.student_id, e.course_id))) for e in links]

    def on_form_prefill(self, form, id):
        model = self.get_one(id)
        if model is not None and model.user is not None:
            form.name.data = model.user.name
            form.email.data = model.user.email

    # The roster side of RosterFormMixin.
    def pair(self, model, other):
        return model, other

    def build_new(self, form):
        return Student(user=User(role=Role.STUDENT, name="", email=""))

    def populate_plain(self, form, model, is_created):
        super().populate_plain(form, model, is_created, skip=("name", "email"))
        email = form.email.data  # normalized by the field (records.UserFields)
        with db.session.no_autoflush:
            taken = db.session.scalar(select(User.id).where(User.email == email,
                                                            User.id != model.user.id))
        if taken:
            raise RosterRefused("email", "Another account already uses this email.")
        model.user.name = form.name.data
        model.user.email = email

    def delete_blocker(self, model):
        links = db.session.scalar(select(func.count()).select_from(Enrollment)
                                  .where(Enrollment.student_id == model.id))
        if links:
            return (f"{model.name} ({model.student_number}) cannot be deleted: they have "
                    f"{links} enrollments, waitlist places or completed courses. Drop them "
                    "first (Enrollments → With selected → Drop).")
        return None

    # Bulk: enroll the selected students in one course section.
    bulk_ops = {"enroll": BulkOp("Enroll in a course", BulkEnrollForm, _enroll_one,
                                 button="Enroll")}

    def bulk_items(self, ids):
        return list(db.session.scalars(
            select(Student).options(joinedload(Student.user))
            .where(Student.id.in_(int_ids(ids))).order_by(Student.student_number)))

    @action("enroll", "Enroll in a course…")
    def action_enroll(self, ids):
        return self.bulk_page("enroll", ids)

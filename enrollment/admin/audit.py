"""The audit log (EnrollmentEvent): read-only, filterable by action, course, student and date."""
from __future__ import annotations

from sqlalchemy.orm import joinedload

from ..models import EnrollmentEvent
from .base import ReadOnlyModelView, time_filters


class AuditView(ReadOnlyModelView):
    column_list = ["at", "action", "student_label", "course_label", "actor.name", "reason"]
    column_labels = {"at": "When (UTC)", "student_label": "Student", "course_label": "Course",
                     "actor.name": "By"}
    column_sortable_list = ["at", "action", "student_label", "course_label"]
    column_default_sort = [("at", True), ("id", True)]
    column_searchable_list = ["student_label", "course_label", "reason"]
    column_filters = ["action", "course_label", "student_label", "actor.email",
                      *time_filters(EnrollmentEvent.at, "When")]
    column_export_list = ["at", "action", "student_label", "course_label", "actor.email",
                          "reason"]

    def get_query(self):
        return super().get_query().options(joinedload(EnrollmentEvent.actor))

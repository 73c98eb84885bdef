"""Reserved seats in the admin: part of a course's capacity kept for a program until a time.

Saves go through `services.reservations.set_reservation` under the course's lock, so the rule
that a course's reservations together fit in its capacity reads as in the CSV import, and a
refused save writes nothing. Seats that open (fewer reserved, a reservation moved or deleted,
a release time moved into the past) go to the waitlist at once.
"""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from wtforms.validators import InputRequired

from .. import clock
from ..database import write_transaction
from ..extensions import db
from ..models import Course, Reservation
from ..records import ReservationFields
from ..services import EnrollmentRefused
from ..services.reservations import remove_reservation, set_reservation
from .base import StaffModelView, flash_outcome, time_filters
from .loaders import CourseLoader
from .records import RecordFormMixin


class ReservationView(RecordFormMixin, StaffModelView):
    column_list = ["course.term.code", "course.code", "program", "seats", "release_at",
                   "released_at"]
    column_labels = {"course.term.code": "Term", "course.code": "Course",
                     "release_at": "Release time (UTC)", "released_at": "Released (UTC)"}
    column_sortable_list = ["course.term.code", "course.code", "program", "seats",
                            "release_at", "released_at"]
    column_default_sort = [("release_at", False)]
    column_searchable_list = ["program", "course.code"]
    column_filters = ["course.term.code", "course.code", "program", "seats",
                      *time_filters(Reservation.release_at, "Release time"),
                      *time_filters(Reservation.released_at, "Released")]

    # The program, seats and release time are `records.ReservationFields` (as in the CSV
    # import); the course is the admin's own: a lookup by code or title.
    record_fields = ReservationFields
    form_columns = ["course"]
    form_create_rules = form_edit_rules = ("course", "program", "seats", "release_at")
    form_ajax_refs = {"course": CourseLoader("course")}
    form_args = {"course": {"validators": [InputRequired("Choose a course.")]}}
    # One reservation per course and program: (course, program) is unique together, which
    # `unique_fields` (one column) cannot say; `set_reservation` refuses a second one.

    def get_query(self):
        return super().get_query().options(joinedload(Reservation.course)
                                           .joinedload(Course.term))

    # --- saving through the service ---------------------------------------------------------
    def create_model(self, form):
        return self._save(form, None)

    def update_model(self, form, model):
        return bool(self._save(form, model))

    def _save(self, form, model):
        try:
            with write_transaction(db.session):
                model = set_reservation(
                    form.course.data, form.program.data, form.seats.data, form.release_at.data,
                    actor=current_user._get_current_object(), now=clock.now(), reservation=model,
                    new=model is None)
        except LookupError:
            return self._refuse(form, "course", "This course no longer exists.")
        except EnrollmentRefused as exc:
            field = "program" if exc.code == "reservation_exists" else "seats"
            return self._refuse(form, field, exc.message)
        except IntegrityError:  # another save of the same course and program won the race
            return self._refuse(form, "program", "Already exists: the course already reserves "
                                                 "seats for this program.")
        flash_outcome(f"{model.seats} seats of {model.course.code} ({model.course.term.code}) "
                      f"reserved for {model.program}.", "success")
        return model

    @staticmethod
    def _refuse(form, field: str, message: str) -> bool:
        if field in form:
            form[field].errors = [*form[field].errors, message]
        flash_outcome(f"Nothing was saved. {message}", "danger")
        return False

    def delete_model(self, model) -> bool:
        with write_transaction(db.session):
            remove_reservation(model, actor=current_user._get_current_object(), now=clock.now())
        return True

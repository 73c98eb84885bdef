"""The admin's CSV import: upload, a dry-run preview, then an explicit confirm.

The parsing, validation and writing live in `enrollment.imports`; this page only shows the
plan. Between the preview and the confirm the uploaded text travels back in a hidden field,
signed (and timed) with the app's secret key, so the confirm applies exactly what was previewed
and a client-edited copy is refused.
"""
from __future__ import annotations

from flask import current_app, flash, redirect, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import HiddenField, SelectField
from wtforms.validators import InputRequired

from .. import clock, services
from ..database import write_transaction
from ..extensions import db
from ..imports import KINDS, ImportRefused, apply_import, columns, decode_upload, plan_import
from ..services import Override
from .forms import check_override_reason, override_field, reason_field
from .security import StaffOnly

KIND_LABELS = {"terms": "Terms", "courses": "Courses", "students": "Students",
               "enrollments": "Enrollments", "appointments": "Appointments",
               "holds": "Holds", "reservations": "Reserved seats"}
KIND_NOTES = {
    "enrollments": "through the rules (capacity and waitlist hold; window and prerequisites "
                   "are not checked).",
    "appointments": "each opening time inside the term's enrollment window.",
    "holds": "one hold per student and office; blocks_registration true or false.",
    "reservations": "a course's reservations together cannot exceed its capacity.",
}
SALT = "admin-csv-import"
MAX_AGE = 3600  # seconds a preview stays valid for its confirm


class UploadForm(FlaskForm):
    kind = SelectField("What the file holds", choices=list(KIND_LABELS.items()),
                       validators=[InputRequired()])
    file = FileField("CSV file (UTF-8, header row first)",
                     validators=[FileRequired("Choose a CSV file.")])
    overrides = override_field(*services.IMPORT_OVERRIDES, label="Overrides (enrollments only)")
    reason = reason_field()

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return check_override_reason(self) and ok


class ConfirmForm(FlaskForm):
    payload = HiddenField(validators=[InputRequired()])


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


class ImportView(StaffOnly, BaseView):
    """Upload a CSV of any import kind; preview; confirm."""

    @expose("/", methods=("GET",))
    def index(self):
        return self._upload_page(UploadForm())

    def _upload_page(self, form):
        """The upload form beside every kind's columns, read from the importers' registry."""
        formats = [(KIND_LABELS[kind], [*required, *optional], KIND_NOTES.get(kind, ""))
                   for kind in KINDS for required, optional in [columns(kind)]]
        return self.render("admin/import_upload.html", form=form, formats=formats)

    @expose("/preview", methods=("POST",))
    def preview(self):
        form = UploadForm()
        if not form.validate():
            return self._upload_page(form), 400
        try:
            text = decode_upload(form.file.data.read())
        except ImportRefused as exc:
            form.file.errors = [str(e) for e in exc.errors]
            return self._upload_page(form), 400
        overrides = sorted(form.overrides.data or []) if form.kind.data == "enrollments" else []
        payload = {"kind": form.kind.data, "text": text, "overrides": overrides,
                   "reason": form.reason.data or "", "name": form.file.data.filename or ""}
        return self._show_plan(payload)

    @expose("/apply", methods=("POST",))
    def apply(self):
        form = ConfirmForm()
        if not form.validate():
            flash("Nothing was imported: the confirmation was incomplete. Upload the file "
                  "again.", "danger")
            return redirect(url_for(".index"))
        try:
            payload = _serializer().loads(form.payload.data, max_age=MAX_AGE)
        except BadSignature:
            flash("Nothing was imported: the preview expired or was altered. Upload the file "
                  "again.", "danger")
            return redirect(url_for(".index"))
        now = clock.now()
        plan = plan_import(payload["kind"], payload["text"], now=now)
        if not plan.ok:
            flash("Nothing was imported: the data changed since the preview.", "danger")
            return self._show_plan(payload, plan=plan, status=409)
        override = frozenset(Override(v) for v in payload["overrides"])
        try:
            with write_transaction(db.session):
                result = apply_import(plan, actor=current_user._get_current_object(),
                                      now=now, override=override, reason=payload["reason"])
        except ImportRefused as exc:
            flash("Nothing was imported: a row was refused when it was written.", "danger")
            return self._show_plan(payload, plan=plan, refused=exc.errors, status=409)
        flash(f"Imported {KIND_LABELS.get(payload['kind'], payload['kind']).lower()} from "
              f"{payload['name'] or 'the file'}: {result.created} created, {result.updated} "
              f"updated, {result.unchanged} unchanged.", "success")
        return redirect(url_for(".index"), code=303)

    def _show_plan(self, payload, *, plan=None, refused=None, status=None):
        plan = plan or plan_import(payload["kind"], payload["text"], now=clock.now())
        confirm = None
        if plan.ok and not refused:
            confirm = ConfirmForm(formdata=None, payload=_serializer().dumps(payload))
        errors = list(refused or plan.errors)
        return self.render("admin/import_preview.html", plan=plan, errors=errors,
                           confirm=confirm, payload=payload,
                           kind_label=KIND_LABELS.get(payload["kind"], payload["kind"])
                           ), status or (200 if plan.ok else 422)


"""Webhooks in the admin: the endpoints (the secret shown once, rotated with a confirmation)
and the delivery log (read-only)."""
from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.form import BaseForm
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ..database import write_transaction
from ..extensions import db
from ..fields import strip, strip_text
from ..models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint, parse_id
from ..services import webhooks
from .base import (
    ReadOnlyModelView,
    ShowOnceOnCreate,
    StaffModelView,
    flash_outcome,
    time_filters,
)
from .forms import MultiCheckboxField
from .outbox import DeliveryStateFilter


class EndpointForm(BaseForm):
    url = StringField("URL", validators=[InputRequired("A URL is required."),
                                         Length(max=webhooks.URL_MAX)], filters=[strip],
                      description="http:// or https://, on a public address.")
    description = StringField("Description", validators=[Optional(), Length(max=200)],
                              filters=[strip_text])
    events = MultiCheckboxField("Event types", choices=[(t, t) for t in EVENT_TYPES],
                                description="None ticked: every type.")
    active = BooleanField("Active", default=True)


def _masked(view, context, model, name):
    secret = model.secret or ""
    rotate = view.get_url(".rotate_view", id=model.id)
    return Markup('<code>whsec_…{}</code> <a href="{}">Rotate</a>').format(secret[-4:], rotate)


def _events(view, context, model, name):
    return ", ".join(model.events.split()) if model.events else "all"


class WebhookEndpointView(ShowOnceOnCreate, StaffModelView):
    column_list = ["url", "description", "events", "active", "secret", "created_at",
                   "created_by.name"]
    column_labels = {"url": "URL", "events": "Event types", "created_at": "Created (UTC)",
                     "created_by.name": "By"}
    column_formatters = {"secret": _masked, "events": _events}
    column_formatters_export = {"events": _events}
    column_export_exclude_list = ["secret"]
    column_export_list = ["url", "description", "events", "active", "created_at"]
    column_sortable_list = ["url", "active", "created_at"]
    column_default_sort = [("created_at", True)]
    column_searchable_list = ["url", "description"]
    column_filters = ["active"]

    form = EndpointForm

    def get_query(self):
        return super().get_query().options(joinedload(WebhookEndpoint.created_by))

    def on_form_prefill(self, form, id):
        model = self.get_one(id)
        if model is not None:
            form.events.data = model.events.split()

    def validate_form(self, form) -> bool:
        ok = super().validate_form(form)
        # Flask-Admin validates its delete and action forms here too: only ours has a URL.
        if ok and isinstance(form, EndpointForm):
            # The checks of the service, shown on their fields (no database change yet).
            try:
                webhooks.parse_events(form.events.data)
                webhooks.check_url(form.url.data, private_ok=webhooks.allow_private())
            except webhooks.WebhookInputError as exc:
                field = getattr(form, exc.field)
                field.errors = [*field.errors, exc.message]
                ok = False
        return ok

    def create_model(self, form):
        try:
            with write_transaction(db.session):
                endpoint = webhooks.create_endpoint(
                    form.url.data, events=form.events.data, description=form.description.data,
                    active=form.active.data, actor=current_user._get_current_object(),
                    private_ok=webhooks.allow_private())
        except webhooks.WebhookInputError as exc:
            flash_outcome(exc.message, "danger")
            return False
        self.show_once(endpoint)
        flash_outcome(f"Webhook endpoint {endpoint.url} added.", "success")
        return endpoint

    def update_model(self, form, model) -> bool:
        try:
            with write_transaction(db.session):
                webhooks.update_endpoint(
                    model, url=form.url.data, events=form.events.data,
                    description=form.description.data, active=form.active.data,
                    private_ok=webhooks.allow_private())
        except webhooks.WebhookInputError as exc:
            flash_outcome(exc.message, "danger")
            return False
        flash_outcome(f"Webhook endpoint {model.url} saved.", "success")
        return True

    def created_page(self, endpoint):
        return self._show_secret(endpoint, "created")

    @expose("/rotate/", methods=("GET", "POST"))
    def rotate_view(self):
        endpoint = self.get_one(request.args.get("id", ""))
        if endpoint is None:
            flash("That webhook endpoint does not exist.", "danger")
            return redirect(self.get_url(".index_view"))
        if request.method == "POST":
            with write_transaction(db.session):
                webhooks.rotate_secret(db.session.get(WebhookEndpoint, endpoint.id))
            return self._show_secret(endpoint, "rotated")
        return self.render("admin/webhooks/secret.html", endpoint=endpoint, secret=None,
                           confirm_url=self.get_url(".rotate_view", id=endpoint.id),
                           return_url=self.get_url(".index_view"))

    def _show_secret(self, endpoint, done: str):
        return self.render("admin/webhooks/secret.html", endpoint=endpoint,
                           secret=endpoint.secret, done=done,
                           return_url=self.get_url(".index_view"))


def _body(view, context, model, name):
    return Markup("<pre class=\"webhook-body\">{}</pre>").format(model.body)


class WebhookDeliveryView(ReadOnlyModelView):
    can_view_details = True
    column_display_actions = True  # the details link: the body is shown there
    column_list = ["endpoint.url", "event_type", "state", "attempts", "last_status",
                   "last_error", "due_at", "sent_at", "created_at"]
    column_details_list = ["endpoint.url", "event_type", "state", "key", "attempts",
                           "last_status", "last_error", "created_at", "due_at", "sent_at",
                           "failed_at", "body"]
    column_export_list = ["endpoint.url", "event_type", "state", "attempts", "last_status",
                          "last_error", "due_at", "sent_at", "failed_at", "created_at"]
    column_labels = {"endpoint.url": "Endpoint", "event_type": "Type", "last_status": "Status",
                     "last_error": "Last error", "due_at": "Due (UTC)", "sent_at": "Sent (UTC)",
                     "failed_at": "Failed (UTC)", "created_at": "Written (UTC)",
                     "key": "webhook-id"}
    column_formatters_detail = {"body": _body,
                                "key": lambda v, c, m, n: f"msg_{m.key}"}
    column_sortable_list = ["event_type", "attempts", "last_status", "due_at", "sent_at",
                            "created_at"]
    column_default_sort = [("id", True)]
    column_searchable_list = ["event_type", "last_error", "endpoint.url"]
    column_filters = [
        "event_type", "last_status",
        DeliveryStateFilter(WebhookDelivery),
        *time_filters(WebhookDelivery.created_at, "Written"),
    ]

    def get_query(self):
        return super().get_query().options(joinedload(WebhookDelivery.endpoint))

    def get_one(self, id):
        key = parse_id(id)
        if key is None:
            return None
        return db.session.get(WebhookDelivery, key,
                              options=[joinedload(WebhookDelivery.endpoint)])

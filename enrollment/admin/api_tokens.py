"""API tokens in the admin: the list (prefix, user, scopes, state, last use), creating one
(the token is shown once, on the page that answers the create) and revoking. A token's hash
is never edited: a token that should change is revoked and a new one made."""
from __future__ import annotations

from flask import flash
from flask_admin.actions import action
from flask_admin.form import BaseForm
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from .. import clock
from ..api import tokens
from ..database import write_transaction
from ..extensions import db
from ..fields import strip, strip_text
from ..models import ApiToken, Scope
from .base import ShowOnceOnCreate, StaffModelView, flash_outcome, time_filters
from .bulk import MAX_ITEMS
from .forms import MultiCheckboxField

SCOPE_LABELS = {
    Scope.READ: "read — terms, courses, schedules",
    Scope.ENROLL: "enroll — enroll and drop",
    Scope.ROSTER: "roster — course rosters",
    Scope.ADMIN: "admin — staff overrides",
}


class TokenForm(BaseForm):
    user_email = StringField("User's e-mail", validators=[InputRequired("An e-mail is required."),
                                                      Length(max=254)], filters=[strip],
                        description="The token acts for this user, within its scopes.")
    name = StringField("Name", validators=[Optional(), Length(max=tokens.NAME_MAX)],
                       filters=[strip_text], description="What the token is for.")
    scopes = MultiCheckboxField(
        "Scopes", choices=[(s.value, SCOPE_LABELS[s]) for s in Scope],
        description="A student's token may have read and enroll; an instructor's read and "
                    "roster; staff any.")
    days = IntegerField("Valid for (days)", validators=[
        Optional(), NumberRange(1, tokens.MAX_DAYS, f"From 1 to {tokens.MAX_DAYS} days.")],
        description="Empty: until revoked.")


FORM_FIELDS = {"email": "user_email"}  # the service's field names, as the form calls them


def _state(view, context, model, name):
    return model.state(clock.now())


class ApiTokenView(ShowOnceOnCreate, StaffModelView):
    can_edit = False
    can_delete = False
    can_export = False
    column_list = ["prefix", "name", "user.email", "scopes", "state", "created_at",
                   "expires_at", "last_used_at", "revoked_at"]
    column_labels = {"prefix": "Token", "user.email": "User", "created_at": "Created (UTC)",
                     "expires_at": "Expires (UTC)", "last_used_at": "Last used (UTC)",
                     "revoked_at": "Revoked (UTC)"}
    column_formatters = {"state": _state,
                         "prefix": lambda v, c, m, n: f"{m.prefix}…"}
    column_sortable_list = ["name", "created_at", "expires_at", "last_used_at", "revoked_at"]
    column_default_sort = [("id", True)]
    column_searchable_list = ["name", "prefix", "user.email"]
    column_filters = [*time_filters(ApiToken.created_at, "Created")]
    form = TokenForm

    def get_query(self):
        return super().get_query().options(joinedload(ApiToken.user))

    def validate_form(self, form) -> bool:
        ok = super().validate_form(form)
        # The service's checks, shown on their fields (nothing written yet); the list's action
        # form passes through here too.
        if ok and isinstance(form, TokenForm):
            try:
                user = tokens.find_user(form.user_email.data)
                tokens.check_scopes(user, form.scopes.data)
            except tokens.TokenInputError as exc:
                field = getattr(form, FORM_FIELDS.get(exc.field, exc.field))
                field.errors = [*field.errors, exc.message]
                ok = False
        return ok

    def create_model(self, form):
        try:
            with write_transaction(db.session):
                new = tokens.create_token(
                    tokens.find_user(form.user_email.data), form.scopes.data, now=clock.now(),
                    days=form.days.data, name=form.name.data,
                    actor=current_user._get_current_object())
        except tokens.TokenInputError as exc:
            flash_outcome(exc.message, "danger")
            return False
        self.show_once(new)
        flash_outcome(f"API token {new.token.prefix}… created.", "success")
        return new.token

    def created_page(self, new):
        return self.render("admin/api_tokens/created.html", token=new.token, secret=new.secret,
                           return_url=self.get_url(".index_view"))

    @action("revoke", "Revoke", "Revoke the selected tokens? Clients using them stop at once.")
    def action_revoke(self, ids):
        keys = [int(i) for i in dict.fromkeys(ids) if i.isdigit() and len(i) < 11][:MAX_ITEMS]
        if not keys:
            flash("Select at least one token first.", "warning")
            return
        now = clock.now()
        with write_transaction(db.session):
            found = list(db.session.scalars(select(ApiToken).where(ApiToken.id.in_(keys))))
            revoked = sum(1 for token in found if tokens.revoke_token(token, now=now))
        flash(f"Revoked {revoked} token{'s' if revoked != 1 else ''}"
              + (f"; {len(found) - revoked} already were." if len(found) > revoked else "."),
              "success")

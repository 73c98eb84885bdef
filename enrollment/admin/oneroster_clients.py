"""OneRoster REST clients in the admin: the list (name, client id, state, last token),
creating one (its secret is shown once, on the page that answers the create) and revoking.
A client's secret is never edited: a client that should change is revoked and a new one made."""
from __future__ import annotations

from flask import flash
from flask_admin.actions import action
from flask_admin.form import BaseForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from .. import clock
from ..database import write_transaction
from ..extensions import db
from ..fields import strip_text
from ..models import OneRosterClient
from ..oneroster import oauth
from .base import ShowOnceOnCreate, StaffModelView, flash_outcome, time_filters
from .bulk import MAX_ITEMS


class ClientForm(BaseForm):
    name = StringField("Name", validators=[InputRequired("A name is required."),
                                           Length(max=oauth.NAME_MAX)],
                       filters=[strip_text], description="What the client is (e.g. the LMS).")


class OneRosterClientView(ShowOnceOnCreate, StaffModelView):
    can_edit = False
    can_delete = False
    can_export = False
    column_list = ["name", "client_id", "state", "created_at", "last_token_at", "revoked_at"]
    column_labels = {"client_id": "Client id", "created_at": "Created (UTC)",
                     "last_token_at": "Last token (UTC)", "revoked_at": "Revoked (UTC)"}
    column_formatters = {"state": lambda v, c, m, n: m.state}
    column_sortable_list = ["name", "created_at", "last_token_at", "revoked_at"]
    column_default_sort = [("id", True)]
    column_searchable_list = ["name", "client_id"]
    column_filters = [*time_filters(OneRosterClient.created_at, "Created")]
    form = ClientForm

    def create_model(self, form):
        try:
            with write_transaction(db.session):
                new = oauth.create_client(form.name.data, now=clock.now())
        except oauth.ClientInputError as exc:
            flash_outcome(exc.message, "danger")
            return False
        self.show_once(new)
        flash_outcome(f"OneRoster client {new.client.name} created.", "success")
        return new.client

    def created_page(self, new):
        return self.render("admin/oneroster_clients/created.html", client=new.client,
                           secret=new.secret, return_url=self.get_url(".index_view"))

    @action("revoke", "Revoke", "Revoke the selected clients? Their access tokens stop at once.")
    def action_revoke(self, ids):
        keys = [int(i) for i in dict.fromkeys(ids) if i.isdigit() and len(i) < 11][:MAX_ITEMS]
        if not keys:
            flash("Select at least one client first.", "warning")
            return
        now = clock.now()
        with write_transaction(db.session):
            found = list(db.session.scalars(select(OneRosterClient)
                                            .where(OneRosterClient.id.in_(keys))))
            revoked = sum(1 for client in found if oauth.revoke_client(client, now=now))
        flash(f"Revoked {revoked} client{'s' if revoked != 1 else ''}"
              + (f"; {len(found) - revoked} already were." if len(found) > revoked else "."),
              "success")

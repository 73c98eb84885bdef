"""`flask oneroster …`: OneRoster rostering. `client-create --name N` makes a client of the
REST provider and prints its id and secret once (the CSV bundles' commands are in
`oneroster_csv`)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from .. import clock
from ..database import write_transaction
from ..extensions import db
from ..oneroster import oauth


@click.group("oneroster")
def oneroster() -> None:
    """OneRoster 1.1 / 1.2 rostering: REST clients, and CSV bundles (export and import)."""


@oneroster.command("client-create")
@click.option("--name", required=True, help="What the client is (e.g. the LMS).")
@with_appcontext
def client_create(name: str) -> None:
    """Create a REST client and print its id and secret (shown this once; only a hash of the
    secret is kept). It gets access tokens at POST /oauth/token."""
    try:
        with write_transaction(db.session):
            new = oauth.create_client(name, now=clock.now())
            client_id = new.client.client_id
    except oauth.ClientInputError as exc:
        click.echo(f"error: --name: {exc.message}", err=True)
        raise SystemExit(2) from None
    click.echo(f"OneRoster client {name.strip()!r} created.")
    click.echo(f"client_id: {client_id}")
    click.echo(f"client_secret: {new.secret}")
    click.echo("Copy the secret now: it is not shown again. The client gets an access token "
               "at POST /oauth/token (HTTP Basic, grant_type=client_credentials).")

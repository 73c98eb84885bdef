"""`flask webhooks add --url U [--events E1,E2] [--description D]` and `flask webhooks list`."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..database import write_transaction
from ..extensions import db
from ..models import EVENT_TYPES, WebhookEndpoint
from ..services import webhooks


@click.group("webhooks")
def webhooks_group() -> None:
    """Webhook endpoints (also in the admin, under Webhooks)."""


@webhooks_group.command("add")
@click.option("--url", required=True, help="Where the events are posted (http or https).")
@click.option("--events", default="", help="Event types, comma-separated (default: all): "
              + ", ".join(EVENT_TYPES) + ".")
@click.option("--description", default="", help="What the endpoint is for.")
@with_appcontext
def add(url: str, events: str, description: str) -> None:
    """Register an endpoint and print its signing secret (shown this once)."""
    try:
        with write_transaction(db.session):
            endpoint = webhooks.create_endpoint(url, events=events, description=description,
                                                actor=None,
                                                private_ok=webhooks.allow_private())
    except webhooks.WebhookInputError as exc:
        raise click.UsageError(f"--{exc.field}: {exc.message}") from None
    click.echo(f"Added webhook endpoint {endpoint.id}: {endpoint.url} "
               f"({_events(endpoint)}).")
    click.echo(f"Secret (shown once; keep it to verify the signatures): {endpoint.secret}")


@webhooks_group.command("list")
@with_appcontext
def list_endpoints() -> None:
    """List the endpoints (their secrets are not shown)."""
    endpoints = list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))
    if not endpoints:
        click.echo("No webhook endpoints.")
        return
    for endpoint in endpoints:
        state = "active" if endpoint.active else "inactive"
        description = f" — {endpoint.description}" if endpoint.description else ""
        click.echo(f"{endpoint.id}\t{state}\t{endpoint.url}\t{_events(endpoint)}{description}")


def _events(endpoint: WebhookEndpoint) -> str:
    return ", ".join(endpoint.events.split()) if endpoint.events else "all events"

"""`flask api-token create --email E --scopes read,enroll [--days N] [--name N]`, `flask
api-token list` and `flask api-token revoke ID`. Bad input: a message, exit status 2, nothing
stored."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import clock
from ..api import tokens
from ..database import write_transaction
from ..extensions import db
from ..models import ApiToken, parse_id


@click.group("api-token")
def api_token() -> None:
    """Bearer tokens of the JSON API (also in the admin, under Tools)."""


@api_token.command("create")
@click.option("--email", required=True, help="The user the token acts for.")
@click.option("--scopes", required=True,
              help="Comma-separated: read, enroll, roster, admin (as the user's role allows).")
@click.option("--days", type=int, default=None, help="Valid this many days (default: until "
                                                      "revoked).")
@click.option("--name", default="", help="What the token is for (e.g. the SIS sync).")
@with_appcontext
def create(email: str, scopes: str, days: int | None, name: str) -> None:
    """Create a token and print it (shown this once; only its hash is kept)."""
    try:
        with write_transaction(db.session):
            user = tokens.find_user(email)
            new = tokens.create_token(user, scopes, now=clock.now(), days=days, name=name)
            token_id, prefix = new.token.id, new.token.prefix
            scope_text = new.token.scopes.replace(" ", ",")
            expires = new.token.expires_at
    except tokens.TokenInputError as exc:
        raise click.UsageError(f"--{exc.field}: {exc.message}") from None
    until = f"until {expires.isoformat()}" if expires else "until revoked"
    click.echo(f"Created API token {token_id} ({prefix}…) for {user.email}: {scope_text}, "
               f"{until}.")
    click.echo(f"Token (shown once; send it as 'Authorization: Bearer <token>'): {new.secret}")


@api_token.command("list")
@with_appcontext
def list_tokens() -> None:
    """List the tokens: id, prefix, state, user, scopes, expiry, last use, name."""
    found = list(db.session.scalars(select(ApiToken).options(joinedload(ApiToken.user))
                                    .order_by(ApiToken.id)))
    if not found:
        click.echo("No API tokens.")
        return
    now = clock.now()
    for token in found:
        expires = token.expires_at.isoformat() if token.expires_at else "never"
        used = token.last_used_at.isoformat() if token.last_used_at else "never used"
        click.echo(f"{token.id}\t{token.prefix}…\t{token.state(now)}\t{token.user.email}\t"
                   f"{token.scopes.replace(' ', ',')}\texpires {expires}\t{used}\t{token.name}")


@api_token.command("revoke")
@click.argument("token_id")
@with_appcontext
def revoke(token_id: str) -> None:
    """Revoke a token by its id (see `flask api-token list`)."""
    key = parse_id(token_id)
    with write_transaction(db.session):
        token = db.session.get(ApiToken, key) if key is not None else None
        if token is None:
            raise click.UsageError(f"There is no API token {token_id[:20]!r}.")
        changed = tokens.revoke_token(token, now=clock.now())
        prefix = token.prefix
    click.echo(f"Revoked API token {key} ({prefix}…)." if changed
               else f"API token {key} ({prefix}…) was already revoked.")

"""`flask import-csv KIND FILE`: check a whole CSV file, then import it in one transaction."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

from .. import clock, services
from ..database import write_transaction
from ..extensions import db
from ..imports import KINDS, ImportRefused, apply_import, decode_upload, plan_import

# Window and prerequisites are never checked for imports; these are the rules one may lift.
OVERRIDES = services.IMPORT_OVERRIDES
PROGRESS_FROM = 500  # rows; smaller files finish before a bar would be any use


@click.command("import-csv")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check the file and print the plan; write nothing.")
@click.option("--override", "overrides", multiple=True,
              type=click.Choice([o.value for o in OVERRIDES], case_sensitive=False),
              help="Enrollments only: a rule to override (repeatable); needs --reason.")
@click.option("--reason", default="", help="Why: recorded in the audit trail of each row.")
@with_appcontext
def import_csv(kind: str, file, dry_run: bool, overrides: tuple[str, ...], reason: str) -> None:
    """Import records of one KIND from a CSV file (header row required).

    Every row is checked first; when any is wrong, each problem is printed as
    `line N: column: reason` and nothing is written.
    """
    if overrides and kind != "enrollments":
        raise click.UsageError("--override applies to enrollments imports only.")
    override = frozenset(services.Override(o.lower()) for o in overrides)
    try:
        services.require_reason(override, reason)
    except services.EnrollmentRefused as exc:
        raise click.UsageError(f"--reason is required with --override: {exc.message}") from None
    try:
        text = decode_upload(file.read())
    except ImportRefused as exc:
        refuse(exc.errors)
    now = clock.now()
    plan = plan_import(kind, text, now=now)
    if not plan.ok:
        refuse(plan.errors)
    counts = plan.counts
    if dry_run:
        for row in plan.rows:
            click.echo(f"line {row.line}: {row.action}: {row.summary}")
        click.echo(f"Dry run: {len(plan.rows)} rows would create {counts['create']}, update "
                   f"{counts['update']} and leave {counts['unchanged']} unchanged. "
                   "Nothing was written.")
        return
    show = len(plan.rows) >= PROGRESS_FROM
    with click.progressbar(length=len(plan.rows), label=f"Importing {kind}", file=sys.stderr,
                           hidden=not show) as bar:
        try:
            with write_transaction(db.session):
                result = apply_import(plan, actor=None, now=now, override=override,
                                      reason=reason.strip(), progress=bar.update)
        except ImportRefused as exc:
            refuse(exc.errors)
        except OperationalError as exc:
            unreachable(exc)
    click.echo(f"Imported {kind}: {result.created} created, {result.updated} updated, "
               f"{result.unchanged} unchanged.")


def refuse(errors) -> None:
    """Print an import's problems, one per line, and exit with status 1."""
    for error in errors:
        click.echo(str(error), err=True)
    click.echo(f"{len(errors)} problem{'s' if len(errors) != 1 else ''}; nothing was imported.",
               err=True)
    raise SystemExit(1)


def unreachable(exc: OperationalError) -> None:
    """The database went away during an import: one line, no traceback, status 1."""
    reason = str(exc.orig or exc).strip().splitlines()[0]
    click.echo(f"error: the database cannot be reached ({reason}); nothing was imported.",
               err=True)
    raise SystemExit(1) from None

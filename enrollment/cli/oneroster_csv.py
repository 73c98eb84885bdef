"""`flask oneroster export` and `flask oneroster import`: OneRoster 1.1 / 1.2 CSV bundles."""
from __future__ import annotations

import os
import tempfile

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from .. import clock
from ..oneroster import csv_format
from ..oneroster.csv_export import write_bundle
from ..oneroster.csv_import import import_bundle
from ..oneroster.csv_read import BundleRefused
from .imports import refuse, unreachable
from .oneroster import oneroster

# How each count of an import is printed, in this order.
COUNTED = {"create": "created", "update": "updated", "unchanged": "unchanged",
           "remove": "removed", "skipped": "skipped", "read": "read"}


@oneroster.command("export")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="The zip file to write.")
@click.option("--version", "version", type=click.Choice(csv_format.VERSIONS), default="1.1",
              show_default=True, help="The OneRoster CSV binding.")
@click.option("--since", "since", default=None, metavar="TIME",
              help="A delta: only what changed after TIME (ISO 8601), and what was removed.")
@with_appcontext
def export_command(output: str, version: str, since: str | None) -> None:
    """Write a OneRoster CSV bundle (a zip): every record, or a delta since TIME."""
    moment = None
    if since:
        try:
            moment = csv_format.parse_moment(since)
        except ValueError:
            raise click.BadParameter(f"{since!r} is not an ISO 8601 time (e.g. "
                                     "2027-01-10T12:00:00Z)", param_hint="--since") from None
    # Written beside the target and renamed at the end: a failed export leaves no half file.
    folder = os.path.dirname(os.path.abspath(output))
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".partial", delete=False) as file:
        try:
            counts = write_bundle(file, version=version, since=moment)
        except SQLAlchemyError as exc:
            file.close()
            os.unlink(file.name)
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            click.echo(f"error: the database could not be read ({reason}); no bundle was "
                       "written.", err=True)
            raise SystemExit(1) from None
    os.replace(file.name, output)
    what = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    click.echo(f"Wrote {output} (OneRoster {version} {'delta' if moment else 'bulk'}): {what}.")


@oneroster.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check the bundle and print what it would do; "
                                              "write nothing.")
@with_appcontext
def import_command(file, dry_run: bool) -> None:
    """Import a OneRoster 1.1 or 1.2 CSV bundle (a zip with manifest.csv).

    Every row of every file is checked first; when any is wrong, each problem is printed as
    `FILE line N: column: reason` and nothing is written.
    """
    try:
        outcome = import_bundle(file, now=clock.now(), dry_run=dry_run)
    except BundleRefused as exc:
        refuse(exc.errors)
    except OperationalError as exc:
        unreachable(exc)
    if not outcome.ok:
        refuse(outcome.errors)
    if dry_run:
        for note in outcome.skipped:
            click.echo(str(note))
    for name, counted in outcome.counts.items():
        parts = [f"{counted[key]} {label}" for key, label in COUNTED.items() if counted.get(key)]
        click.echo(f"{name}: {', '.join(parts) or 'nothing to do'}")
    if dry_run:
        click.echo(f"Dry run of a OneRoster {outcome.version} bundle: nothing was written.")
    else:
        click.echo(f"Imported the OneRoster {outcome.version} bundle.")



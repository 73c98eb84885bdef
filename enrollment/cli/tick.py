"""`flask tick`: run every periodic job once and exit (for cron)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from .. import clock
from ..services import periodic


@click.command("tick")
@with_appcontext
def tick() -> None:
    """Run each periodic job once (release reserved seats due, …) and print what it did."""
    for report in periodic.run_all(clock.now()):
        click.echo(f"{report.name}: {report.summary}")

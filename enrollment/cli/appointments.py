"""`flask appointments assign TERM --start T --every MINUTES --group-size N`."""
from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..clock import parse_datetime, wall_clock
from ..database import write_transaction
from ..extensions import db
from ..models import Term
from ..services import appointments as appointment_service


@click.group("appointments")
def appointments() -> None:
    """Registration appointments (time tickets); import single ones with `import-csv`."""


@appointments.command("assign")
@click.argument("term_code")
@click.option("--start", required=True, help="When the first group opens (ISO 8601; UTC "
                                             "without an offset).")
@click.option("--every", type=click.IntRange(min=1), required=True,
              help="Minutes between two groups.")
@click.option("--group-size", type=click.IntRange(min=1), required=True,
              help="Students per group.")
@click.option("--by", type=click.Choice(["earned-credits"]), default="earned-credits",
              show_default=True, help="Order of the groups: most earned credits first.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Shuffles students with equal credits the same way each time.")
@with_appcontext
def assign(term_code: str, start: str, every: int, group_size: int, by: str, seed: int) -> None:
    """Give every student an appointment in TERM_CODE, replacing earlier ones; print groups."""
    term = db.session.scalar(select(Term).where(Term.code == term_code.strip().upper()))
    if term is None:
        raise click.UsageError(f"unknown term {term_code}.")
    try:
        first = parse_datetime(start)
    except ValueError:
        raise click.UsageError(f"--start {start!r} is not an ISO 8601 time "
                               "(e.g. 2027-01-10T08:00).") from None
    if not term.enrollment_opens <= first <= term.enrollment_closes:
        raise click.UsageError(
            f"--start {wall_clock(first)} is outside the enrollment window of {term.code} "
            f"({wall_clock(term.enrollment_opens)} to {wall_clock(term.enrollment_closes)}).")
    with write_transaction(db.session):
        groups = appointment_service.assign(term, start=first, every=timedelta(minutes=every),
                                            group_size=group_size, seed=seed)
    for k, group in enumerate(groups):
        click.echo(f"group {k}: {group.opens_at.isoformat()}, {len(group.student_ids)} students")
    late = [g for g in groups if g.opens_at > term.enrollment_closes]
    if late:
        click.echo(f"warning: {len(late)} group(s) open after enrollment closes "
                   f"({wall_clock(term.enrollment_closes)}).", err=True)

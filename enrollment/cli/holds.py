"""`flask holds clear STUDENT_NUMBER OFFICE --reason R`."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from .. import clock, services
from ..database import write_transaction
from ..extensions import db
from ..models import Hold, Student


@click.group("holds")
def holds() -> None:
    """Registration holds (add them with `import-csv holds` or in the admin)."""


@holds.command("clear")
@click.argument("student_number")
@click.argument("office")
@click.option("--reason", required=True, help="Why the hold is cleared (kept with the hold).")
@with_appcontext
def clear(student_number: str, office: str, reason: str) -> None:
    """Clear the OFFICE's hold on the student; registration is open to them again."""
    hold = db.session.scalar(
        select(Hold).join(Student).where(Student.student_number == student_number.strip(),
                                         Hold.office == office.strip()))
    if hold is None:
        raise click.UsageError(f"{student_number} has no {office} hold.")
    try:
        with write_transaction(db.session):
            services.clear_hold(hold, reason=reason, actor=None, now=clock.now())
    except services.EnrollmentRefused as exc:
        raise click.UsageError(exc.message) from None
    click.echo(f"Cleared the {hold.office} hold of {student_number}.")

"""`flask roster TERM CODE [--format csv|xlsx] [-o FILE]`: the same roster as the web export."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError, ProgrammingError

from .. import clock
from ..reports import exports, queries


@click.command("roster")
@click.argument("term_code")
@click.argument("course_code")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
              show_default=True, help="File format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="File to write (CSV goes to standard output without it; XLSX needs it).")
@click.option("--bom", is_flag=True, help="Start the CSV with a byte-order mark (for Excel).")
@with_appcontext
def roster(term_code: str, course_code: str, fmt: str, output: str | None, bom: bool) -> None:
    """Write the roster of course CODE in term TERM (e.g. `flask roster 2027SP CS101`)."""
    if fmt == "xlsx" and not output:
        raise click.UsageError("--format xlsx needs -o FILE (a workbook is not printable text).")
    try:
        term, course = queries.find_course(term_code.strip(), course_code.strip())
    except (OperationalError, ProgrammingError) as exc:
        # A fresh database without tables; anything else is a real bug and keeps its traceback.
        if "terms" not in str(exc.orig):
            raise
        raise click.ClickException("the database has no tables yet: run `flask db upgrade` "
                                   "first.") from None
    if term is None:
        raise click.ClickException(f"no term with code {term_code!r}.")
    if course is None:
        raise click.ClickException(f"no course {course_code!r} in term {term.code}.")
    chunks = queries.iter_roster_chunks(course.id)
    try:
        if fmt == "xlsx":
            data = exports.course_roster_xlsx(course, now=clock.now(), zone=clock.school_zone())
            with open(output, "wb") as fh:
                fh.write(data)
        elif output:
            # newline="": the csv module writes its own line endings.
            with open(output, "w", encoding="utf-8", newline="") as fh:
                fh.writelines(exports.roster_csv(chunks, bom=bom))
        else:
            for piece in exports.roster_csv(chunks, bom=bom):
                click.echo(piece, nl=False)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output or 'standard output'}: "
                                   f"{exc.strerror or exc}.") from None
    if output:
        click.echo(f"Wrote the roster of {term.code} {course.code} to {output}.", err=True)


__all__ = ["roster"]

"""`flask create-staff`."""
import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..extensions import db
from ..models import Role, User, normalize_email


@click.command("create-staff")
@click.option("--email", prompt=True, help="Login email of the staff member.")
@click.option("--name", prompt=True, help="Display name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Password (prompted, hidden, when missing).")
@with_appcontext
def create_staff(email: str, name: str, password: str) -> None:
    """Create a staff account, or make an existing account staff and reset its password."""
    from ..auth.passwords import password_problem

    for option, value in (("--email", email), ("--name", name), ("--password", password)):
        if "\x00" in value:  # PostgreSQL refuses NUL in text: say so instead of a traceback
            raise click.UsageError(f"{option} must not contain NUL characters.")
    email = normalize_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise click.UsageError(f"--email {email!r} is not an email address.")
    if not name.strip():
        raise click.UsageError("--name must not be empty.")
    problem = password_problem(password)
    if problem:
        raise click.UsageError(f"--password: {problem}")
    user = db.session.scalar(select(User).where(User.email == email))
    created = user is None
    if created:
        user = User(email=email, name=name.strip())
        db.session.add(user)
    user.name = name.strip()
    user.role = Role.STAFF
    user.active = True
    user.set_password(password)
    db.session.commit()
    click.echo(f"{'Created' if created else 'Updated'} staff account {email}.")

"""`flask create-staff`."""
import click
from flask.cli import with_appcontext
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..models import Role, User
from ..records import UserFields


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
    fields = UserFields(MultiDict({"email": email, "name": name}))
    if not fields.validate():
        raise click.UsageError("; ".join(f"--{name}: {errors[0]}"
                                         for name, errors in fields.errors.items()))
    email, name = fields.email.data, fields.name.data
    problem = password_problem(password)
    if problem:
        raise click.UsageError(f"--password: {problem}")
    user = db.session.scalar(select(User).where(User.email == email))
    created = user is None
    if created:
        user = User(email=email, name=name)
        db.session.add(user)
    user.name = name
    user.role = Role.STAFF
    user.active = True
    user.set_password(password)
    db.session.commit()
    click.echo(f"{'Created' if created else 'Updated'} staff account {email}.")

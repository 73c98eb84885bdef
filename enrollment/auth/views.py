"""Register, log in, log out."""
from functools import cache
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import User, normalize_email
from .forms import LoginForm, RegisterForm
from .registration import EmailTaken, register_student
from .throttle import limit_logins, limit_registrations

bp = Blueprint("auth", __name__, url_prefix="/auth")


def safe_next(target: str | None) -> str | None:
    """A local path to go back to, or None: never another host or scheme.

    Browsers read a backslash as a slash and drop tabs and newlines inside a URL, so a
    backslash or a control character can turn a local-looking path into `//evil.com`.
    """
    if not target:
        return None
    target = target.strip()
    if any(ch == "\\" or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@cache
def _dummy_hash() -> str:
    return generate_password_hash("no account has this password")


def home_for(user) -> str:
    """Where a user lands after login: staff the admin, instructors their teaching page."""
    if user.is_staff:
        return url_for("admin.index")
    if user.is_instructor:
        return url_for("teach.index")
    return url_for("catalog.index")


def start_session(user, *, remember: bool = False) -> None:
    """Log the user in with a fresh CSRF token: one taken before login is worth nothing after."""
    session.pop("csrf_token", None)
    g.pop("csrf_token", None)  # Flask-WTF keeps the request's signed token here
    login_user(user, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
@limit_registrations
def register():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = register_student(name=form.name.data, email=form.email.data,
                                    password=form.password.data)
            db.session.commit()
        except (EmailTaken, IntegrityError):  # IntegrityError: the same email, concurrently
            db.session.rollback()
            form.email.errors.append("An account with this email already exists. Log in instead.")
        else:
            start_session(user)
            flash(f"Welcome, {user.name}! Your student number is "
                  f"{user.student.student_number}.", "success")
            return redirect(url_for("catalog.index"), code=303)
    return render_template("auth/register.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@limit_logins
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.email == normalize_email(form.email.data)))
        if user is None or not user.password_hash:
            # As slow as a real check, so the response time does not tell which emails exist.
            check_password_hash(_dummy_hash(), form.password.data)
        if user is None or not user.check_password(form.password.data):
            form.password.errors.append("Wrong email or password.")
        elif not user.active:
            form.email.errors.append("This account is disabled. Contact the registrar.")
        else:
            start_session(user, remember=form.remember.data)
            flash(f"Logged in as {user.name}.", "success")
            return redirect(next_url or home_for(user), code=303)
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # A new token: copies of this user's session or remember cookie stop working.
        current_user.rotate_session_token()
        db.session.commit()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"), code=303)

"""Accounts: Flask-Login wiring, register / login / logout views, access decorators."""
import hmac

from flask import Flask
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..extensions import db, login_manager
from ..models import User

USER_WITH_STUDENT = (select(User).options(joinedload(User.student))
                     .where(User.id == bindparam("id")))


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(login_id: str) -> User | None:
        """`login_id` is `User.get_id()`: the id and the user's current session token."""
        user_id, _, token = (login_id or "").partition(":")
        if not user_id.isdigit() or len(user_id) > 10 or not token:
            return None
        # The student profile in the same query: nearly every page of a student reads it.
        user = db.session.scalars(USER_WITH_STUDENT, {"id": int(user_id)}).first()
        if user is not None and not hmac.compare_digest(user.session_token, token):
            return None  # logged out (or password changed) since this cookie was issued
        # An account disabled by staff is logged out at its next request, not at its next login.
        return user if user is not None and user.active else None

    from . import throttle
    from .views import bp

    throttle.init_app(app)
    app.register_blueprint(bp)

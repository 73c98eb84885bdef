"""Accounts: Flask-Login wiring, register / login / logout views, access decorators."""
from flask import Flask

from ..extensions import db, login_manager
from ..models import User


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        try:
            user = db.session.get(User, int(user_id))
        except (TypeError, ValueError, OverflowError):
            return None
        # An account disabled by staff is logged out at its next request, not at its next login.
        return user if user is not None and user.active else None

    from .views import bp

    app.register_blueprint(bp)

"""Registers the model views on the admin."""
from flask_admin import Admin


def register_views(admin: Admin) -> None:
    """Model views are added by the admin issue."""

"""The password policy, in one place for the register form, the admin and the CLI."""
from flask import current_app, has_app_context

COMMON = {"password", "password1", "password123", "1234567890", "qwertyuiop", "letmein123",
          "iloveyou12", "welcome123", "enrollment", "abc1234567"}


def password_problem(password: str) -> str | None:
    """The reason a password is refused, or None when it is acceptable."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"] if has_app_context() else 10
    if len(password) < minimum:
        return f"Password must be at least {minimum} characters long."
    if len(password) > 200:
        return "Password must be at most 200 characters long."
    if password.lower() in COMMON:
        return "That password is too common; choose another."
    if password.isdigit() or password.isalpha():
        return "Password must mix letters with digits or symbols."
    return None

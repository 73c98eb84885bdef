"""Account forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import Email, EqualTo, InputRequired, Length, ValidationError

from .passwords import password_problem


def strip_nul(value):
    """PostgreSQL refuses NUL characters in text: drop them before validation."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def strip(value):
    return strip_nul(value).strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired(), Length(max=254)], filters=[strip])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=200)],
                             filters=[strip_nul])
    remember = BooleanField("Remember me")


class RegisterForm(FlaskForm):
    name = StringField("Full name", validators=[InputRequired(), Length(max=120)],
                       filters=[strip])
    email = EmailField("Email", validators=[InputRequired(), Email(), Length(max=254)],
                       filters=[strip])
    password = PasswordField("Password", validators=[InputRequired()], filters=[strip_nul])
    confirm = PasswordField(
        "Confirm password",
        validators=[InputRequired(), EqualTo("password", message="The passwords do not match.")],
        filters=[strip_nul],
    )

    def validate_password(self, field):
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)

"""Account forms."""
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from ..fields import EmailAddress, strip, strip_nul
from .passwords import password_problem


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address."),
                                            Length(max=254)], filters=[strip])
    password = PasswordField("Password", validators=[InputRequired("Enter your password."),
                                                     Length(max=200)], filters=[strip_nul])
    remember = BooleanField("Remember me on this device")


class RegisterForm(FlaskForm):
    # DataRequired (not InputRequired): a name or email of only spaces is empty once stripped.
    name = StringField("Full name", validators=[DataRequired("Enter your name."), Length(max=120)],
                       filters=[strip])
    email = EmailField("Email", validators=[DataRequired("Enter your email address."),
                                            EmailAddress("Enter a valid email address."),
                                            Length(max=254)], filters=[strip])
    password = PasswordField("Password", validators=[InputRequired("Choose a password.")],
                             filters=[strip_nul])
    confirm = PasswordField(
        "Confirm password",
        validators=[InputRequired("Type the password again."),
                    EqualTo("password", message="The passwords do not match.")],
        filters=[strip_nul],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        minimum = current_app.config["PASSWORD_MIN_LENGTH"]
        self.password.description = (f"At least {minimum} characters, mixing letters with "
                                     "digits or symbols.")

    def validate_password(self, field):
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)

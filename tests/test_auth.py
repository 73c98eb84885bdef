"""Accounts: register, log in (remember me, safe `next`), log out; error pages."""
import re

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from enrollment.auth.views import safe_next
from enrollment.extensions import db
from enrollment.models import Role, Student, User
from tests.factories import PASSWORD
from tests.web_helpers import flashes

GOOD = {"name": "Ada Lovelace", "email": "Ada@Example.EDU", "password": "analytical-42",
        "confirm": "analytical-42"}


def users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def field_errors(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", e).strip()
            for e in re.findall(r'<div class="invalid-feedback"[^>]*>(.*?)</div>', html, re.DOTALL)]


def test_register_creates_student_and_logs_in(client):
    response = client.post("/auth/register", data=GOOD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/courses"
    user = db.session.scalar(select(User))
    assert user.email == "ada@example.edu"
    assert user.name == "Ada Lovelace"
    assert user.role == Role.STUDENT
    assert re.fullmatch(r"2\d{7}", user.student.student_number)
    assert user.student.max_credits == 18
    # Werkzeug's current default method, never the plain password.
    default_method = generate_password_hash("x").split("$")[0]
    assert user.password_hash.split("$")[0] == default_method
    assert "analytical-42" not in user.password_hash
    page = client.get("/courses").text
    welcome = f"Welcome, Ada Lovelace! Your student number is {user.student.student_number}."
    assert flashes(page) == [welcome]
    assert client.get("/me/schedule").status_code == 200


def test_register_email_is_unique_regardless_of_case(client, make_student):
    make_student(email="ada@example.edu")
    db.session.commit()
    response = client.post("/auth/register", data=GOOD)
    assert response.status_code == 400
    assert "An account with this email already exists. Log in instead." in field_errors(
        response.text)
    assert users() == 1


@pytest.mark.parametrize("password, message", [
    ("short1", "Password must be at least 10 characters long."),
    ("password123", "That password is too common; choose another."),
    ("12345678901", "Password must mix letters with digits or symbols."),
    ("onlylettershere", "Password must mix letters with digits or symbols."),
    ("x1" * 101, "Password must be at most 200 characters long."),
])
def test_password_policy(password, message, client):
    response = client.post("/auth/register", data=dict(GOOD, password=password,
                                                       confirm=password))
    assert response.status_code == 400
    assert message in field_errors(response.text)
    assert users() == 0


def test_register_form_errors(client):
    response = client.post("/auth/register", data={"name": "   ", "email": "not-an-email",
                                                   "password": "analytical-42",
                                                   "confirm": "different-42"})
    assert response.status_code == 400
    errors = field_errors(response.text)
    assert "Enter your name." in errors
    assert "Enter a valid email address." in errors
    assert "The passwords do not match." in errors
    assert 'aria-invalid="true"' in response.text
    assert users() == 0


def test_register_page_explains_the_policy(client):
    html = client.get("/auth/register").text
    assert "At least 10 characters, mixing letters with digits or symbols." in html
    for name in ("name", "email", "password", "confirm"):
        assert f'<label for="{name}">' in html


def test_nul_characters_never_500(client, make_student):
    response = client.post("/auth/register", data=dict(GOOD, name="Ada\x00 Lovelace",
                                                       email="ada\x00@example.edu"))
    assert response.status_code == 303
    user = db.session.scalar(select(User))
    assert (user.name, user.email) == ("Ada Lovelace", "ada@example.edu")
    client.post("/auth/logout")
    for data in ({"email": "\x00", "password": "\x00"},
                 {"email": "ada@example.edu\x00", "password": "analytical-42\x00"}):
        assert client.post("/auth/login", data=data).status_code in (303, 400)
    assert client.get("/auth/login?next=/\x00").status_code in (200, 302)


def test_login_student_lands_on_catalog(client, make_student):
    make_student(email="bob@example.edu", name="Bob")
    db.session.commit()
    response = client.post("/auth/login", data={"email": " BOB@example.edu ",
                                                "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/courses"
    html = client.get("/courses").text
    assert "Logged in as Bob." in flashes(html)
    assert 'Signed in as <strong class="current-user">Bob</strong>' in html


def test_staff_lands_on_admin(client, make_staff):
    make_staff(email="registrar@example.edu")
    db.session.commit()
    response = client.post("/auth/login", data={"email": "registrar@example.edu",
                                                "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("email, password", [
    ("bob@example.edu", "wrong-password-1"), ("nobody@example.edu", PASSWORD)])
def test_login_refused_with_one_message(email, password, client, make_student):
    make_student(email="bob@example.edu")
    db.session.commit()
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code == 400
    assert "Wrong email or password." in field_errors(response.text)


def test_disabled_account_cannot_log_in(client, make_student):
    make_student(email="bob@example.edu", active=False)
    db.session.commit()
    response = client.post("/auth/login", data={"email": "bob@example.edu",
                                                "password": PASSWORD})
    assert response.status_code == 400
    assert "This account is disabled. Contact the registrar." in field_errors(response.text)


@pytest.mark.parametrize("remember", [True, False])
def test_remember_me(remember, client, make_student):
    make_student(email="bob@example.edu")
    db.session.commit()
    data = {"email": "bob@example.edu", "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    client.post("/auth/login", data=data)
    assert (client.get_cookie("remember_token") is not None) is remember


def test_login_follows_a_local_next(client, make_student):
    make_student(email="bob@example.edu")
    db.session.commit()
    response = client.post("/auth/login?next=/me/schedule",
                           data={"email": "bob@example.edu", "password": PASSWORD})
    assert response.headers["Location"] == "/me/schedule"


@pytest.mark.parametrize("target", [
    "//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "http:/evil.com",
    "/\t/evil.com", " //evil.com", "javascript:alert(1)", "evil.com", "///evil.com",
    "https:evil.com", "http://localhost@evil.com/", "/\r\nSet-Cookie: x=1",
])
def test_login_ignores_unsafe_next(target, client, make_student):
    make_student(email="bob@example.edu")
    db.session.commit()
    response = client.post("/auth/login", query_string={"next": target},
                           data={"email": "bob@example.edu", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/courses"
    assert safe_next(target) is None


def test_safe_next_keeps_local_paths():
    assert safe_next("/courses/3?q=a b") == "/courses/3?q=a b"
    assert safe_next("") is None and safe_next(None) is None


def test_logged_in_user_visiting_login_is_redirected(client, login, make_student):
    student = make_student()
    db.session.commit()
    login(student.user)
    assert client.get("/auth/login").headers["Location"] == "/courses"
    assert client.get("/auth/login?next=//evil.com").headers["Location"] == "/courses"
    assert client.get("/auth/register").headers["Location"] == "/courses"


def test_login_required_pages_come_back_after_login(client, make_student):
    make_student(email="bob@example.edu")
    db.session.commit()
    response = client.get("/me/schedule")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=%2Fme%2Fschedule"
    response = client.post(response.headers["Location"],
                           data={"email": "bob@example.edu", "password": PASSWORD})
    assert response.headers["Location"] == "/me/schedule"


def test_logout_is_post_only(client, login, make_student):
    student = make_student()
    db.session.commit()
    login(student.user)
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/me/schedule").status_code == 200
    response = client.post("/auth/logout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login"
    assert client.get("/me/schedule").status_code == 302


def test_student_profile_is_one_to_one(client):
    client.post("/auth/register", data=GOOD)
    assert db.session.scalar(select(func.count()).select_from(Student)) == 1


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
def test_500_page_is_friendly(app, client, monkeypatch):
    def boom():
        raise RuntimeError("kaboom")

    # The app is shared with other tests and has served requests (no new routes then): swap
    # a view for this test only.
    monkeypatch.setitem(app.view_functions, "catalog.index", boom)
    response = client.get("/courses")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "kaboom" not in response.text
    assert '<nav class="navbar' in response.text


def test_404_and_405_pages_are_friendly(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.text
    assert 'href="/courses"' in response.text
    assert client.get("/auth/logout").status_code == 405


def test_disabled_account_is_logged_out_at_next_request(client, login, make_student):
    student = make_student()
    db.session.commit()
    login(student.user)
    assert client.get("/me/schedule").status_code == 200
    student.user.active = False
    db.session.commit()
    assert client.get("/me/schedule").status_code == 302

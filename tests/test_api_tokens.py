"""API tokens: `flask api-token create | list | revoke`, and the admin's token view."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from enrollment.extensions import db
from enrollment.models import ApiToken, Role
from tests.api_support import bearer
from tests.factories import make_student, make_user


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(ApiToken))


def _secret(output: str) -> str:
    return re.search(r"(enr_\S+)", output.split("Token (shown once")[1]).group(1)


def test_create_prints_the_token_once_and_it_works(runner, client, make_staff):
    make_staff(email="registrar@example.edu")
    db.session.commit()
    result = runner.invoke(args=["api-token", "create", "--email", "Registrar@example.edu",
                                 "--scopes", "read,enroll,roster,admin", "--days", "30",
                                 "--name", "SIS sync"])
    assert result.exit_code == 0, result.output
    secret = _secret(result.output)
    token = db.session.scalars(select(ApiToken)).one()
    assert token.name == "SIS sync" and token.scopes == "read enroll roster admin"
    assert token.expires_at is not None and secret.startswith(token.prefix)
    assert secret not in token.token_hash
    assert client.get("/api/v1/terms", headers=bearer(secret)).status_code == 200
    listed = runner.invoke(args=["api-token", "list"])
    assert listed.exit_code == 0 and token.prefix in listed.output
    assert secret not in listed.output and "active" in listed.output
    revoked = runner.invoke(args=["api-token", "revoke", str(token.id)])
    assert revoked.exit_code == 0 and "Revoked" in revoked.output
    assert client.get("/api/v1/terms", headers=bearer(secret)).status_code == 401
    again = runner.invoke(args=["api-token", "revoke", str(token.id)])
    assert again.exit_code == 0 and "already" in again.output


@pytest.mark.parametrize("args, message", [
    (["--email", "nobody@example.edu", "--scopes", "read"], "no user"),
    (["--email", "ada\x00@example.edu", "--scopes", "read"], "no user"),
    (["--email", "ada@example.edu", "--scopes", "roster"], "cannot have the scope roster"),
    (["--email", "ada@example.edu", "--scopes", "read,admin"], "cannot have the scope admin"),
    (["--email", "ada@example.edu", "--scopes", "read,fly"], "Unknown scope"),
    (["--email", "ada@example.edu", "--scopes", ","], "at least one scope"),
    (["--email", "ada@example.edu", "--scopes", "read", "--days", "0"], "Days"),
    (["--email", "ada@example.edu", "--scopes", "read", "--days", "x"], "days"),
    (["--email", "turing@example.edu", "--scopes", "enroll"], "cannot have the scope enroll"),
    (["--email", "ada@example.edu", "--scopes", "read", "--name", "x" * 101], "name"),
])
def test_bad_input_exits_2_and_stores_nothing(runner, args, message):
    make_student(email="ada@example.edu")
    make_user(email="turing@example.edu", role=Role.INSTRUCTOR)
    db.session.commit()
    result = runner.invoke(args=["api-token", "create", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert _count() == 0


def test_a_student_token_and_list_when_empty(runner):
    assert runner.invoke(args=["api-token", "list"]).output.strip() == "No API tokens."
    make_student(email="ada@example.edu")
    db.session.commit()
    result = runner.invoke(args=["api-token", "create", "--email", "ada@example.edu",
                                 "--scopes", "read,enroll"])
    assert result.exit_code == 0 and "until revoked" in result.output
    bad = runner.invoke(args=["api-token", "revoke", "99"])
    assert bad.exit_code == 2 and "no API token" in bad.output
    assert runner.invoke(args=["api-token", "revoke", "x" * 50]).exit_code == 2


def test_admin_lists_creates_shows_once_and_revokes(client, login, make_staff):
    staff = make_staff(email="registrar@example.edu")
    make_student(email="ada@example.edu")
    db.session.commit()
    login(staff)
    page = client.post("/admin/api_token/new/", data={
        "user_email": "ada@example.edu", "name": "Student app", "scopes": ["read", "enroll"],
        "days": "90"})
    assert page.status_code == 201  # created, the secret on this page
    secret = re.search(r'id="api-token"[^>]*>(enr_[^<]+)<', page.text).group(1)
    token = db.session.scalars(select(ApiToken)).one()
    assert token.scopes == "read enroll" and token.created_by_id == staff.id
    listing = client.get("/admin/api_token/")
    assert listing.status_code == 200 and token.prefix in listing.text
    assert secret not in listing.text
    assert client.get("/api/v1/terms", headers=bearer(secret)).status_code == 200
    # Beyond the role: a message on the field, nothing stored.
    refused = client.post("/admin/api_token/new/", data={
        "user_email": "ada@example.edu", "scopes": ["roster"]})
    assert "cannot have the scope roster" in refused.text and _count() == 1
    assert client.get(f"/admin/api_token/edit/?id={token.id}").status_code in (302, 403, 404)
    done = client.post("/admin/api_token/action/", data={
        "action": "revoke", "rowid": [str(token.id)]}, follow_redirects=True)
    assert "Revoked 1 token" in done.text
    assert client.get("/api/v1/terms", headers=bearer(secret)).status_code == 401


def test_admin_tokens_are_staff_only(client, login, make_student):
    student = make_student()
    db.session.commit()
    assert client.get("/admin/api_token/").status_code == 302
    login(student.user)
    assert client.get("/admin/api_token/").status_code == 403

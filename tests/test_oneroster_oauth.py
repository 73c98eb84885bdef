"""OAuth 2 client credentials of the OneRoster provider: the token endpoint (RFC 6749
errors), who a request is authorized for (only a valid, unexpired token of an active client),
`flask oneroster client-create`, and the clients in the admin."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from enrollment.extensions import db
from enrollment.models import OneRosterClient
from enrollment.oneroster import oauth
from tests.api_support import make_token
from tests.factories import NOW
from tests.oneroster_support import PREFIX, access_token, basic, bearer, make_client

SCOPE = "https://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly"


@pytest.fixture
def lms(app):
    return make_client()


def test_client_credentials_give_a_bearer_token(client, lms):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                 "scope": SCOPE}, headers=basic(*lms))
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "bearer" and body["scope"] == SCOPE
    assert body["expires_in"] == oauth.TOKEN_SECONDS
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get(PREFIX + "/classes", headers=bearer(body["access_token"])).status_code \
        == 200
    stored = db.session.scalars(select(OneRosterClient)).one()
    assert stored.last_token_at == NOW
    assert lms[1] not in stored.secret_hash  # only a hash of the secret is kept


def test_credentials_in_the_form_are_accepted_too(client, lms):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                 "client_id": lms[0], "client_secret": lms[1]})
    assert response.status_code == 200


@pytest.mark.parametrize("how", ["none", "wrong_secret", "unknown_id", "revoked", "empty"])
def test_bad_client_credentials_are_invalid_client(client, lms, how):
    client_id, secret = lms
    headers = {"none": {}, "wrong_secret": basic(client_id, secret + "x"),
               "unknown_id": basic("nobody", secret), "revoked": basic(client_id, secret),
               "empty": basic("", "")}[how]
    if how == "revoked":
        oauth.revoke_client(db.session.scalars(select(OneRosterClient)).one(), now=NOW)
        db.session.commit()
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=headers)
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(("data", "error"), [
    ({}, "invalid_request"),
    ({"grant_type": "password"}, "unsupported_grant_type"),
    ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
    ({"grant_type": "client_credentials", "scope": "roster.write"}, "invalid_scope"),
    ({"grant_type": "client_credentials", "scope": f"{SCOPE} admin"}, "invalid_scope"),
])
def test_token_request_errors_follow_rfc_6749(client, lms, data, error):
    response = client.post("/oauth/token", data=data, headers=basic(*lms))
    assert response.status_code == 400
    assert response.json["error"] == error and response.json["error_description"]


def test_the_token_endpoint_takes_only_post(client):
    assert client.get("/oauth/token").status_code == 405


def _status(client, headers):
    response = client.get(PREFIX + "/users", headers=headers)
    if response.status_code == 401:
        field = response.json["imsx_CodeMinor"]["imsx_codeMinorField"][0]
        assert field["imsx_codeMinorFieldValue"] == "unauthorisedrequest"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return response.status_code


def test_authorization_matrix(app, client, lms, login):
    from tests.factories import make_staff
    token = access_token(client, *lms)
    assert _status(client, bearer(token)) == 200
    assert _status(client, {}) == 401  # no token
    assert _status(client, bearer("not-a-token")) == 401
    assert _status(client, bearer(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))) == 401
    assert _status(client, {"Authorization": token}) == 401  # no scheme
    assert _status(client, basic(*lms)) == 401  # client credentials are for /oauth/token
    # A token signed with another key (another deployment) is not ours.
    app.config["SECRET_KEY"], key = "another-key", app.config["SECRET_KEY"]
    foreign = access_token(client, *lms)
    app.config["SECRET_KEY"] = key
    assert _status(client, bearer(foreign)) == 401
    # A JSON API token is not a OneRoster token.
    staff = make_staff()
    api_secret = make_token(staff, "read,roster,admin")
    db.session.commit()
    assert _status(client, bearer(api_secret)) == 401
    # A logged-in staff member's session cookie does not authorize.
    login(staff)
    assert client.get("/admin/").status_code == 200
    assert _status(client, {}) == 401
    assert _status(client, bearer(token)) == 200


def test_an_expired_token_is_refused(app, client, lms):
    token = access_token(client, *lms)
    app.config["FIXED_NOW"] = NOW + timedelta(seconds=oauth.TOKEN_SECONDS - 1)
    assert _status(client, bearer(token)) == 200
    app.config["FIXED_NOW"] = NOW + timedelta(seconds=oauth.TOKEN_SECONDS)
    assert _status(client, bearer(token)) == 401


def test_revoking_a_client_stops_its_tokens_at_once(client, lms):
    token = access_token(client, *lms)
    assert _status(client, bearer(token)) == 200
    stored = db.session.scalars(select(OneRosterClient)).one()
    assert oauth.revoke_client(stored, now=NOW) is True
    assert oauth.revoke_client(stored, now=NOW) is False
    db.session.commit()
    assert _status(client, bearer(token)) == 401


def test_a_deleted_client_s_tokens_stop(client, lms):
    token = access_token(client, *lms)
    db.session.delete(db.session.scalars(select(OneRosterClient)).one())
    db.session.commit()
    assert _status(client, bearer(token)) == 401


def test_cli_client_create_prints_the_id_and_secret_once(app, runner, client):
    result = runner.invoke(args=["oneroster", "client-create", "--name", "Canvas"])
    assert result.exit_code == 0, result.output
    client_id = re.search(r"client_id: (\S+)", result.output).group(1)
    secret = re.search(r"client_secret: (\S+)", result.output).group(1)
    stored = db.session.scalars(select(OneRosterClient)).one()
    assert stored.name == "Canvas" and stored.client_id == client_id
    assert stored.secret_hash == oauth.hash_secret(secret) and secret not in stored.secret_hash
    assert _status(client, bearer(access_token(client, client_id, secret))) == 200


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_cli_client_create_refuses_a_bad_name(app, runner, name):
    result = runner.invoke(args=["oneroster", "client-create", "--name", name])
    assert result.exit_code == 2
    assert "--name" in result.output
    assert db.session.scalar(select(func.count()).select_from(OneRosterClient)) == 0


def test_admin_lists_creates_shows_once_and_revokes(client, login, make_staff):
    staff = make_staff()
    db.session.commit()
    login(staff)
    page = client.post("/admin/oneroster_client/new/", data={"name": "Moodle"})
    assert page.status_code == 201  # created, the secret on this page
    client_id = re.search(r'id="client-id"[^>]*>([^<]+)<', page.text).group(1)
    secret = re.search(r'id="client-secret"[^>]*>([^<]+)<', page.text).group(1)
    stored = db.session.scalars(select(OneRosterClient)).one()
    assert stored.client_id == client_id and stored.name == "Moodle"
    listing = client.get("/admin/oneroster_client/")
    assert listing.status_code == 200 and client_id in listing.text
    assert secret not in listing.text
    token = access_token(client, client_id, secret)
    assert _status(client, bearer(token)) == 200
    assert client.get(f"/admin/oneroster_client/edit/?id={stored.id}").status_code in (
        302, 403, 404)
    empty = client.post("/admin/oneroster_client/new/", data={"name": ""})
    assert "A name is required" in empty.text
    done = client.post("/admin/oneroster_client/action/", data={
        "action": "revoke", "rowid": [str(stored.id)]}, follow_redirects=True)
    assert "Revoked 1 client" in done.text
    assert _status(client, bearer(token)) == 401
    assert client.post("/oauth/token", data={"grant_type": "client_credentials"},
                       headers=basic(client_id, secret)).status_code == 401


def test_admin_clients_are_staff_only(client, login, make_student):
    student = make_student()
    db.session.commit()
    assert client.get("/admin/oneroster_client/").status_code == 302
    login(student.user)
    assert client.get("/admin/oneroster_client/").status_code == 403


def test_the_provider_is_rate_limited_like_the_json_api(make_app):
    app = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    with app.app_context():
        http = app.test_client()
        lms = make_client()
        headers = bearer(access_token(http, *lms))
        assert [_status(http, headers) for _ in range(3)] == [200, 200, 200]
        response = http.get(PREFIX + "/users", headers=headers)
        assert response.status_code == 429
        assert response.json["imsx_codeMajor"] == "failure"
        # Another token has its own budget.
        assert _status(http, bearer(access_token(http, *lms))) == 200
        db.session.rollback()

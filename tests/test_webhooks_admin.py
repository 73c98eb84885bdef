"""Webhook endpoints registered in the admin and with `flask webhooks`: URL checks (private
addresses refused unless allowed), the secret shown once and rotated, the delivery log."""
from __future__ import annotations

import base64
import re

import pytest
from sqlalchemy import func, select

from enrollment.cli.webhooks import webhooks_group
from enrollment.extensions import db
from enrollment.models import WebhookDelivery, WebhookEndpoint
from enrollment.services import webhooks
from tests.admin_support import staff_client_fixture, staff_fixture  # noqa: F401

PUBLIC = "http://93.184.216.34/hooks"  # a public address: no name to look up
PRIVATE = ["http://127.0.0.1:8080/h", "http://localhost/h", "http://10.1.2.3/h",
           "http://192.168.0.7/h", "http://172.16.5.5/h", "http://169.254.169.254/latest",
           "http://[::1]/h", "http://[fe80::1]/h", "http://[::ffff:127.0.0.1]/h",
           "http://0.0.0.0/h", "http://100.64.0.1/h"]


def endpoint_count() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(WebhookEndpoint))


def secret_on(page: str) -> str:
    match = re.search(r'id="webhook-secret"[^>]*>(whsec_[A-Za-z0-9+/=]+)<', page)
    assert match, page
    return match.group(1)


# --- the URL rules --------------------------------------------------------------------------

@pytest.mark.parametrize("url", PRIVATE)
def test_private_and_loopback_addresses_are_refused(app, url):
    with pytest.raises(webhooks.WebhookInputError) as refused:
        webhooks.check_url(url, private_ok=False)
    assert refused.value.field == "url"
    assert "public addresses only" in refused.value.message
    assert "WEBHOOKS_ALLOW_PRIVATE" in refused.value.message


def test_private_addresses_are_allowed_when_configured(app):
    assert webhooks.check_url("http://127.0.0.1:8080/h?x=1", private_ok=True).path == "/h?x=1"
    assert webhooks.check_url(PUBLIC, private_ok=False).addresses == ("93.184.216.34",)


@pytest.mark.parametrize("url, message", [
    ("", "A URL is required."),
    ("ftp://93.184.216.34/x", "http:// or https://"),
    ("javascript:alert(1)", "http:// or https://"),
    ("93.184.216.34/hooks", "http:// or https://"),
    ("http:///nohost", "no host"),
    ("http://93.184.216.34:99999/x", "port"),
    ("http://user:pw@93.184.216.34/x", "user name or password"),
    ("http://93.184.216.34/a b", "spaces"),
    ("http://no-such-host.invalid/x", "could not be found"),
    ("https://93.184.216.34/" + "x" * 2000, "longer than"),
])
def test_bad_urls_are_refused_with_a_reason(app, url, message):
    with pytest.raises(webhooks.WebhookInputError) as refused:
        webhooks.check_url(url, private_ok=True)
    assert message in refused.value.message


def test_event_types_are_checked():
    assert webhooks.parse_events("course.updated, enrollment.created") == \
        "enrollment.created course.updated"
    assert webhooks.parse_events([]) == ""
    with pytest.raises(webhooks.WebhookInputError, match="Unknown event type enrollment.nope"):
        webhooks.parse_events("enrollment.nope")


def test_the_secret_is_standard_base64_of_24_random_bytes():
    secret = webhooks.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) >= 24
    assert webhooks.new_secret() != secret


# --- the CLI --------------------------------------------------------------------------------

def test_cli_add_prints_the_secret_once_and_list_shows_the_endpoints(app, runner):
    result = runner.invoke(webhooks_group, ["add", "--url", PUBLIC, "--events",
                                            "enrollment.deleted,course.updated",
                                            "--description", "Library system"])
    assert result.exit_code == 0, result.output
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    assert endpoint.secret in result.output and endpoint.secret.startswith("whsec_")
    assert endpoint.events == "enrollment.deleted course.updated"
    assert endpoint.description == "Library system" and endpoint.active

    listed = runner.invoke(webhooks_group, ["list"])
    assert listed.exit_code == 0
    assert PUBLIC in listed.output and "enrollment.deleted, course.updated" in listed.output
    assert "Library system" in listed.output
    assert endpoint.secret not in listed.output

    everything = runner.invoke(webhooks_group, ["add", "--url", PUBLIC + "/2"])
    assert everything.exit_code == 0 and "all events" in everything.output


@pytest.mark.parametrize("args, message", [
    (["--url", "http://127.0.0.1:9/h"], "loopback address"),
    (["--url", "http://10.0.0.8/h"], "private address"),
    (["--url", "ftp://93.184.216.34/h"], "http:// or https://"),
    (["--url", PUBLIC, "--events", "enrollment.created,nope"], "Unknown event type nope"),
])
def test_cli_refuses_bad_input_and_stores_nothing(app, runner, args, message):
    result = runner.invoke(webhooks_group, ["add", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "whsec_" not in result.output
    assert endpoint_count() == 0


@pytest.mark.config(WEBHOOKS_ALLOW_PRIVATE=True)
def test_cli_takes_a_private_address_when_allowed(app, runner):
    result = runner.invoke(webhooks_group, ["add", "--url", "http://127.0.0.1:9/h"])
    assert result.exit_code == 0, result.output
    assert endpoint_count() == 1


def test_cli_lists_no_endpoints(app, runner):
    assert "No webhook endpoints." in runner.invoke(webhooks_group, ["list"]).output


# --- the admin ------------------------------------------------------------------------------

def test_admin_creates_an_endpoint_and_shows_its_secret_once(staff_client, staff):
    response = staff_client.post("/admin/webhook/new/", data={
        "url": PUBLIC, "description": "Data warehouse",
        "events": ["enrollment.created", "enrollment.deleted"], "active": "y"})
    assert response.status_code == 201  # created, the secret on this page
    page = response.get_data(as_text=True)
    secret = secret_on(page)
    assert "not shown again" in page
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    assert (endpoint.url, endpoint.secret, endpoint.events, endpoint.description,
            endpoint.created_by_id) == (PUBLIC, secret, "enrollment.created enrollment.deleted",
                                        "Data warehouse", staff.id)

    listing = staff_client.get("/admin/webhook/").get_data(as_text=True)
    assert PUBLIC in listing and secret not in listing and secret[-4:] in listing
    edit = staff_client.get(f"/admin/webhook/edit/?id={endpoint.id}").get_data(as_text=True)
    assert secret not in edit
    ticked = re.findall(r'<input checked[^>]*name="events"[^>]*value="([a-z.]+)"', edit)
    assert ticked == ["enrollment.created", "enrollment.deleted"]
    export = staff_client.get("/admin/webhook/export/csv/").get_data(as_text=True)
    assert PUBLIC in export and secret not in export


@pytest.mark.parametrize("data, message", [
    ({"url": "http://127.0.0.1:9/h"}, "loopback address"),
    ({"url": "http://192.168.1.20/h"}, "private address"),
    ({"url": "ftp://93.184.216.34/h"}, "http:// or https://"),
    ({"url": ""}, "A URL is required."),
    ({"url": PUBLIC, "events": ["enrollment.nope"]}, "is not a valid choice"),
    ({"url": PUBLIC, "description": "x" * 201}, "200 characters"),
])
def test_admin_form_refuses_bad_input_and_stores_nothing(staff_client, data, message):
    response = staff_client.post("/admin/webhook/new/", data={"active": "y", **data})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert 'id="webhook-secret"' not in page
    assert endpoint_count() == 0


def test_admin_edit_rechecks_the_url_and_keeps_the_secret(staff_client):
    endpoint = webhooks.create_endpoint(PUBLIC, actor=None, private_ok=False)
    db.session.commit()
    secret, endpoint_id = endpoint.secret, endpoint.id

    refused = staff_client.post(f"/admin/webhook/edit/?id={endpoint_id}",
                                data={"url": "http://169.254.169.254/latest", "active": "y"})
    assert "link-local address" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint_id).url == PUBLIC

    saved = staff_client.post(f"/admin/webhook/edit/?id={endpoint_id}",
                              data={"url": PUBLIC + "/v2", "events": ["course.updated"]})
    assert saved.status_code == 302
    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    assert (endpoint.url, endpoint.events, endpoint.active, endpoint.secret) == \
        (PUBLIC + "/v2", "course.updated", False, secret)


@pytest.mark.config(WEBHOOKS_ALLOW_PRIVATE=True)
def test_admin_takes_a_private_address_when_allowed(staff_client):
    response = staff_client.post("/admin/webhook/new/",
                                 data={"url": "http://127.0.0.1:9/h", "active": "y"})
    assert secret_on(response.get_data(as_text=True))
    assert db.session.scalars(select(WebhookEndpoint)).one().events == ""


def test_rotating_the_secret_asks_first_then_shows_the_new_one_once(staff_client):
    endpoint = webhooks.create_endpoint(PUBLIC, actor=None, private_ok=False)
    db.session.commit()
    old, endpoint_id = endpoint.secret, endpoint.id

    confirm = staff_client.get(f"/admin/webhook/rotate/?id={endpoint_id}")
    assert confirm.status_code == 200
    assert "Rotate the secret" in confirm.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint_id).secret == old  # a GET changes nothing

    rotated = staff_client.post(f"/admin/webhook/rotate/?id={endpoint_id}")
    new = secret_on(rotated.get_data(as_text=True))
    db.session.expire_all()
    assert new != old and db.session.get(WebhookEndpoint, endpoint_id).secret == new

    missing = staff_client.post("/admin/webhook/rotate/?id=999999")
    assert missing.status_code == 302
    assert staff_client.get("/admin/webhook/rotate/?id=abc").status_code == 400


def test_the_delivery_log_lists_each_call_and_shows_its_body(staff_client):
    endpoint = webhooks.create_endpoint(PUBLIC, actor=None, private_ok=False)
    db.session.flush()
    body = '{"type":"enrollment.created","data":{"student_number":"S<1>"}}'
    db.session.add(WebhookDelivery(endpoint_id=endpoint.id, event_type="enrollment.created",
                                   body=body, attempts=3, last_status=502,
                                   last_error="DeliveryFailed: HTTP 502 Bad Gateway"))
    db.session.commit()
    row = db.session.scalars(select(WebhookDelivery)).one()

    listing = staff_client.get("/admin/webhook_delivery/").get_data(as_text=True)
    for shown in (PUBLIC, "enrollment.created", "pending", "502", "HTTP 502 Bad Gateway"):
        assert shown in listing, shown
    assert "S&lt;1&gt;" not in listing  # the body is on the details page only
    details = staff_client.get(f"/admin/webhook_delivery/details/?id={row.id}")
    page = details.get_data(as_text=True)
    assert details.status_code == 200
    assert "S&lt;1&gt;" in page and "S<1>" not in page  # escaped
    assert f"msg_{row.key}" in page
    pending = staff_client.get("/admin/webhook_delivery/?flt0_state_is=pending")
    assert "HTTP 502" in pending.get_data(as_text=True)
    sent = staff_client.get("/admin/webhook_delivery/?flt0_state_is=sent")
    assert "HTTP 502" not in sent.get_data(as_text=True)
    # Read-only: no create, edit or delete.
    assert staff_client.get("/admin/webhook_delivery/new/").status_code == 302
    assert staff_client.post("/admin/webhook_delivery/delete/",
                             data={"id": row.id}).status_code == 302
    assert db.session.get(WebhookDelivery, row.id) is not None


def test_deleting_an_endpoint_deletes_its_log(staff_client):
    endpoint = webhooks.create_endpoint(PUBLIC, actor=None, private_ok=False)
    db.session.flush()
    db.session.add(WebhookDelivery(endpoint_id=endpoint.id, event_type="course.updated",
                                   body="{}"))
    db.session.commit()
    response = staff_client.post("/admin/webhook/delete/", data={"id": endpoint.id})
    assert response.status_code == 302
    assert endpoint_count() == 0
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_the_forms_carry_csrf_tokens(staff_client):
    endpoint = webhooks.create_endpoint(PUBLIC, actor=None, private_ok=False)
    db.session.commit()
    page = staff_client.get("/admin/webhook/new/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    rotate = staff_client.get(f"/admin/webhook/rotate/?id={endpoint.id}").get_data(as_text=True)
    assert 'name="csrf_token"' in rotate
    assert staff_client.post(f"/admin/webhook/rotate/?id={endpoint.id}").status_code == 400
    refused = staff_client.post("/admin/webhook/new/", data={"url": PUBLIC + "/x"})
    assert refused.status_code == 400 and endpoint_count() == 1
    created = staff_client.post("/admin/webhook/new/",
                                data={"url": PUBLIC + "/x", "csrf_token": token})
    assert secret_on(created.get_data(as_text=True))
    assert endpoint_count() == 2


@pytest.mark.parametrize("value, expected", [("true", True), ("1", True), ("false", False),
                                             ("0", False), ("", False), (True, True)])
def test_webhooks_allow_private_is_read_as_a_boolean(make_app, value, expected):
    assert make_app(WEBHOOKS_ALLOW_PRIVATE=value).config["WEBHOOKS_ALLOW_PRIVATE"] is expected


def test_webhooks_allow_private_is_off_by_default(app):
    assert app.config["WEBHOOKS_ALLOW_PRIVATE"] is False

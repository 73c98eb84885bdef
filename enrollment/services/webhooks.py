"""Webhooks: endpoints, the deliveries an event makes, and sending them (Standard Webhooks).

An endpoint is registered by staff (the admin or `flask webhooks add`); `create_endpoint`
checks its URL and generates its secret. Fanning out (`services.outbox.fan_out`) asks this
module for the deliveries of each pending event: one per active endpoint that subscribes to
the event's type, its JSON body fixed then. Delivering (`deliver_due`) posts each body signed
with the endpoint's secret; `services.outbox.deliver` leases, retries and records.

Addresses: an endpoint on a loopback, private, link-local or otherwise non-public address is
refused unless `WEBHOOKS_ALLOW_PRIVATE` is set (development and tests), when it is registered
and again when it is called (a name may resolve elsewhere by then); the call connects to the
address that was checked, so a second lookup cannot point it somewhere else.
"""
from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from standardwebhooks import Webhook

from ..clock import utcnow
from ..extensions import db
from ..models import (
    EVENT_TYPES,
    Action,
    CourseEvent,
    EnrollmentEvent,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from ..models.webhooks import subscribes
from .counts import seat_count
from .outbox import DeliveryReport, deliver

TIMEOUT_SECONDS = 10     # connect and read, per call
URL_MAX = 2000           # the column's length
SECRET_BYTES = 24
USER_AGENT = "Enrollment-Webhooks/1"


class WebhookInputError(ValueError):
    """Input for an endpoint that is refused; `field` names the input, `message` says why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class DeliveryFailed(Exception):
    """A call that did not succeed; `status` is the HTTP status when there was an answer."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


# --- endpoints --------------------------------------------------------------------------------

def new_secret() -> str:
    """A signing secret: `whsec_` + standard base64 of random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOKS_ALLOW_PRIVATE"))


def _address_refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global or ip.is_multicast:
        return "not a public address"
    return None


def resolve_checked(host: str, port: int, *, private_ok: bool) -> list[str]:
    """The addresses of `host`, every one public unless `private_ok`; else WebhookInputError."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise WebhookInputError("url", f"The host {host!r} could not be found.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not private_ok:
        for address in addresses:
            refusal = _address_refusal(ipaddress.ip_address(address.split("%", 1)[0]))
            if refusal:
                raise WebhookInputError(
                    "url", f"The host {host!r} resolves to {address}, {refusal}: webhooks go "
                    "to public addresses only (WEBHOOKS_ALLOW_PRIVATE allows others, for "
                    "development).")
    return addresses


@dataclass(frozen=True)
class Target:
    """A checked URL, split for the call."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]  # what the host resolved to, each one allowed


def check_url(url: str, *, private_ok: bool) -> Target:
    """Check an endpoint URL (http or https, a host that resolves to allowed addresses);
    WebhookInputError says what is wrong."""
    url = (url or "").strip()
    if not url:
        raise WebhookInputError("url", "A URL is required.")
    if len(url) > URL_MAX:
        raise WebhookInputError("url", f"The URL is longer than {URL_MAX} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise WebhookInputError("url", "The URL must not contain spaces or control characters.")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise WebhookInputError("url", "The URL must start with http:// or https://.")
    try:
        port = parts.port
    except ValueError:
        raise WebhookInputError("url", "The URL's port is not a number from 1 to 65535.") \
            from None
    if not parts.hostname:
        raise WebhookInputError("url", "The URL has no host name.")
    if parts.username is not None or parts.password is not None:
        raise WebhookInputError("url", "The URL must not contain a user name or password.")
    scheme = parts.scheme.lower()
    port = port or (443 if scheme == "https" else 80)
    if port == 0:
        raise WebhookInputError("url", "The URL's port is not a number from 1 to 65535.")
    addresses = resolve_checked(parts.hostname, port, private_ok=private_ok)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, parts.hostname, port, path, tuple(addresses))


def parse_events(values) -> str:
    """Event types (a list, or text separated by commas or spaces) as the column stores them:
    space-separated, in the order of EVENT_TYPES; '' (every type) when none is given."""
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    chosen = {v.strip() for v in values or () if v and v.strip()}
    unknown = sorted(chosen - set(EVENT_TYPES))
    if unknown:
        raise WebhookInputError("events", f"Unknown event type {', '.join(unknown)}: use "
                                f"{', '.join(EVENT_TYPES)}.")
    return " ".join(t for t in EVENT_TYPES if t in chosen)


def _description(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > 200:
        raise WebhookInputError("description", "The description is longer than 200 characters.")
    return text


def create_endpoint(url: str, *, events="", description: str = "", active: bool = True,
                    actor: User | None, private_ok: bool) -> WebhookEndpoint:
    """Register an endpoint with a new secret (flushed, not committed); WebhookInputError
    when the URL or the event types are refused."""
    url, events = url.strip(), parse_events(events)
    description = _description(description)
    check_url(url, private_ok=private_ok)
    endpoint = WebhookEndpoint(url=url, events=events, description=description, active=active,
                               secret=new_secret(), created_by=actor)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def update_endpoint(endpoint: WebhookEndpoint, *, url: str, events="", description: str = "",
                    active: bool = True, private_ok: bool) -> WebhookEndpoint:
    """Change an endpoint (its secret stays); WebhookInputError when refused, nothing
    changed then."""
    url, description = url.strip(), _description(description)
    events = parse_events(events)
    check_url(url, private_ok=private_ok)
    endpoint.url, endpoint.events = url, events
    endpoint.description, endpoint.active = description, active
    db.session.flush()
    return endpoint


def rotate_secret(endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new secret (the old one stops working at once); returns it."""
    endpoint.secret = new_secret()
    db.session.flush()
    return endpoint.secret


# --- fan-out ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Subscriber:
    id: int
    events: str  # as stored: space-separated, empty for every type

    def wants(self, event_type: str) -> bool:
        return subscribes(self.events, event_type)


_CACHE_KEY = "webhooks.subscribers"


def _subscribers() -> list[_Subscriber]:
    """The active endpoints, read once per transaction: a fan-out batch of 500 events asks
    for them 500 times. Plain values, so that nothing here expires with the transaction."""
    session = db.session()
    transaction = session.get_transaction()
    cached = session.info.get(_CACHE_KEY)
    if cached is not None and cached[0] is transaction and transaction is not None:
        return cached[1]
    rows = db.session.execute(select(WebhookEndpoint.id, WebhookEndpoint.events)
                              .where(WebhookEndpoint.active.is_(True))
                              .order_by(WebhookEndpoint.id))
    subscribers = [_Subscriber(id, events or "") for id, events in rows]
    session.info[_CACHE_KEY] = (transaction, subscribers)
    return subscribers


def event_type_for(event: EnrollmentEvent) -> str | None:
    """The webhook type of an audit event, from the link's status before and after: a new
    link (enrolled, waitlisted, added, imported) is created; a changed one (promoted, offered,
    accepted, completed, graded) updated; a removed one (dropped, removed by staff, an offer
    declined or expired) deleted. A skipped promotion (`refused`) changed nothing: None."""
    if event.action == Action.REFUSED:
        return None
    before, after = event.status_before, event.status_after
    if before is None and after is not None:
        return "enrollment.created"
    if before is not None and after is None:
        return "enrollment.deleted"
    if before is not None and after is not None:
        return "enrollment.updated"
    return None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _body(event_type: str, data: dict) -> str:
    return json.dumps({"type": event_type, "timestamp": utcnow().isoformat(), "data": data},
                      ensure_ascii=False, separators=(",", ":"))


def enrollment_data(event: EnrollmentEvent) -> dict:
    """What a webhook says of an enrollment change. The student and course are read through
    the session's identity map (the mail fan-out loads them for the same event)."""
    student, course = event.student, event.course
    term_code, _, code = (event.course_label or "").rpartition(" ")
    return {
        "event_id": event.id,
        "action": str(event.action),
        "student_number": student.student_number if student is not None
        else (event.student_label or "").split(" ", 1)[0],
        "course": {
            "id": event.course_id,
            "code": course.code if course is not None else code,
            "term": course.term.code if course is not None else term_code,
        },
        "status": str(event.status_after) if event.status_after is not None else None,
        "previous_status": str(event.status_before) if event.status_before is not None
        else None,
        "at": _iso(event.at),
    }


def course_data(change: CourseEvent, now: datetime) -> dict:
    """What a webhook says of a changed course: its schedule, place and seats now."""
    course = change.course
    data = {"event_id": change.id, "changes": change.changes, "at": _iso(change.at),
            "id": change.course_id}
    if course is None:  # deleted since: the label is what is left
        term_code, _, code = (change.course_label or "").rpartition(" ")
        return {**data, "code": code, "term": term_code}
    count = seat_count(course.id, now=now)
    return {
        **data,
        "code": course.code,
        "term": course.term.code,
        "title": course.title,
        "days": course.days,
        "start_time": course.start_time.strftime("%H:%M") if course.start_time else None,
        "end_time": course.end_time.strftime("%H:%M") if course.end_time else None,
        "location": course.location,
        "capacity": course.capacity,
        "seats": {"taken": count.taken, "free": count.free_seats(course),
                  "waitlisted": count.waitlisted},
    }


def _deliveries(event_type: str, make_data, now: datetime, **link) -> list[WebhookDelivery]:
    subscribers = [s for s in _subscribers() if s.wants(event_type)]
    if not subscribers:
        return []
    body = _body(event_type, make_data())
    return [WebhookDelivery(endpoint_id=s.id, event_type=event_type, body=body, due_at=now,
                            **link) for s in subscribers]


def deliveries_for_event(event: EnrollmentEvent, now: datetime) -> list[WebhookDelivery]:
    """One delivery per active endpoint subscribed to the event's type (none for a skipped
    promotion); the body is fixed now, with the real time as its timestamp."""
    event_type = event_type_for(event)
    if event_type is None:
        return []
    return _deliveries(event_type, lambda: enrollment_data(event), now, event_id=event.id)


def deliveries_for_course_event(change: CourseEvent, now: datetime) -> list[WebhookDelivery]:
    """`course.updated` for every active endpoint subscribed to it."""
    return _deliveries("course.updated", lambda: course_data(change, now), now,
                       course_event_id=change.id)


# --- delivery ---------------------------------------------------------------------------------

class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the addresses checked beforehand (the first that answers), whatever the
    host name resolves to now."""

    def __init__(self, host: str, port: int, addresses: tuple[str, ...], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self):
        error: OSError | None = None
        for address in self.addresses:
            try:
                self.sock = socket.create_connection((address, self.port), self.timeout)
                return
            except OSError as exc:
                error = exc
        raise error or OSError("no address to connect to")


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def __init__(self, host: str, port: int, addresses: tuple[str, ...], timeout: float):
        super().__init__(host, port, addresses, timeout)
        self.tls = ssl.create_default_context()

    def connect(self):
        super().connect()
        # The certificate is checked against the host name of the URL.
        self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.host)


def signed_headers(delivery: WebhookDelivery, secret: str, when: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of a delivery: the same id on every try."""
    msg_id = f"msg_{delivery.key}"
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, when, delivery.body),
    }


def post(url: str, body: str, headers: dict[str, str], *, private_ok: bool) -> int:
    """POST `body` to `url`; the status of a 2xx answer, else DeliveryFailed."""
    try:
        target = check_url(url, private_ok=private_ok)
    except WebhookInputError as exc:
        raise DeliveryFailed(f"not sent, refused: {exc.message}") from None
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target.host, target.port, target.addresses, TIMEOUT_SECONDS)
    try:
        connection.request("POST", target.path, body=body.encode("utf-8"), headers=headers)
        response = connection.getresponse()
        # The status is the answer; the body is not read (a slow one must not fail a 2xx).
        status, reason = response.status, response.reason
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryFailed(f"no answer from {target.host}: {exc}") from None
    finally:
        connection.close()
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status} {reason}".strip(), status=status)
    return status


def send(delivery: WebhookDelivery) -> int:
    """Send one leased delivery (timestamped and signed now, in real time)."""
    endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.active:
        raise DeliveryFailed("the endpoint was removed or deactivated")
    url, secret = endpoint.url, endpoint.secret
    db.session.commit()  # no transaction stays open while the call waits on the network
    headers = signed_headers(delivery, secret, utcnow())
    return post(url, delivery.body, headers, private_ok=allow_private())


def deliver_due(now: datetime, report: DeliveryReport) -> None:
    """Send every webhook call that is due (see `services.outbox.deliver`)."""
    deliver(WebhookDelivery, "webhooks", send, now, report)

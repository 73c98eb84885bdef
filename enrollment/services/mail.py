"""Mail to students: the messages an event makes, and sending them by SMTP.

Fanning out (`services.outbox.fan_out`) asks this module for the `Notification`s of each
pending event: one message to the student it concerns (`notifications_for_event`), or one to
every student of a course whose time or room changed (`notifications_for_course_event`). The
words are rendered then, from `templates/mail/message.txt` and `.html`, on the school's wall
clock, and do not change between tries. Delivering (`deliver_due`) sends what is due through
`services.outbox.deliver`, which leases, retries with backoff and records each outcome; the
Message-ID is the notification's key, so a message repeated after a crash is one message to
the recipient's mail program.

Who hears of what: the student's own enrolls, waitlist joins, drops and answers to an offer
are confirmations, which the student may turn off (`Student.mail_confirmations`); offers,
their reminders and expiry, promotions, skipped promotions, staff changes (imports are staff
changes) and course changes always go. A refusal writes no event and so sends nothing; a
completion is a grade, not news, and sends nothing either.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from flask import current_app, render_template
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from .. import clock
from ..database import write_transaction
from ..extensions import db
from ..models import (
    Action,
    Course,
    CourseEvent,
    Enrollment,
    EnrollmentEvent,
    Notification,
    Status,
    Student,
)
from .counts import waitlist_position
from .outbox import DeliveryReport, deliver

# Kinds the student may turn off on /me/notifications (when they made the change themselves).
CONFIRMATIONS = frozenset({"enrolled", "waitlisted", "dropped", "offer_accepted",
                           "offer_declined"})
# How long before an offer expires its reminder is sent.
REMINDER_BEFORE = timedelta(hours=3)
# A reminder whose offer was settled before it was due is not sent; its row says so.
MOOT_NOTE = "Not sent: the offer was no longer pending when the reminder was due."
SMTP_TIMEOUT = 30  # seconds to wait for the mail server at each step

# What each kind says: (subject headline, lines of the body). Lines are format strings over
# `facts` (course, when, position, reason, expires, changes); the templates lay them out.
WORDING: dict[str, tuple[str, tuple[str, ...]]] = {
    "enrolled": ("you are enrolled", ("You are enrolled in {course}.",)),
    "waitlisted": ("you are on the waitlist",
                   ("You joined the waitlist of {course}{position}.",
                    "We will write again when a seat becomes free for you.")),
    "promoted": ("a seat is yours", ("A seat became free in {course}: you are now enrolled.",
                                     "{reason}")),
    "dropped": ("you dropped the course", ("You dropped {course}.",)),
    "added_by_staff": ("the registrar added you",
                       ("The registrar's office {added} {course}.", "{reason}")),
    "removed_by_staff": ("the registrar removed you",
                         ("The registrar's office removed you from {course}.", "{reason}")),
    "skipped": ("you were skipped for a seat",
                ("A seat became free in {course}, but it could not be given to you: {reason}",
                 "You keep your place on the waitlist.")),
    "offered": ("a seat is offered to you",
                ("A seat in {course} is held for you until {expires}.",
                 "Accept or decline it on the course page. If you do neither by then, the "
                 "seat goes to the next student on the waitlist.")),
    "offer_expiring": ("your offer expires soon",
                       ("The seat held for you in {course} is yours only until {expires}.",
                        "Accept or decline it on the course page.")),
    "offer_accepted": ("you accepted the offer", ("You accepted the seat: you are enrolled in "
                                                  "{course}.",)),
    "offer_declined": ("you declined the offer", ("You declined the seat in {course}; it goes "
                                                  "to the next student on the waitlist.",)),
    "offer_expired": ("your offer expired",
                      ("The seat held for you in {course} went to the next student on the "
                       "waitlist. {reason}",
                       "You are no longer on the waitlist; you may join it again from the "
                       "course page.")),
    "course_changed": ("the course changed", ("{course} has changed: {changes}.",)),
}
KIND_LABELS = {"enrolled": "Enrolled", "waitlisted": "Waitlisted", "promoted": "Promoted",
               "dropped": "Dropped", "added_by_staff": "Added by the registrar",
               "removed_by_staff": "Removed by the registrar",
               "skipped": "Skipped for promotion", "offered": "Seat offered",
               "offer_expiring": "Offer expiring", "offer_accepted": "Offer accepted",
               "offer_declined": "Offer declined", "offer_expired": "Offer expired",
               "course_changed": "Course changed"}

_KIND_OF_ACTION = {Action.ENROLLED: "enrolled", Action.WAITLISTED: "waitlisted",
                   Action.PROMOTED: "promoted", Action.DROPPED: "dropped",
                   Action.ADDED_BY_STAFF: "added_by_staff",
                   Action.REMOVED_BY_STAFF: "removed_by_staff",
                   Action.IMPORTED: "added_by_staff", Action.REFUSED: "skipped",
                   Action.OFFERED: "offered", Action.OFFER_ACCEPTED: "offer_accepted",
                   Action.OFFER_DECLINED: "offer_declined",
                   Action.OFFER_EXPIRED: "offer_expired"}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def delivery_state(notification: Notification) -> str:
    """pending, sent, failed, or "not needed" (a reminder whose offer was settled)."""
    if notification.sent_at is not None and notification.last_error == MOOT_NOTE:
        return "not needed"
    return notification.state


def may_turn_off(kind: str) -> bool:
    return kind in CONFIRMATIONS


# --- messages from events ---------------------------------------------------------------------
def notifications_for_event(event: EnrollmentEvent, now: datetime) -> list[Notification]:
    """The messages one audit event makes (none, one, or an offer and its reminder).

    Read at fan-out: a waitlist position is the one at that time; an offer that was settled
    before it was fanned out is not announced (its settlement is).
    """
    kind = _KIND_OF_ACTION.get(event.action)
    student = event.student
    if kind is None or not _reachable(student):
        return []
    own = event.actor_id is not None and event.actor_id == student.user_id
    if kind in CONFIRMATIONS and own and not student.mail_confirmations:
        return []
    if event.action == Action.REFUSED and not (
            event.status_before == event.status_after == Status.WAITLISTED):
        return []  # a refusal of a request changes nothing and is not news
    if event.action == Action.IMPORTED and event.status_after not in (Status.ENROLLED,
                                                                      Status.WAITLISTED):
        return []  # completions and grades from past terms
    link = _link(event)
    facts = {"reason": _reason(event), "position": "", "expires": "",
             "added": "waitlisted you for" if event.status_after == Status.WAITLISTED
             else "enrolled you in"}
    if kind == "waitlisted" and link is not None:
        position = waitlist_position(link)
        facts["position"] = f" at position {position}" if position else ""
    messages = []
    if kind == "offered":
        if link is None or link.status != Status.OFFERED or link.offer_expires_at is None:
            return []
        facts["expires"] = clock.wall_clock(link.offer_expires_at)
        remind_at = link.offer_expires_at - REMINDER_BEFORE
        if remind_at > now:
            messages.append(_message("offer_expiring", student, event.course,
                                     event.course_label, facts, now, at=event.at,
                                     due=remind_at, event_id=event.id))
    messages.insert(0, _message(kind, student, event.course, event.course_label, facts, now,
                                at=event.at, event_id=event.id))
    return messages


def notifications_for_course_event(change: CourseEvent, now: datetime) -> list[Notification]:
    """One message to each student enrolled in, offered a seat in or waiting for the course."""
    course = change.course
    if course is None:
        return []
    students = db.session.scalars(
        select(Student).join(Enrollment, Enrollment.student_id == Student.id)
        .where(Enrollment.course_id == course.id,
               Enrollment.status.in_((Status.ENROLLED, Status.OFFERED, Status.WAITLISTED)))
        .options(joinedload(Student.user)).order_by(Student.id))
    facts = {"changes": change.changes.rstrip(".")}
    return [_message("course_changed", student, course, change.course_label, facts, now,
                     at=change.at, course_event_id=change.id)
            for student in students if _reachable(student)]


def _reachable(student: Student | None) -> bool:
    """A student with an account and an address (an imported record may have neither)."""
    return student is not None and student.user is not None and bool(student.user.email)


def _link(event: EnrollmentEvent) -> Enrollment | None:
    if event.student_id is None or event.course_id is None:
        return None
    return db.session.get(Enrollment, (event.student_id, event.course_id))


def _reason(event: EnrollmentEvent) -> str:
    reason = (event.reason or "").strip()
    if event.action == Action.REFUSED:
        for prefix in ("Skipped for promotion:", "Skipped for an offer:"):
            reason = reason.removeprefix(prefix)
        return reason.strip()
    if reason.startswith("Seat freed by"):  # names the student who dropped: not for others
        return ""
    # The services' own words for the new status say what the headline says already.
    for said in ("Enrolled.", "A seat became free."):
        reason = reason.removeprefix(said).strip()
    if reason.startswith("Waitlisted at position"):
        reason = reason.split(".", 1)[1].strip() if "." in reason else ""
    return reason


def _message(kind: str, student: Student, course: Course | None, label: str, facts: dict,
             now: datetime, *, at: datetime, due: datetime | None = None,
             **source) -> Notification:
    name = student.name
    course_words = f"{course.code} {course.title}" if course is not None else label
    headline, lines = WORDING[kind]
    facts = {**facts, "course": course_words}
    body = [line.format(**facts).strip() for line in lines]
    body = [line for line in body if line]
    site = current_app.config["SITE_URL"]
    context = {
        "name": name, "lines": body, "course": course, "course_words": course_words,
        "course_url": f"{site}/courses/{course.id}" if course is not None else None,
        "preferences_url": f"{site}/me/notifications",
        "can_turn_off": may_turn_off(kind),
        "schedule": course.schedule_label if course is not None else "",
        "location": course.location if course is not None else "",
        "written": clock.wall_clock(at),
    }
    return Notification(
        kind=kind, student_id=student.id, course_id=course.id if course is not None else None,
        email=student.user.email,
        # One line: a header cannot carry a line break (and must not be made to).
        subject=" ".join(f"{course_words}: {headline} ({name})".split())[:300],
        text=render_template("mail/message.txt", **context),
        html=render_template("mail/message.html", **context),
        created_at=now, due_at=due or now, **source)


# --- sending ----------------------------------------------------------------------------------
def mail_enabled() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def message_id(notification: Notification) -> str:
    """The same for every try of one notification: its recipient sees one message."""
    return f"<{notification.key}@enrollment>"


def build_message(notification: Notification, sender: str) -> EmailMessage:
    """The mail of one notification: to the student alone, a text and an HTML part."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notification.email
    message["Subject"] = notification.subject
    message["Message-ID"] = message_id(notification)
    message["Date"] = format_datetime(notification.created_at)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(notification.text, charset="utf-8")
    message.add_alternative(notification.html, subtype="html", charset="utf-8")
    return message


@dataclass
class SmtpSettings:
    server: str
    port: int
    use_tls: bool
    use_ssl: bool
    username: str | None
    password: str | None
    sender: str

    @classmethod
    def from_config(cls, config) -> SmtpSettings:
        return cls(config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_USE_TLS"],
                   config["MAIL_USE_SSL"], config.get("MAIL_USERNAME"),
                   config.get("MAIL_PASSWORD"), config["MAIL_DEFAULT_SENDER"])


class Mailer:
    """One SMTP connection for a round of delivery, opened at the first message and opened
    again after a failure. Any failure raises: the outbox retries it later (a 4xx answer, a
    refused or dropped connection, a timeout; a 5xx too, tried up to the limit)."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.use_ssl:
            smtp = smtplib.SMTP_SSL(s.server, s.port, timeout=SMTP_TIMEOUT,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.server, s.port, timeout=SMTP_TIMEOUT)
        try:
            if s.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, notification: Notification) -> None:
        message = build_message(notification, self.settings.sender)
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            self.smtp.send_message(message, from_addr=parseaddr(self.settings.sender)[1],
                                   to_addrs=[notification.email])
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


def offer_pending(notification: Notification, now: datetime) -> bool:
    """For a reminder: is the student's offer in that course still open?"""
    if notification.student_id is None or notification.course_id is None:
        return False
    link = db.session.get(Enrollment, (notification.student_id, notification.course_id),
                          populate_existing=True)
    return (link is not None and link.status == Status.OFFERED
            and link.offer_expires_at is not None and link.offer_expires_at > now)


def deliver_due(now: datetime, report: DeliveryReport) -> None:
    """Send every mail that is due. With no MAIL_SERVER nothing is sent: messages stay
    pending in the outbox (readable in the admin and on /me/notifications)."""
    if not mail_enabled():
        return
    mailer = Mailer(SmtpSettings.from_config(current_app.config))
    moot: list[int] = []

    def send(notification: Notification) -> None:
        if notification.kind == "offer_expiring" and not offer_pending(notification, now):
            moot.append(notification.id)
            return
        db.session.commit()  # no transaction stays open while the server is slow
        mailer.send(notification)

    try:
        deliver(Notification, "mail", send, now, report)
    finally:
        mailer.close()
    if moot:
        with write_transaction(db.session):
            db.session.execute(update(Notification).where(Notification.id.in_(moot))
                               .values(last_error=MOOT_NOTE)
                               .execution_options(synchronize_session=False))

"""A real SMTP server on loopback (aiosmtpd) that records what it receives, and can refuse
for a while (4xx) or accept a message and then stall before answering."""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Recorder:
    """The handler: `received` in order; `mode` is "accept", "tempfail" or "stall_once"."""

    mode: str = "accept"
    stall_seconds: float = 60.0
    received: list[Received] = field(default_factory=list)
    stalled: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "tempfail":
            return "451 4.3.0 Try again later"
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      message_from_bytes(envelope.original_content,
                                                         policy=policy.default)))
        if self.mode == "stall_once":
            self.mode = "accept"
            self.stalled.set()
            await asyncio.sleep(self.stall_seconds)
        return "250 2.0.0 OK"

    def message_ids(self) -> list[str]:
        return [r.message["Message-ID"] for r in self.received]

    def wait_for(self, count: int, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return True
            time.sleep(0.05)
        return len(self.received) >= count


class SmtpServer:
    """`start()`/`stop()` on one fixed free port, so that a stopped server is an outage."""

    def __init__(self, recorder: Recorder | None = None, *, login: tuple[str, str] | None = None):
        self.recorder = recorder or Recorder()
        self.port = free_port()
        self.controller: Controller | None = None
        self.login = login  # (user, password) the server requires (AUTH without TLS)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and self.login is not None
              and (auth_data.login.decode(), auth_data.password.decode()) == self.login)
        return AuthResult(success=ok)

    def start(self) -> SmtpServer:
        auth = {} if self.login is None else {
            "authenticator": self._authenticate,
            "auth_require_tls": False}
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port,
                                     ready_timeout=10, **auth)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def config(self) -> dict:
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port}

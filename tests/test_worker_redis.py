"""`flask worker` for real: a consumer process on the Redis at 127.0.0.1:6379 (as in
production) delivers a notification to an SMTP server within a bounded time, and stops on
SIGINT. Without Redis the test is skipped with the reason, except under CI=true, where it
fails."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Notification
from tests.factories import NOW, make_course, make_student
from tests.smtp_support import SmtpServer

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parent.parent
# A database of its own on the shared server: the queue's keys stay apart from the rate
# limits' and from any other worker's.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
DELIVERY_TIMEOUT = 45  # seconds: the worker's start (a new app) and one round of delivery


def _require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis is not reachable at {REDIS_URL}: {exc}"
        if IN_CI:
            pytest.fail(message + " (required under CI=true)", pytrace=False)
        pytest.skip(message)


@pytest.mark.sqlite_file
def test_a_worker_on_redis_delivers_and_stops(make_app, tmp_path):
    _require_redis()
    smtp = SmtpServer().start()
    log = tmp_path / "worker.log"
    worker = None
    try:
        app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
        with app.app_context():
            course, person = make_course(code="WK101", title="Workers"), make_student()
            db.session.commit()
            with write_transaction(db.session):
                services.enroll(person, course, actor=person.user, now=NOW)
            env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
            env.update(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                       SECRET_KEY="worker-test", FLASK_FIXED_NOW=NOW.isoformat(),
                       MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp.port), REDIS_URL=REDIS_URL)
            with log.open("wb") as out:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "enrollment", "worker",
                     "--workers", "2"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            started = time.monotonic()
            delivered = smtp.recorder.wait_for(1, timeout=DELIVERY_TIMEOUT)
            assert delivered, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() - started < DELIVERY_TIMEOUT
            [got] = smtp.recorder.received
            assert got.rcpt_tos == [person.user.email]
            assert got.message["Subject"].startswith("WK101 Workers: you are enrolled")
            worker.send_signal(signal.SIGINT)  # Huey's graceful stop
            assert worker.wait(timeout=20) == 0, log.read_text(errors="replace")[-3000:]
            db.session.commit()  # a new snapshot
            [notification] = db.session.scalars(select(Notification))
            assert notification.state == "sent"
            assert got.message["Message-ID"] == f"<{notification.key}@enrollment>"
            output = log.read_text(errors="replace")
            assert "queue in Redis" in output and "deliver_outbox" in output
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
        smtp.stop()

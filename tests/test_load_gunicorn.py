"""Load with real parallelism: a gunicorn server with several worker processes.

The threaded test server (tests/test_concurrency_http.py) runs one process; here each worker is
a process of its own with its own connection, as in production (4 workers on PostgreSQL, 2 on a
SQLite file). 300 students enroll in a 30-seat course at once: exactly 30 get a seat, the rest
join the waitlist in the order the audit trail says they arrived, and every link has its event.
Then a second burst, during which one worker is killed with SIGKILL: requests that died with it
may fail at the connection level, but no write is half done and no seat is oversold.
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, wait
from http.client import HTTPException
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import HTTPRedirectHandler, Request, build_opener

import pytest
from sqlalchemy import insert, select

from enrollment import services
from enrollment.config import PLAIN_ENV
from enrollment.extensions import db
from enrollment.models import Enrollment, EnrollmentEvent, Role, Status, Student, User
from tests.factories import NOW, make_course, make_department, make_term

pytestmark = [pytest.mark.slow, pytest.mark.sqlite_file]

ROOT = Path(__file__).resolve().parent.parent
WORKERS = {"postgresql": 4, "sqlite": 2}
STUDENTS = 300
CAPACITY = 30
THREADS = 32
BURST_TIMEOUT = 60    # seconds for a whole burst
REQUEST_TIMEOUT = 30  # seconds for one request
BOOT_TIMEOUT = 30


class NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = build_opener(NoRedirect)


def session_cookie(app, user_id: str) -> str:
    """A signed Flask session cookie that logs in `user_id` (the server has the same key)."""
    serializer = app.session_interface.get_signing_serializer(app)
    value = serializer.dumps({"_user_id": user_id, "_fresh": True})
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def request(url: str, *, cookie: str | None = None, method: str = "GET"):
    """The status, or the name of the error when the connection failed."""
    req = Request(url, data=b"" if method == "POST" else None, method=method,
                  headers={"Cookie": cookie} if cookie else {})
    try:
        with OPENER.open(req, timeout=REQUEST_TIMEOUT) as response:
            return response.status
    except HTTPError as exc:  # a 303 without a redirect handler arrives as an HTTPError
        return exc.code
    except (URLError, HTTPException, ConnectionError, TimeoutError, OSError) as exc:
        return type(getattr(exc, "reason", exc)).__name__


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------
def children(pid: int) -> set[int]:
    """The live child processes of `pid` (gunicorn's workers), from /proc."""
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.update(int(p) for p in task.read_text().split())
        except OSError:
            pass
    return {p for p in found if _alive(p)}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class Gunicorn:
    """`gunicorn 'enrollment:create_app()'` on 127.0.0.1, a free port, configured by env."""

    def __init__(self, workers: int, env: dict[str, str], log: Path):
        self.workers, self.log = workers, log
        command = [sys.executable, "-m", "gunicorn", "enrollment:create_app()",
                   "--bind", "127.0.0.1:0", "--workers", str(workers),
                   "--worker-class", "sync", "--timeout", "30", "--graceful-timeout", "5",
                   "--chdir", str(ROOT), "--error-logfile", "-"]
        if _has_setting("control_socket_disable"):
            command.append("--no-control-socket")  # gunicorn >= 25: no socket in ~/.gunicorn
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(command, env=env, stdout=self._log_file,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.seen_workers: set[int] = set()
        self.url = self._wait_until_ready()

    def _wait_until_ready(self) -> str:
        deadline = time.monotonic() + BOOT_TIMEOUT
        url = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n"
                                   f"{self.tail()}")
            match = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", self.log.read_text())
            url = url or (match and match[1])
            if url and len(self.worker_pids()) == self.workers and request(
                    f"{url}/courses") == 200:
                # Each worker loads the app before it accepts: warm them all up.
                with ThreadPoolExecutor(self.workers * 2) as pool:
                    list(pool.map(request, [f"{url}/courses"] * self.workers * 4))
                return url
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn not ready after {BOOT_TIMEOUT} s:\n{self.tail()}")

    def worker_pids(self) -> set[int]:
        pids = children(self.process.pid)
        self.seen_workers |= pids
        return pids

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """TERM, then KILL; the workers it started too, each by its pid."""
        self.worker_pids()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for pid in self.seen_workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        self._log_file.close()


def _has_setting(name: str) -> bool:
    from gunicorn import config

    return any(s.name == name for s in config.KNOWN_SETTINGS)


@pytest.fixture
def server_env(app, database_url) -> dict[str, str]:
    # The server gets our configuration only, whatever the shell running the tests exports:
    # none of the names the config reads plain or with the FLASK_ prefix.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FLASK_") and k not in PLAIN_ENV}
    env.update({
        "DATABASE_URL": database_url,
        # Also the setting itself: an instance/config.py that sets it would beat DATABASE_URL.
        "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": app.config["SECRET_KEY"],  # so that our signed cookies are valid
        "FLASK_FIXED_NOW": NOW.isoformat(),      # the term's enrollment window is open
        "FLASK_WTF_CSRF_ENABLED": "false",       # JSON false, through from_prefixed_env
    })
    return env


@pytest.fixture
def gunicorn(backend, seeded, server_env, tmp_path):
    db.session.commit()  # everything seeded is visible to the server's connections
    server = Gunicorn(WORKERS[backend], server_env, tmp_path / "gunicorn.log")
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------
def seed_students(app, n: int) -> list[tuple[int, str]]:
    """`n` students inserted directly; (student id, session cookie) for each, in order."""
    emails = [f"load{i:04d}@example.edu" for i in range(n)]
    tokens = [secrets.token_hex(16) for _ in range(n)]
    db.session.execute(insert(User), [
        {"email": email, "name": f"Load Student {i:04d}", "role": Role.STUDENT,
         "active": True, "session_token": token, "created_at": NOW}
        for i, (email, token) in enumerate(zip(emails, tokens, strict=True))])
    user_ids = dict(db.session.execute(select(User.email, User.id)
                                       .where(User.email.in_(emails))).all())
    db.session.execute(insert(Student), [
        {"user_id": user_ids[email], "student_number": f"L{i:07d}", "program": "History",
         "max_credits": 18} for i, email in enumerate(emails)])
    student_ids = dict(db.session.execute(select(Student.user_id, Student.id)).all())
    db.session.commit()
    return [(student_ids[user_ids[email]], session_cookie(app, f"{user_ids[email]}:{token}"))
            for email, token in zip(emails, tokens, strict=True)]


@pytest.fixture
def seeded(app):
    term, dept = make_term(code="LOAD27"), make_department(code="LOAD")
    first = make_course(term=term, department=dept, code="LD100", capacity=CAPACITY,
                        waitlist_capacity=STUDENTS)
    second = make_course(term=term, department=dept, code="LD200", capacity=CAPACITY,
                         waitlist_capacity=STUDENTS)
    db.session.commit()
    return {"courses": (first.id, second.id), "students": seed_students(app, STUDENTS)}


def burst(url: str, cookies: list[str], *, during=None) -> list:
    """POST to `url` once per cookie, all at once from a thread pool; `during(futures)` runs
    while they do. The statuses in the order of `cookies`."""
    pool = ThreadPoolExecutor(THREADS)
    try:
        futures = [pool.submit(request, url, cookie=c, method="POST") for c in cookies]
        if during is not None:
            during(futures)
        _, pending = wait(futures, timeout=BURST_TIMEOUT)
        assert not pending, f"{len(pending)} requests still running after {BURST_TIMEOUT} s"
        return [f.result() for f in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def links_and_events(course_id: int):
    db.session.rollback()  # a fresh snapshot: the server committed since
    links = {e.student_id: e for e in db.session.scalars(
        select(Enrollment).where(Enrollment.course_id == course_id))}
    events = list(db.session.scalars(select(EnrollmentEvent).where(
        EnrollmentEvent.course_id == course_id).order_by(EnrollmentEvent.id)))
    return links, events


def assert_trail_is_the_table(links: dict, events: list) -> None:
    """One event per link, no event without a link; its status_after is the link's status."""
    by_student: dict[int, list] = {}
    for event in events:
        by_student.setdefault(event.student_id, []).append(event)
    assert set(by_student) == set(links), (
        f"events without a link: {sorted(set(by_student) - set(links))[:10]}, "
        f"links without an event: {sorted(set(links) - set(by_student))[:10]}")
    for student_id, link in links.items():
        mine = by_student[student_id]
        assert len(mine) == 1, f"student {student_id}: {len(mine)} events for one link"
        assert (mine[0].status_before, mine[0].status_after) == (None, link.status), student_id


def assert_first_come_first_served(course_id: int, links: dict, events: list) -> None:
    """The first CAPACITY arrivals (by their audit events) hold the seats; the others wait in
    the order they arrived, at positions 1..N."""
    arrivals = [e.student_id for e in events]
    seated = min(CAPACITY, len(arrivals))
    assert {s for s, link in links.items() if link.status == Status.ENROLLED} == set(
        arrivals[:seated])
    waiting = arrivals[seated:]
    assert all(links[s].status == Status.WAITLISTED for s in waiting)
    by_seq = sorted(waiting, key=lambda s: links[s].waitlist_seq)
    assert by_seq == waiting, "the waitlist order is not the arrival order"
    positions = services.waitlist_positions([course_id])
    db.session.rollback()
    assert [positions[(s, course_id)] for s in waiting] == list(range(1, len(waiting) + 1))


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------
def test_300_enrolls_at_once_on_gunicorn(seeded, gunicorn):
    course_id = seeded["courses"][0]
    cookies = [cookie for _, cookie in seeded["students"]]
    started = time.monotonic()
    statuses = burst(f"{gunicorn.url}/courses/{course_id}/enroll", cookies)
    elapsed = time.monotonic() - started

    assert statuses == [303] * STUDENTS, (
        f"{sorted(set(map(str, statuses)))}\n{gunicorn.tail()}")
    links, events = links_and_events(course_id)
    counts = {status: sum(1 for link in links.values() if link.status == status)
              for status in (Status.ENROLLED, Status.WAITLISTED)}
    assert counts == {Status.ENROLLED: CAPACITY, Status.WAITLISTED: STUDENTS - CAPACITY}
    assert_trail_is_the_table(links, events)
    assert_first_come_first_served(course_id, links, events)
    assert elapsed < BURST_TIMEOUT


def test_a_worker_killed_mid_burst_leaves_no_partial_write(seeded, gunicorn):
    course_id = seeded["courses"][1]
    cookies = [cookie for _, cookie in seeded["students"]]
    killed = {}

    def kill_one_worker(futures):
        # Once the burst is well under way, SIGKILL a worker while requests are in flight.
        deadline = time.monotonic() + BURST_TIMEOUT
        while sum(f.done() for f in futures) < STUDENTS // 5 and time.monotonic() < deadline:
            time.sleep(0.005)
        victim = min(gunicorn.worker_pids())
        os.kill(victim, signal.SIGKILL)
        killed.update(pid=victim, done=sum(f.done() for f in futures))

    statuses = burst(f"{gunicorn.url}/courses/{course_id}/enroll", cookies,
                     during=kill_one_worker)

    assert killed and killed["done"] < STUDENTS, f"the worker was killed too late: {killed}"
    assert not _alive(killed["pid"])
    http = [s for s in statuses if isinstance(s, int)]
    assert all(s < 500 for s in http), f"{sorted(set(http))}\n{gunicorn.tail()}"
    assert set(http) <= {303}, sorted(set(http))
    # A sync worker serves one request at a time: only the one it was serving dies with it
    # (the others wait in the shared listen queue for the workers left and the new one).
    lost = len(statuses) - len(http)
    assert lost <= 1, f"{lost} requests failed: {sorted(set(map(str, statuses)))}"

    links, events = links_and_events(course_id)
    assert_trail_is_the_table(links, events)
    enrolled = sum(1 for link in links.values() if link.status == Status.ENROLLED)
    assert enrolled <= CAPACITY
    assert enrolled == min(CAPACITY, len(links))
    assert_first_come_first_served(course_id, links, events)
    # Every request that was answered wrote its link; one that died may have, or not.
    answered = {student_id for (student_id, _), status in zip(seeded["students"], statuses,
                                                              strict=True) if status == 303}
    assert answered <= set(links)
    # The master replaced the worker, and the site still works.
    deadline = time.monotonic() + 15
    while len(gunicorn.worker_pids()) < gunicorn.workers and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(gunicorn.worker_pids()) == gunicorn.workers
    assert request(f"{gunicorn.url}/courses") == 200


def test_the_checks_catch_what_they_look_for():
    """The checks above, shown to fail: a link without its event, an event too many, a seat
    past the capacity, a waitlist out of arrival order."""
    from types import SimpleNamespace as Row

    def link(status, seq=None):
        return Row(status=status, waitlist_seq=seq)

    def event(student, after):
        return Row(student_id=student, status_before=None, status_after=after)

    links = {1: link(Status.ENROLLED), 2: link(Status.WAITLISTED, 5)}
    events = [event(1, Status.ENROLLED), event(2, Status.WAITLISTED)]
    assert_trail_is_the_table(links, events)
    for bad_links, bad_events in [
        ({**links, 3: link(Status.ENROLLED)}, events),                  # no event
        (links, [*events, event(4, Status.ENROLLED)]),                  # no link
        (links, [*events, event(2, Status.WAITLISTED)]),                # two events
        (links, [events[0], event(2, Status.ENROLLED)]),                # wrong status
    ]:
        with pytest.raises(AssertionError):
            assert_trail_is_the_table(bad_links, bad_events)
    seated = {i: link(Status.ENROLLED) for i in range(CAPACITY + 1)}   # one too many
    with pytest.raises(AssertionError):
        assert_first_come_first_served(0, seated, [event(i, Status.ENROLLED) for i in seated])
    queue = {**{i: link(Status.ENROLLED) for i in range(CAPACITY)},
             100: link(Status.WAITLISTED, 2), 101: link(Status.WAITLISTED, 1)}
    arrivals = [event(i, queue[i].status) for i in queue]              # 100 came first
    with pytest.raises(AssertionError, match="arrival order"):
        assert_first_come_first_served(0, queue, arrivals)

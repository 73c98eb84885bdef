"""axe-core on every page a person reaches: the student site in each state of a course, the
admin's main pages, the reports and, where the instructor pages exist, /teach/.

axe-core comes from the `axe-playwright-python` package (its bundled `axe.min.js`, from PyPI
with the test extras). It is evaluated through the DevTools protocol, which the page's
Content-Security-Policy does not govern, so the app's policy stays as strict as it is, and the
fixtures still fail a test on any violation the pages themselves cause.

A page passes with no critical and no serious violation; a failure prints each violation's
rule, impact and node targets, page by page.
"""
from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from importlib import resources

import pytest

from enrollment.extensions import db
from enrollment.models import Role
from tests.factories import PASSWORD, at, make_user
from tests.web_helpers import complete, enroll

pytestmark = pytest.mark.config(WTF_CSRF_ENABLED=True)  # the forms as people get them

BLOCKING = ("critical", "serious")
REPORTS = os.environ.get("AXE_REPORTS")  # a folder to write each test's full findings to, when set
# The whole rule set (WCAG 2.0-2.2 A and AA, best practices), results for violations only.
AXE_OPTIONS = {"resultTypes": ["violations"]}


def axe_source() -> str:
    return resources.files("axe_playwright_python").joinpath("axe.min.js").read_text("utf-8")


class Audit:
    """Runs axe on pages and keeps what it found, page by page."""

    def __init__(self):
        self.source = axe_source()
        self.found: dict[str, list[dict]] = {}  # critical and serious, by page
        self.lesser: dict[str, list[dict]] = {}  # moderate and minor: reported, not failed
        self.pages = 0

    def check(self, page, url: str, *, status: int = 200, label: str | None = None) -> None:
        response = page.goto(url)
        assert response is not None and response.status == status, (url, response.status)
        self.run(page, label or url.split("//", 1)[-1].split("/", 1)[-1])

    def run(self, page, label: str) -> None:
        page.wait_for_load_state("load")
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(self.source)
        results = page.evaluate("options => window.axe.run(document, options)", AXE_OPTIONS)
        self.pages += 1
        blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
        if blocking:
            self.found["/" + label] = blocking
        lesser = [v for v in results["violations"] if v["impact"] not in BLOCKING]
        if lesser:
            self.lesser["/" + label] = lesser

    def report(self) -> str:
        lines = []
        for label, violations in self.found.items():
            lines.append(f"{label}:")
            for v in violations:
                targets = ", ".join(" ".join(n["target"]) if isinstance(n["target"], list)
                                    else str(n["target"]) for n in v["nodes"])
                lines.append(f"  {v['id']} ({v['impact']}, {len(v['nodes'])} nodes): "
                             f"{v['help']} — {targets}")
        return "\n".join(lines)

    def nodes(self) -> int:
        return sum(len(v["nodes"]) for vs in self.found.values() for v in vs)

    def assert_clean(self, name: str) -> None:
        if REPORTS:
            os.makedirs(REPORTS, exist_ok=True)
            with open(os.path.join(REPORTS, f"{name}.json"), "w", encoding="utf-8") as out:
                json.dump({"pages": self.pages, "blocking": self.found,
                           "lesser": self.lesser}, out, indent=1)
        assert self.pages, "no page was checked"
        assert not self.found, (f"{len(self.found)} of {self.pages} pages have critical or "
                                f"serious violations ({self.nodes()} nodes):\n{self.report()}")


def _log_in(page, base, email):
    page.goto(f"{base}/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def _school(make_term, make_department, make_course, make_student, make_staff):
    """A term open for enrollment and a past one; Ada in each state a course page shows."""
    term = make_term(code="2027SP", name="Spring 2027")
    past = make_term(code="2026FA", name="Fall 2026",
                     enrollment_opens=datetime(2026, 8, 1, tzinfo=UTC),
                     enrollment_closes=datetime(2026, 8, 31, tzinfo=UTC),
                     drop_deadline=datetime(2026, 9, 15, tzinfo=UTC),
                     classes_start=date(2026, 9, 1), classes_end=date(2026, 12, 15))
    cs = make_department(code="CS", name="Computer Science")
    math = make_department(code="MATH", name="Mathematics")
    basics = make_course(term=past, department=cs, code="CS100", title="Computing Basics")
    courses = {
        "enrolled": make_course(term=term, department=cs, code="CS101", title="Programming I",
                                days="MWF", start_time=at("09:00"), end_time=at("09:50"),
                                location="Hall 1", description="Variables, loops, functions."),
        "waitlisted": make_course(term=term, department=cs, code="CS150",
                                  title="Discrete Math", capacity=1, days="TR",
                                  start_time=at("13:00"), end_time=at("14:15")),
        "open": make_course(term=term, department=math, code="MATH150", title="Calculus I"),
        "full": make_course(term=term, department=math, code="MATH210",
                            title="Linear Algebra", capacity=1),
        "blocked": make_course(term=term, department=cs, code="CS300", title="Compilers"),
        "completed": basics,
        "closed": make_course(term=past, department=cs, code="CS120", title="Old Seminar"),
    }
    courses["blocked"].prerequisites.append(courses["open"])
    courses["enrolled"].prerequisites.append(basics)
    ada = make_student(name="Ada Lovelace", email="ada@example.edu")
    bob = make_student(name="Bob Brown", email="bob@example.edu")
    enroll(bob, courses["waitlisted"])
    enroll(bob, courses["full"])
    complete(ada, basics, "A")
    enroll(ada, courses["enrolled"])
    enroll(ada, courses["waitlisted"])
    staff = make_staff(email="registrar@example.edu", name="Rita Registrar")
    db.session.commit()
    return {"courses": courses, "ada": ada, "bob": bob, "staff": staff}


@pytest.fixture
def school(make_term, make_department, make_course, make_student, make_staff):
    return _school(make_term, make_department, make_course, make_student, make_staff)


def test_student_pages_have_no_serious_violations(new_page, live_server, school):
    audit, courses = Audit(), school["courses"]
    page = new_page(1280, 900)
    for path in ("/courses", f"/courses/{courses['open'].id}", "/auth/login",
                 "/auth/register"):
        audit.check(page, f"{live_server}{path}", label=f"anonymous{path}")
    audit.check(page, f"{live_server}/no/such/page", status=404)
    # A refused login: the fields with their error messages.
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email").fill("ada@example.edu")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    audit.run(page, "auth/login (refused)")

    _log_in(page, live_server, "ada@example.edu")
    audit.run(page, "courses (after login, with a message)")
    audit.check(page, f"{live_server}/courses?q=cs")
    for state, course in courses.items():
        audit.check(page, f"{live_server}/courses/{course.id}", label=f"courses/{state}")
    for state in ("enrolled", "waitlisted"):
        audit.check(page, f"{live_server}/courses/{courses[state].id}/drop",
                    label=f"courses/{state}/drop")
    audit.check(page, f"{live_server}/me/schedule")
    audit.check(page, f"{live_server}/me/notifications")
    audit.check(page, f"{live_server}/admin/", status=403, label="admin (403 for a student)")
    phone = new_page(390, 844)
    _log_in(phone, live_server, "ada@example.edu")
    audit.check(phone, f"{live_server}/me/schedule", label="me/schedule (phone)")
    phone.get_by_role("button", name="Toggle navigation").click()
    audit.run(phone, "me/schedule (phone, menu open)")
    audit.assert_clean("student")


def test_admin_pages_have_no_serious_violations(new_page, live_server, school, app):
    audit, courses, ada = Audit(), school["courses"], school["ada"]
    page = new_page(1280, 900)
    _log_in(page, live_server, "registrar@example.edu")
    enrolled = courses["enrolled"]
    for path in ("/admin/", "/admin/course/", f"/admin/course/edit/?id={enrolled.id}",
                 "/admin/course/new/", "/admin/student/", f"/admin/student/edit/?id={ada.id}",
                 "/admin/enrollment/", "/admin/hold/", "/admin/reservation/", "/admin/term/",
                 "/admin/department/", "/admin/audit/", "/admin/import/", "/admin/user/",
                 f"/courses/{enrolled.id}"):
        audit.check(page, f"{live_server}{path}")
    if "course.roster_view" in app.view_functions:  # the admin's roster editor, where it exists
        audit.check(page, f"{live_server}/admin/course/roster/?id={enrolled.id}")
    # The student list's bulk "Enroll" form (how staff add one student to a course from the
    # student's side), reached through "With selected".
    page.goto(f"{live_server}/admin/student/")
    page.locator("tr", has_text="Ada Lovelace").locator("input.action-checkbox").check()
    page.get_by_role("button", name="With selected").click()
    with page.expect_navigation():
        page.locator("[data-model-action=enroll]").click()
    audit.run(page, "admin/student/bulk enroll")
    # An import's preview, with a bad row (the errors table) and a good one.
    page.goto(f"{live_server}/admin/import/")
    page.locator("select[name=kind]").select_option("students")
    page.locator("input[name=file]").set_input_files(files=[{
        "name": "students.csv", "mimeType": "text/csv",
        "buffer": b"student_number,name,email,program,max_credits,password\n"
                  b"S5000001,Alan Turing,alan@example.edu,Computing,15,\n"
                  b"S5000002,Bad Email,not-an-email,Maths,18,\n"}])
    with page.expect_navigation():
        page.get_by_role("button", name="Preview (writes nothing)").click()
    audit.run(page, "admin/import/preview")
    phone = new_page(390, 844)
    _log_in(phone, live_server, "registrar@example.edu")
    audit.check(phone, f"{live_server}/admin/course/", label="admin/course/ (phone)")
    audit.assert_clean("admin")


def test_report_pages_have_no_serious_violations(new_page, live_server, school, app):
    audit, courses = Audit(), school["courses"]
    page = new_page(1280, 900)
    _log_in(page, live_server, "registrar@example.edu")
    enrolled = courses["enrolled"]
    for path in ("/reports/", "/reports/enrollment", "/reports/enrollment?term=2027SP",
                 f"/reports/courses/{enrolled.id}/roster",
                 f"/reports/students/{school['ada'].id}"):
        audit.check(page, f"{live_server}{path}")
    if "teach" in app.blueprints:  # the instructor pages, once they exist
        audit.check(page, f"{live_server}/teach/")
        audit.check(page, f"{live_server}/teach/courses/{enrolled.id}")
        if hasattr(Role, "INSTRUCTOR"):  # and as the course's own instructor sees them
            teacher = make_user(role=Role.INSTRUCTOR, name="Donald Knuth",
                                email="knuth@example.edu")
            enrolled.instructor_id = teacher.id
            db.session.commit()
            mine = new_page(1280, 900)
            _log_in(mine, live_server, "knuth@example.edu")
            for path in ("/teach/", f"/teach/courses/{enrolled.id}",
                         f"/reports/courses/{enrolled.id}/roster", f"/courses/{enrolled.id}"):
                audit.check(mine, f"{live_server}{path}", label=f"instructor{path}")
    audit.assert_clean("reports")

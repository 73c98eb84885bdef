"""The header every page shares (student site, admin, reports), the site's icon, and a staff
member's way from a course page to its roster."""
from __future__ import annotations

import re

import pytest

from enrollment.extensions import db
from enrollment.models import Role
from enrollment.navigation import admin_roster_url
from tests.factories import make_user

HEADER = re.compile(r'<nav class="navbar[^"]*site-header[^"]*" aria-label="Main">(.*?)</nav>',
                    re.DOTALL)
LINK = re.compile(r'<a class="nav-link" href="([^"]+)"( aria-current="page")?>([^<]+)</a>')
ICONS = ('<link rel="icon" href="/favicon.ico"',
         '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">')


def header(html: str) -> str:
    found = HEADER.findall(html)
    assert len(found) == 1, "one shared header per page"
    return found[0]


def nav_links(html: str) -> list[str]:
    """The header's links, as "Label" or "Label*" for the current page's section."""
    return [label + ("*" if current else "") for _url, current, label in LINK.findall(header(html))]


@pytest.fixture
def course(make_course):
    course = make_course(code="CS101", title="Programming I")
    db.session.commit()
    return course


def test_anonymous_gets_the_catalog_and_the_way_in(client, course):
    html = client.get("/courses").text
    assert nav_links(html) == ["Courses*", "Log in"]
    assert 'href="/auth/register"' in header(html)
    assert "Log out" not in html
    assert nav_links(client.get("/auth/login").text) == ["Courses", "Log in*"]


def test_student_gets_the_schedule_and_nothing_of_staff(client, login, make_student, course):
    student = make_student(name="Ada Lovelace")
    db.session.commit()
    login(student.user)
    html = client.get("/me/schedule").text
    assert nav_links(html) == ["Courses", "My schedule*", "My messages"]
    top = header(html)
    assert 'Signed in as <strong class="current-user">Ada Lovelace</strong>' in top
    assert "role-badge" not in top  # students are the default: no word for them
    # Log out is a POST with the CSRF token.
    assert re.search(r'<form method="post" action="/auth/logout" class="logout-form">\s*'
                     r'<input type="hidden" name="csrf_token" value="[^"]+">', top)
    assert nav_links(client.get(f"/courses/{course.id}").text) == ["Courses*", "My schedule",
                                                                    "My messages"]
    assert nav_links(client.get("/me/notifications").text) == ["Courses", "My schedule",
                                                               "My messages*"]


def test_staff_see_the_same_header_on_the_site_the_admin_and_the_reports(app, client, login,
                                                                       make_staff, course):
    login(make_staff(name="Rita Registrar"))
    teaching = ["Teaching"] if "teach" in app.blueprints else []
    expected = {"/courses": ["Courses*", *teaching, "Admin", "Reports"],
                "/admin/": ["Courses", *teaching, "Admin*", "Reports"],
                "/admin/course/": ["Courses", *teaching, "Admin*", "Reports"],
                "/reports/": ["Courses", *teaching, "Admin", "Reports*"],
                f"/reports/courses/{course.id}/roster": ["Courses", *teaching, "Admin",
                                                         "Reports*"]}
    for path, links in expected.items():
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.text
        assert nav_links(html) == links, path
        top = header(html)
        assert '<strong class="current-user">Rita Registrar</strong>' in top, path
        assert '<span class="badge role-badge">staff</span>' in top, path
        assert 'action="/auth/logout"' in top, path
        assert html.count('action="/auth/logout"') == 1, path  # one sign-out, in the header
        for icon in ICONS:
            assert icon in html, (path, icon)
    # The admin's own menu is a second bar under the header.
    admin = client.get("/admin/course/").text
    assert '<html lang="en">' in admin
    assert 'aria-label="Admin"' in admin and 'id="main"' in admin


def test_instructors_get_teaching_only(app, client, login, course):
    if not hasattr(Role, "INSTRUCTOR"):  # before the instructor role: nobody has the link
        assert all("Teaching" not in link for link in nav_links(client.get("/courses").text))
        return
    login(make_user(role=Role.INSTRUCTOR, name="Donald Knuth"))
    db.session.commit()
    html = client.get("/courses").text
    assert nav_links(html) == ["Courses*", "Teaching"]
    assert '<span class="badge role-badge">instructor</span>' in header(html)


def test_favicon_is_served_and_linked_from_every_page(app, client, course):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/vnd.microsoft.icon"
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
        assert "no-store" not in response.headers.get("Cache-Control", "")
    with client.get("/static/favicon.svg") as svg:
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        assert b"<svg" in svg.data
    for path in ("/courses", f"/courses/{course.id}", "/auth/login", "/auth/register",
                 "/no/such/page"):
        html = client.get(path).text
        for icon in ICONS:
            assert icon in html, (path, icon)
    # The page shown while the database is down renders without the app's context processors.
    with app.test_request_context("/courses"):
        page = app.jinja_env.get_template("errors/unavailable.html").render(message="Down.",
                                                                            retry_after=5)
    for icon in ICONS:
        assert icon in page


def test_header_folds_behind_a_labelled_toggler(client, course):
    top = header(client.get("/courses").text)
    assert 'class="navbar-toggler"' in top and 'aria-controls="site-nav"' in top
    assert 'aria-label="Toggle navigation"' in top and 'id="site-nav"' in top


def test_staff_get_the_course_roster_from_the_course_page(app, client, login, make_staff,
                                                         course):
    login(make_staff())
    html = client.get(f"/courses/{course.id}").text
    with app.test_request_context():
        admin_roster = admin_roster_url(course.id)
    assert admin_roster.startswith("/admin/course/")
    assert f'href="{admin_roster}">Edit the roster in the admin</a>' in html.replace("&amp;", "&")
    assert f'href="/reports/courses/{course.id}/roster">Printable roster</a>' in html
    assert client.get(admin_roster).status_code == 200
    assert client.get(f"/reports/courses/{course.id}/roster").status_code == 200


def test_students_and_visitors_get_no_roster_links(client, login, make_student, course):
    for who in ("anonymous", "student"):
        if who == "student":
            login(make_student().user)
            db.session.commit()
        html = client.get(f"/courses/{course.id}").text
        assert "/roster" not in html, who
        assert "/admin/course/" not in html, who


def test_admin_list_checkboxes_have_names(client, login, make_staff, course):
    login(make_staff())
    html = client.get("/admin/course/").text
    assert 'aria-label="Select all records"' in html
    assert f'value="{course.id}" title="Select record" aria-label="Select CS101 Programming I"' \
        in html

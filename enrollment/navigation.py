"""The header every page shares — the student site, the admin, the reports and the teaching
pages (templates/_header.html) —, the links from one part to another (a course page to its
roster in the admin), and the site's icon at /favicon.ico.

Which links a viewer gets is decided here, once, rather than in each layout: the catalog for
everyone, "My schedule" and "My messages" for students, "Teaching" for instructors and staff,
"Admin" and "Reports" for staff.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from flask import Flask, Response, current_app, request, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    section: str  # the path prefix of the pages this link stands for

    @property
    def current(self) -> bool:
        """True on the pages of this link's section (the header marks it)."""
        return request.path == self.section or request.path.startswith(self.section + "/")


def header_links() -> list[NavLink]:
    """The header's links for the logged-in user (or an anonymous visitor), in order."""
    links = [NavLink("Courses", url_for("catalog.index"), "/courses")]
    user = current_user
    if not user.is_authenticated:
        return links
    if user.student is not None and not _is_instructor(user):
        links.append(NavLink("My schedule", url_for("schedule.schedule"), "/me/schedule"))
        links.append(NavLink("My messages", url_for("schedule.notifications"),
                             "/me/notifications"))
    # The teaching pages exist only where their blueprint is registered.
    if (user.is_staff or _is_instructor(user)) and "teach" in current_app.blueprints:
        links.append(NavLink("Teaching", url_for("teach.index"), "/teach"))
    if user.is_staff:
        links.append(NavLink("Admin", url_for("admin.index"), "/admin"))
        links.append(NavLink("Reports", url_for("reports.enrollment"), "/reports"))
    return links


def role_label(user) -> str:
    """The word shown beside the name of a user who is not a student ("staff", …)."""
    role = str(getattr(user, "role", "") or "")
    return "" if role == "student" else role


def _is_instructor(user) -> bool:
    return str(user.role) == "instructor"


def admin_roster_url(course_id: int) -> str:
    """Where staff edit a course's roster in the admin: its roster editor where the admin has
    one, else the course's edit page."""
    endpoint = "course.roster_view"
    if endpoint not in current_app.view_functions:
        endpoint = "course.edit_view"
    return url_for(endpoint, id=course_id)


@cache
def _favicon_bytes(static_folder: str) -> bytes:
    with open(os.path.join(static_folder, "favicon.ico"), "rb") as icon:
        return icon.read()


def favicon():
    """The icon from memory: browsers fetch it on every first visit and often hang up before
    the end, which would leave a file open per request."""
    response = Response(_favicon_bytes(current_app.static_folder),
                        mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


def init_app(app: Flask) -> None:
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.context_processor(lambda: {"header_links": header_links, "role_label": role_label,
                                   "admin_roster_url": admin_roster_url})

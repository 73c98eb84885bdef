"""The staff admin panel (Flask-Admin), at /admin/, staff only.

Each model view lives in the module named after what it shows (courses.py, students.py, …);
`init_app` registers them, and the menu follows the order below.
"""
from flask import Flask
from flask_admin import Admin

from .security import StaffIndexView


def init_app(app: Flask) -> None:
    from flask_admin.theme import Bootstrap4Theme

    from . import guard

    admin = Admin(
        app,
        name="Enrollment admin",
        index_view=StaffIndexView(url="/admin", template="admin/dashboard.html"),
        theme=Bootstrap4Theme(swatch="default", fluid=True,
                              base_template="admin/site_base.html"),
    )
    guard.init_app(app)
    register_views(admin)


def register_views(admin: Admin) -> None:
    """Add every admin view; the URLs are /admin/<endpoint>/."""
    from ..models import (
        ApiToken,
        Course,
        Crosslist,
        Department,
        Enrollment,
        EnrollmentEvent,
        Hold,
        Notification,
        OneRosterClient,
        Reservation,
        Student,
        Term,
        User,
        WebhookDelivery,
        WebhookEndpoint,
    )
    from .api_tokens import ApiTokenView
    from .audit import AuditView
    from .catalog_views import DepartmentView, TermView
    from .courses import CourseView
    from .crosslists import CrosslistView
    from .enrollments import EnrollmentView
    from .holds import HoldView
    from .imports import ImportView
    from .oneroster_clients import OneRosterClientView
    from .outbox import OutboxView
    from .reservations import ReservationView
    from .students import StudentView
    from .users import UserView
    from .webhooks import WebhookDeliveryView, WebhookEndpointView

    admin.add_view(CourseView(Course, name="Courses", endpoint="course"))
    admin.add_view(StudentView(Student, name="Students", endpoint="student"))
    admin.add_view(EnrollmentView(Enrollment, name="Enrollments", endpoint="enrollment"))
    admin.add_view(HoldView(Hold, name="Holds", endpoint="hold"))
    admin.add_view(ReservationView(Reservation, name="Reserved seats", endpoint="reservation"))
    admin.add_view(CrosslistView(Crosslist, name="Cross-listed groups", endpoint="crosslist"))
    admin.add_view(TermView(Term, name="Terms", endpoint="term", category="Catalog"))
    admin.add_view(DepartmentView(Department, name="Departments", endpoint="department",
                                  category="Catalog"))
    admin.add_view(AuditView(EnrollmentEvent, name="Audit log", endpoint="audit",
                             category="Tools"))
    admin.add_view(ImportView(name="Import CSV", endpoint="imports", url="/admin/import",
                              category="Tools"))
    admin.add_view(UserView(User, name="Users", endpoint="user", category="Tools"))
    admin.add_view(OutboxView(Notification, name="Mail outbox", endpoint="outbox",
                              category="Tools"))
    admin.add_view(ApiTokenView(ApiToken, name="API tokens", endpoint="api_token",
                                category="Tools"))
    admin.add_view(OneRosterClientView(OneRosterClient, name="OneRoster clients",
                                       endpoint="oneroster_client", category="Tools"))
    admin.add_view(WebhookEndpointView(WebhookEndpoint, name="Endpoints", endpoint="webhook",
                                       category="Webhooks"))
    admin.add_view(WebhookDeliveryView(WebhookDelivery, name="Delivery log",
                                       endpoint="webhook_delivery", category="Webhooks"))
    # Reports, Teaching and the catalog are in the header every page shares
    # (templates/_header.html), not in this menu.

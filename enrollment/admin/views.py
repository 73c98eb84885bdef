"""Registers the model views on the admin (the menu follows this order)."""
from flask_admin import Admin
from flask_admin.menu import MenuLink

from ..models import Course, Department, Enrollment, EnrollmentEvent, Student, Term, User
from .audit import AuditView
from .catalog_views import DepartmentView, TermView
from .courses import CourseView
from .enrollments import EnrollmentView
from .imports import ImportView
from .students import StudentView
from .users import UserView


def register_views(admin: Admin) -> None:
    """Add every admin view; the URLs are /admin/<endpoint>/."""
    admin.add_view(CourseView(Course, name="Courses", endpoint="course"))
    admin.add_view(StudentView(Student, name="Students", endpoint="student"))
    admin.add_view(EnrollmentView(Enrollment, name="Enrollments", endpoint="enrollment"))
    admin.add_view(TermView(Term, name="Terms", endpoint="term", category="Catalog"))
    admin.add_view(DepartmentView(Department, name="Departments", endpoint="department",
                                  category="Catalog"))
    admin.add_view(AuditView(EnrollmentEvent, name="Audit log", endpoint="audit",
                             category="Tools"))
    admin.add_view(ImportView(name="Import CSV", endpoint="imports", url="/admin/import",
                              category="Tools"))
    admin.add_view(UserView(User, name="Users", endpoint="user", category="Tools"))
    admin.add_link(MenuLink(name="Reports", endpoint="reports.index", category=""))

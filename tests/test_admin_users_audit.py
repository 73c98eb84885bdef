"""Users (roles, active flag, passwords), the audit log, exports.

No page or export shows a password hash: see tests/test_security_review.py.
"""
from __future__ import annotations

import io

import openpyxl

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import EnrollmentEvent, User
from tests.admin_support import staff_client_fixture, staff_fixture  # noqa: F401
from tests.factories import NOW, PASSWORD
from tests.web_helpers import flashes


def _user_form(user, **changes):
    data = {"email": user.email, "name": user.name, "role": str(user.role.value),
            "active": "y" if user.active else "", "new_password": ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v != "" or k == "new_password"}


def test_set_a_new_password_with_the_policy(staff_client, make_student):
    user = make_student().user
    db.session.commit()
    weak = staff_client.post(f"/admin/user/edit/?id={user.id}",
                             data=_user_form(user, new_password="short"))
    assert weak.status_code == 200 and "at least 10 characters" in weak.get_data(as_text=True)
    assert user.check_password(PASSWORD)
    ok = staff_client.post(f"/admin/user/edit/?id={user.id}",
                           data=_user_form(user, new_password="new-secret-99"))
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("new-secret-99")


def test_role_and_active_flag(staff_client, make_student):
    user = make_student().user
    db.session.commit()
    response = staff_client.post(f"/admin/user/edit/?id={user.id}",
                                 data=_user_form(user, role="staff", active=""))
    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(User, user.id)
    assert changed.is_staff and not changed.active


def test_staff_cannot_lock_themselves_out(staff_client, staff):
    page = staff_client.post(f"/admin/user/edit/?id={staff.id}",
                             data=_user_form(staff, active=""), follow_redirects=True)
    assert any("cannot remove your own staff role" in m for m in flashes(page))
    db.session.expire_all()
    assert db.session.get(User, staff.id).active
    page = staff_client.post("/admin/user/delete/", data={"id": staff.id}, follow_redirects=True)
    assert any("cannot delete your own account" in m for m in flashes(page))


def test_duplicate_email_in_another_case_is_refused(staff_client, make_student):
    make_student(email="dup@example.edu")
    user = make_student().user
    db.session.commit()
    page = staff_client.post(f"/admin/user/edit/?id={user.id}",
                             data=_user_form(user, email="DUP@example.edu"))
    assert "already uses this email" in page.get_data(as_text=True)


def _some_events(staff, make_course, make_student):
    course = make_course(code="AUD101")
    student = make_student(name="Audit Person")
    db.session.commit()
    with write_transaction(db.session):
        services.enroll(student, course, actor=staff, now=NOW, source="staff")
    with write_transaction(db.session):
        services.drop(student, course, actor=staff, now=NOW, by_staff=True, reason="test")
    return course, student


def test_audit_log_is_read_only_and_filterable(staff_client, staff, make_course,
                                               make_student):
    course, student = _some_events(staff, make_course, make_student)
    page = staff_client.get("/admin/audit/").get_data(as_text=True)
    assert "Audit Person" in page and "AUD101" in page and "removed_by_staff" in page
    for url in ["/admin/audit/new/", "/admin/audit/edit/?id=1"]:
        assert staff_client.get(url).status_code == 302
    event_id = db.session.scalar(db.select(EnrollmentEvent.id))
    staff_client.post("/admin/audit/delete/", data={"id": event_id})
    assert db.session.get(EnrollmentEvent, event_id) is not None
    filtered = staff_client.get("/admin/audit/?flt1_action_equals=removed_by_staff"
                                ).get_data(as_text=True)
    assert "removed_by_staff" in filtered
    assert staff_client.get("/admin/audit/?flt1_when_between=2027-01-01+00:00:00+to+"
                            "2027-02-01+00:00:00").status_code == 200


def test_audit_query_count_does_not_grow(staff_client, staff, make_course,
                                         make_student, count_queries):
    _some_events(staff, make_course, make_student)
    with count_queries() as few:
        staff_client.get("/admin/audit/")
    for _ in range(5):
        _some_events(staff, make_course, make_student)
    with count_queries() as many:
        staff_client.get("/admin/audit/")
    assert many.count == few.count


def test_exports_neutralise_formulas(staff_client, make_student):
    make_student(name="=HYPERLINK(\"http://x\")", student_number="@S1", program="-1+2")
    db.session.commit()
    csv_text = staff_client.get("/admin/student/export/csv/").get_data(as_text=True)
    assert "'=HYPERLINK" in csv_text and "'@S1" in csv_text and "'-1+2" in csv_text
    xlsx = staff_client.get("/admin/student/export/xlsx/")
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "'=HYPERLINK(\"http://x\")" in values and "'@S1" in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)

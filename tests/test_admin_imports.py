"""The admin's CSV import page: preview writes nothing; confirm applies the signed upload."""
from __future__ import annotations

import io
import re

import pytest

from enrollment.extensions import db
from enrollment.models import Student
from tests.admin_support import links, staff_client_fixture, staff_fixture  # noqa: F401
from tests.web_helpers import flashes

GOOD = ("student_number,name,email,program,max_credits,password\n"
        "S5000001,Ada Lovelace,ada@example.edu,Mathematics,18,\n"
        "S5000002,Alan Turing,alan@example.edu,Computing,15,\n")
BAD = ("student_number,name,email,program,max_credits,password\n"
       "S5000003,Bad Email,not-an-email,Maths,18,\n"
       "S5000004,Bad Credits,b@example.edu,Maths,lots,\n")


def _upload(client, text, kind="students", **extra):
    data = {"kind": kind, "file": (io.BytesIO(text.encode() if isinstance(text, str) else text),
                                   "upload.csv"), **extra}
    return client.post("/admin/import/preview", data=data, content_type="multipart/form-data")


def _students():
    return db.session.scalar(db.select(db.func.count()).select_from(Student))


def _payload(html):
    return re.search(r'name="payload" type="hidden" value="([^"]+)"', html).group(1)


def test_upload_page(staff_client):
    html = staff_client.get("/admin/import/").get_data(as_text=True)
    assert 'type="file"' in html and "enrollments" in html and 'name="csrf_token"' in html


def test_preview_writes_nothing_and_confirm_imports(staff_client):
    preview = _upload(staff_client, GOOD)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Every row is valid" in html and "S5000001" in html and "Confirm and import" in html
    assert _students() == 0
    done = staff_client.post("/admin/import/apply", data={"payload": _payload(html)},
                             follow_redirects=True)
    assert any("2 created" in m for m in flashes(done))
    assert _students() == 2
    again = _upload(staff_client, GOOD).get_data(as_text=True)
    assert re.search(r"leave alone <strong>2</strong>", again)


@pytest.mark.parametrize("kind, text, valid", [
    ("students", GOOD + BAD.split("\n", 1)[1], ["S5000001", "S5000002"]),
    ("terms", "code,name,enrollment_opens,enrollment_closes,drop_deadline,classes_start,"
              "classes_end\n2027FA,Fall,2027-08-01,2027-08-31,2027-09-15,2027-09-01,2027-12-15\n"
              "2028SP,Spring,nonsense,2028-01-31,2028-02-15,2028-02-01,2028-05-15\n",
     ["2027FA"]),
])
def test_preview_of_a_half_valid_file_lists_the_valid_rows_too(staff_client, kind, text,
                                                               valid):
    html = _upload(staff_client, text, kind=kind).get_data(as_text=True)
    rows = html.split('id="import-rows"', 1)[1]
    assert all(key in rows for key in valid)
    assert f"The {len(valid)} valid row{'s' if len(valid) > 1 else ''} would create " \
           f"<strong>{len(valid)}</strong>" in " ".join(html.split())
    assert "No valid rows" not in html and "Confirm and import" not in html
    assert _students() == 0


def test_bad_file_lists_errors_by_line_and_column_and_cannot_be_confirmed(staff_client):
    preview = _upload(staff_client, BAD)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 422
    assert "line 2" in html and "email" in html and "line 3" in html and "max_credits" in html
    assert "Confirm and import" not in html
    assert _students() == 0


def test_a_tampered_or_missing_payload_is_refused(staff_client):
    html = _upload(staff_client, GOOD).get_data(as_text=True)
    payload = _payload(html)
    page = staff_client.post("/admin/import/apply", data={"payload": payload[:-3] + "AAA"},
                             follow_redirects=True).get_data(as_text=True)
    assert any("expired or was altered" in m for m in flashes(page))
    page = staff_client.post("/admin/import/apply", data={}, follow_redirects=True)
    assert any("incomplete" in m for m in flashes(page))
    assert _students() == 0


def test_not_utf8_and_missing_file_are_form_errors(staff_client):
    response = _upload(staff_client, b"student_number,name\n\xff\xfe\n")
    assert response.status_code == 400 and "UTF-8" in response.get_data(as_text=True)
    response = staff_client.post("/admin/import/preview", data={"kind": "students"})
    assert response.status_code == 400 and "Choose a CSV file" in response.get_data(as_text=True)
    response = _upload(staff_client, GOOD, kind="grades")
    assert response.status_code == 400


def test_enrollments_go_through_the_rules_with_an_optional_override(staff_client, make_course,
                                                                    make_student):
    course = make_course(code="IMP1", capacity=0, waitlist_capacity=0)
    student = make_student(student_number="S6000001")
    db.session.commit()
    text = f"term,code,student_number,status,grade\n{course.term.code},IMP1,S6000001,,\n"
    html = _upload(staff_client, text, kind="enrollments").get_data(as_text=True)
    page = staff_client.post("/admin/import/apply", data={"payload": _payload(html)},
                             follow_redirects=True).get_data(as_text=True)
    assert any("Nothing was imported" in m for m in flashes(page)) and links() == {}

    refused = _upload(staff_client, text, kind="enrollments", overrides="capacity")
    assert refused.status_code == 400 and "A reason is required" in refused.get_data(as_text=True)
    html = _upload(staff_client, text, kind="enrollments", overrides="capacity",
                   reason="Extra seat approved").get_data(as_text=True)
    staff_client.post("/admin/import/apply", data={"payload": _payload(html)})
    assert links() == {(student.id, course.id): "enrolled"}


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_import_posts_need_the_csrf_token(staff_client):
    assert _upload(staff_client, GOOD).status_code == 400
    assert _students() == 0
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      staff_client.get("/admin/import/").get_data(as_text=True)).group(1)
    preview = _upload(staff_client, GOOD, csrf_token=token)
    assert preview.status_code == 200
    # The signed payload alone is not enough: the confirm form carries the token too.
    payload = _payload(preview.get_data(as_text=True))
    assert staff_client.post("/admin/import/apply", data={"payload": payload}).status_code == 400
    assert _students() == 0
    done = staff_client.post("/admin/import/apply", data={"payload": payload, "csrf_token": token})
    assert done.status_code == 303
    assert _students() == 2

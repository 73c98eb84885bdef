"""The admin's XLSX exports name their sheet after the view ("Courses"), not "Tablib Dataset"."""
from __future__ import annotations

import io

import openpyxl
import pytest
import tablib

from enrollment.admin import export_sheets
from enrollment.admin.base import StaffModelView
from tests.report_data import enroll


@pytest.fixture
def staff_client(client, login, make_staff):
    login(make_staff())
    return client


def exportable_views(app) -> list[StaffModelView]:
    [admin] = app.extensions["admin"]
    return [view for view in admin._views if isinstance(view, StaffModelView)
            and view.can_export and "xlsx" in view.export_types]


def sheet_of(response):
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert len(book.worksheets) == 1
    return book.worksheets[0]


def test_the_main_exports_are_named_after_their_view(staff_client, make_course, make_student):
    course = make_course(code="CS101")
    enroll(make_student(name="Ann Lee"), course)
    for endpoint, name in [("course", "Courses"), ("student", "Students"),
                           ("enrollment", "Enrollments")]:
        sheet = sheet_of(staff_client.get(f"/admin/{endpoint}/export/xlsx/"))
        assert sheet.title == name, endpoint
        values = [c for row in sheet.iter_rows(values_only=True) for c in row]
        assert "CS101" in values or "Ann Lee" in values, endpoint  # the rows are still there


def test_every_admin_xlsx_export_has_its_view_name(app, staff_client):
    views = exportable_views(app)
    assert len(views) >= 5
    for view in views:
        sheet = sheet_of(staff_client.get(f"/admin/{view.endpoint}/export/xlsx/"))
        # tablib keeps a sheet name to 31 characters and replaces []:*?/\ with "-".
        assert sheet.title == str(view.name)[:31], view.endpoint


def test_csv_exports_and_other_tablib_uses_are_unchanged(staff_client, make_course):
    make_course(code="CS101")
    response = staff_client.get("/admin/course/export/csv/")
    assert response.status_code == 200 and b"CS101" in response.get_data()
    export_sheets.register()
    export_sheets.register()  # once is enough: the format is not wrapped twice
    plain = tablib.Dataset(["a"], headers=["x"])
    assert openpyxl.load_workbook(io.BytesIO(plain.export("xlsx"))).active.title == \
        "Tablib Dataset"
    titled = tablib.Dataset(["a"], headers=["x"], title="Mine")
    with export_sheets.sheet_title("Courses"):
        assert openpyxl.load_workbook(io.BytesIO(titled.export("xlsx"))).active.title == "Mine"
        named = tablib.Dataset(["a"], headers=["x"]).export("xlsx")
    assert openpyxl.load_workbook(io.BytesIO(named)).active.title == "Courses"
    after = tablib.Dataset(["a"], headers=["x"]).export("xlsx")
    assert openpyxl.load_workbook(io.BytesIO(after)).active.title == "Tablib Dataset"

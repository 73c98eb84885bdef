"""`flask roster TERM CODE [--format csv|xlsx] [-o FILE]`: the same roster as the web export."""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from enrollment.reports.exports import ROSTER_HEADER_ROW
from tests.report_data import fill_course


@pytest.fixture
def course(make_term, make_course):
    course = make_course(term=make_term(code="2027SP"), code="CS101", capacity=2)
    fill_course(course, ["Bea", "=Ann", "Çelik Öz"])
    return course


def test_csv_to_stdout_matches_the_web_export(runner, client, login, make_staff, course):
    result = runner.invoke(args=["roster", "2027SP", "CS101"])
    assert result.exit_code == 0, result.output
    login(make_staff())
    web = client.get(f"/reports/courses/{course.id}/roster.csv").get_data()
    assert result.stdout_bytes == web  # byte for byte, CRLF line ends included
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["name"], r["status"], r["waitlist_position"]) for r in rows] == [
        ("'=Ann", "enrolled", ""), ("Bea", "enrolled", ""), ("Çelik Öz", "waitlisted", "1")]


def test_csv_to_file_with_bom(runner, course, tmp_path):
    out = tmp_path / "r.csv"
    result = runner.invoke(args=["roster", "2027SP", "CS101", "-o", str(out), "--bom"])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfstudent_number,") and "Çelik".encode() in data
    assert "Wrote the roster of 2027SP CS101" in result.stderr


def test_xlsx_to_file_matches_the_web_export(runner, client, login, make_staff, course,
                                             tmp_path):
    out = tmp_path / "r.xlsx"
    result = runner.invoke(args=["roster", "2027SP", "CS101", "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    login(make_staff())
    web = openpyxl.load_workbook(io.BytesIO(
        client.get(f"/reports/courses/{course.id}/roster.xlsx").get_data())).active
    cli = openpyxl.load_workbook(out).active
    assert list(cli.iter_rows(values_only=True)) == list(web.iter_rows(values_only=True))
    assert cli.max_row == ROSTER_HEADER_ROW + 3  # the title block, the headings, 3 students
    assert cli.freeze_panes == f"A{ROSTER_HEADER_ROW + 1}"


@pytest.mark.parametrize("args, message", [
    (["NOPE", "CS101"], "Error: no term with code 'NOPE'."),
    (["2027SP", "NOPE"], "Error: no course 'NOPE' in term 2027SP."),
])
def test_unknown_term_or_course(runner, course, args, message):
    result = runner.invoke(args=["roster", *args])
    assert result.exit_code == 1
    assert result.stderr.strip() == message
    assert "Traceback" not in result.output and result.stdout == ""


def test_xlsx_needs_an_output_file(runner, course):
    result = runner.invoke(args=["roster", "2027SP", "CS101", "--format", "xlsx"])
    assert result.exit_code == 2
    assert "--format xlsx needs -o FILE" in result.stderr


def test_unwritable_output_is_one_line(runner, course, tmp_path):
    result = runner.invoke(args=["roster", "2027SP", "CS101", "-o",
                                 str(tmp_path / "missing-dir" / "r.csv")])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot write ") and "Traceback" not in result.output


def test_database_without_tables_is_one_line(tmp_path):
    """An empty database (a fresh SQLite file on either run: dropping the shared PostgreSQL
    test database's tables would break the other tests)."""
    from enrollment import create_app

    empty = create_app({"TESTING": True,
                        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite3'}"})
    result = empty.test_cli_runner().invoke(args=["roster", "2027SP", "CS101"])
    assert result.exit_code == 1
    assert result.stderr.strip() == \
        "Error: the database has no tables yet: run `flask db upgrade` first."

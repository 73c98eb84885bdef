"""The roster XLSX as LibreOffice prints it: landscape pages one page wide, the column headings
on every page, the title block on the first.

LibreOffice (`soffice`, Debian package `libreoffice-calc-nogui`) turns the workbook into a PDF,
and pypdf reads the text of each page. Outside CI a missing `soffice` skips the test with the
reason; under CI=true it fails.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta

import pytest

from enrollment.reports.exports import ROSTER_HEADINGS
from tests.factories import NOW, at
from tests.report_data import fill_course

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SOFFICE_TIMEOUT = 180  # seconds; a first start (a new profile) takes 10-20 s on a slow machine


@pytest.fixture(scope="session")
def soffice() -> str:
    path = shutil.which(os.environ.get("SOFFICE", "soffice"))
    if path is None:
        message = "LibreOffice not found (apt-get install libreoffice-calc-nogui)"
        if IN_CI:
            pytest.fail(message + "; the print test is required under CI=true", pytrace=False)
        print(f"\nskipping: {message}")
        pytest.skip(message)
    return path


def to_pdf(soffice: str, workbook, tmp_path):
    """Convert `workbook` with LibreOffice in a profile of its own (parallel runs do not
    share one) and return the PDF's pages as pypdf reads them."""
    from pypdf import PdfReader

    profile = tmp_path / "lo-profile"
    out = tmp_path / "pdf"
    completed = subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(out), str(workbook)],
        capture_output=True, text=True, timeout=SOFFICE_TIMEOUT, check=False)
    pdf = out / (workbook.stem + ".pdf")
    assert completed.returncode == 0 and pdf.exists(), completed.stdout + completed.stderr
    return PdfReader(pdf).pages


@pytest.mark.slow
@pytest.mark.config(SCHOOL_TIMEZONE="America/New_York")
def test_printed_roster_is_one_page_wide_with_headings_on_every_page(
        soffice, client, login, make_staff, make_term, make_course, tmp_path):
    term = make_term(code="2027SP", name="Spring 2027")
    course = make_course(term=term, code="CS101", title="Programming I: Data, Types & Tests",
                         capacity=70, waitlist_capacity=10, days="MWF", start_time=at("09:00"),
                         end_time=at("09:50"), instructor="Dr. Ada Lovelace",
                         location="Hall 1, room 204")
    # Every seventh name and program too long for its column: they wrap, the row grows.
    names = [f"Student {i:02d}" + (" Surname-Longer-Than-Most-Columns" if i % 7 == 0 else "")
             for i in range(75)]
    students = fill_course(course, names, start=NOW - timedelta(days=3))
    for student in students[::7]:
        student.program = "Computer Science and Mathematics (joint honours)"
    login(make_staff())
    response = client.get(f"/reports/courses/{course.id}/roster.xlsx")
    assert response.status_code == 200
    workbook = tmp_path / "roster.xlsx"
    workbook.write_bytes(response.get_data())

    pages = to_pdf(soffice, workbook, tmp_path)
    texts = [page.extract_text() for page in pages]
    assert len(pages) > 1
    numbers = []
    for i, (page, text) in enumerate(zip(pages, texts, strict=True), start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert width > height, f"page {i} is not landscape"
        flat = " ".join(text.split())
        # The heading row repeats; the first and the last column on every page: nothing
        # spills onto a page of its own.
        for heading in ROSTER_HEADINGS:
            assert heading.split()[0] in flat, f"page {i}: no {heading!r}"
        assert "Student number" in flat and "Since (UTC)" in flat, f"page {i}"
        assert f"Page {i} of {len(pages)}" in flat, f"page {i}: no page number"
        # A row is whole on its page: its student number and its date (the last column).
        on_page = re.findall(r"\bS\d{7}\b", flat)
        assert on_page and len(re.findall(r"2027-01-07 \d\d:\d\d", flat)) == len(on_page)
        numbers += on_page
    assert len(numbers) == len(set(numbers)) == 75  # every student once

    first = " ".join(texts[0].split())
    for fact in ("CS101 — Programming I: Data, Types & Tests", "Spring 2027 (2027SP)",
                 "Dr. Ada Lovelace", "Mon Wed Fri 09:00–09:50, Hall 1, room 204",
                 "70 of 70 seats · waitlist 5 of 10 places", "Generated at",
                 "10 Jan 2027 07:00 EST"):
        assert fact in first, fact
    assert "Generated at" not in " ".join(texts[1].split())

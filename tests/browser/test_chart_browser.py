"""The fill-rate charts in Chromium, on a phone (390 px) and a desktop (1280 px): every text
inside its chart, none on a bar or a line, a legend, and no sideways scrolling."""
from __future__ import annotations

import os

import pytest

from enrollment.extensions import db
from tests.factories import PASSWORD
from tests.report_data import fill_course

SHOTS = os.environ.get("REPORT_SHOTS")  # a folder to keep screenshots in, when set

# Each text's box against the chart's box and against every bar, track, swatch and line.
LAYOUT = """svg => {
  const box = svg.getBoundingClientRect();
  const overlaps = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5
                          && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const shapes = [...svg.querySelectorAll('rect, line')].map(
    el => [el.getAttribute('class'), el.getBoundingClientRect()]);
  const texts = [...svg.querySelectorAll('text')];
  const problems = [];
  for (const text of texts) {
    const r = text.getBoundingClientRect();
    const what = JSON.stringify(text.textContent);
    if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5
        || r.bottom > box.bottom + 0.5) problems.push(what + ' overflows the chart');
    if (r.height < 11) problems.push(what + ' is shrunk to ' + r.height + 'px');
    for (const [kind, s] of shapes) {
      if (overlaps(r, s)) problems.push(what + ' is on a ' + kind);
    }
  }
  const holder = svg.parentElement;
  return {problems, texts: texts.length, bars: svg.querySelectorAll('rect.bar').length,
          legend: [...svg.querySelectorAll('.legend text')].map(t => t.textContent),
          width: box.width, scrolls: holder.scrollWidth > holder.clientWidth};
}"""


@pytest.fixture
def school(make_term, make_department, make_course, make_staff):
    term = make_term(code="2027SP", name="Spring 2027")
    cs = make_department(code="CS", name="Computer Science")
    math = make_department(code="MATH-STATISTICS", name="Mathematics and Statistics")
    # Full, nearly full, half full, over capacity (its capacity lowered later), and no seats.
    for code, dept, capacity, taken in [("CS101", cs, 8, 8), ("CS2050-SEMINAR", cs, 10, 9),
                                        ("MATH210", math, 10, 5), ("MATH-ADV-TOPICS-99", math, 6,
                                                                   6)]:
        course = make_course(term=term, department=dept, code=code, capacity=capacity)
        fill_course(course, [f"{code} student {i}" for i in range(taken)])
    course.capacity = 4  # 6 enrolled, 150 %: staff lowered it, nobody was removed
    make_course(term=term, department=cs, code="CS000", capacity=0)
    make_staff(email="registrar@example.edu")
    db.session.commit()


def _log_in(page, live_server):
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "registrar@example.edu")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize("width", [390, 1280])
def test_fill_rate_charts_fit_and_keep_text_off_the_bars(live_server, new_page, school,
                                                         width):
    page = new_page(width, 900)
    _log_in(page, live_server)
    page.goto(f"{live_server}/reports/enrollment?term=2027SP")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for chart, bars in (("#course-chart", 4), ("#department-chart", 2)):
        svg = page.locator(f"{chart} svg.fill-chart")
        assert svg.is_visible()
        layout = svg.evaluate(LAYOUT)
        assert layout["problems"] == [], (chart, width)
        assert not layout["scrolls"], (chart, width)
        assert layout["bars"] == bars
        assert layout["legend"][:3] == ["Full (100 % or more)", "80–99 % full",
                                        "Under 80 % full"]
        assert layout["width"] <= 720
    course_chart = page.locator("#course-chart svg.fill-chart")
    assert "Capacity (100 %)" in course_chart.locator(".legend").text_content()
    assert course_chart.locator("text.label", has_text="MATH-ADV-TOPICS-99").count() == 1
    assert course_chart.locator("text", has_text="150 % (6/4)").count() == 1
    assert course_chart.locator("text", has_text="no seats").count() == 1
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.locator("#course-chart").screenshot(path=os.path.join(SHOTS, f"chart-{width}.png"))
        page.screenshot(path=os.path.join(SHOTS, f"stats-{width}.png"), full_page=True)

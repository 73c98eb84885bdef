"""The admin dashboard: counts, fullest courses, longest waitlists, latest changes."""
from __future__ import annotations

import re

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Source
from tests.admin_support import staff_client_fixture, staff_fixture  # noqa: F401
from tests.factories import NOW


def _fill(course, students, staff):
    for student in students:
        with write_transaction(db.session):
            services.enroll(student, course, actor=staff, now=NOW, source=Source.STAFF)


def test_dashboard_shows_counts_and_rankings(staff_client, staff, make_course,
                                             make_student):
    full = make_course(code="FULL1", capacity=2, waitlist_capacity=5)
    half = make_course(code="HALF1", capacity=4)
    students = [make_student() for _ in range(5)]
    db.session.commit()
    _fill(full, students, staff)
    _fill(half, students[:2], staff)
    html = staff_client.get("/admin/").get_data(as_text=True)
    assert 'id="count-students">5<' in html
    assert 'id="count-courses">2<' in html
    assert 'id="count-enrolled">4<' in html
    assert 'id="count-waitlisted">3<' in html
    fullest = html.split("Fullest courses")[1].split("Longest waitlists")[0]
    assert fullest.index("FULL1") < fullest.index("HALF1")
    longest = html.split("Longest waitlists")[1].split("Latest changes")[0]
    assert "FULL1" in longest and "HALF1" not in longest
    assert "Latest changes" in html and "enrolled" in html
    # Each number links to the rows it counts.
    waitlisted = staff_client.get("/admin/enrollment/?flt0_status_equals=waitlisted")
    assert 'href="/admin/enrollment/?flt0_status_equals=waitlisted"' in html
    statuses = re.findall(r'<td class="col-status">\s*(\w+)\s*</td>',
                          waitlisted.get_data(as_text=True))
    assert statuses == ["waitlisted"] * 3


def test_dashboard_query_count_is_fixed(staff_client, staff, make_course,
                                        make_student, count_queries):
    counts = []
    for _ in range(3):
        for _ in range(3):
            course = make_course()
            db.session.commit()
            _fill(course, [make_student() for _ in range(3)], staff)
        with count_queries() as queries:
            assert staff_client.get("/admin/").status_code == 200
        counts.append(queries.count)
    assert len(set(counts)) == 1


def test_empty_dashboard_says_so(staff_client):
    html = staff_client.get("/admin/").get_data(as_text=True)
    assert "No enrollments yet" in html and "Nobody is waiting" in html

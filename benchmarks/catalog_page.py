"""Catalog page speed: GET /courses on a large catalog vs a bare Flask endpoint.

The baseline is a route on the same app that renders the same layout with a fixed table and
no database work: what any page of this app costs. The catalog adds the search, the filters,
the page of courses and their seat counts. Prints requests per second and the ratio, for an
empty search and a text search, at the chosen catalog size.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask import render_template_string  # noqa: E402

from enrollment import create_app  # noqa: E402
from enrollment.extensions import db  # noqa: E402
from tests import factories  # noqa: E402

BARE = """{% extends "base.html" %}{% block content %}<table>{% for i in range(25) %}
<tr><td>{{ i }}</td><td>Course {{ i }}</td></tr>{% endfor %}</table>{% endblock %}"""


def populate(n_courses: int) -> None:
    terms = [factories.make_term() for _ in range(2)]
    depts = [factories.make_department() for _ in range(8)]
    for i in range(n_courses):
        factories.make_course(term=terms[i % 2], department=depts[i % 8],
                              title=f"Topics in subject {i}")
    db.session.commit()


def timed(client, url: str, n: int) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        app = create_app({"TESTING": True, "FIXED_NOW": factories.NOW,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.sqlite3"})
        app.add_url_rule("/bare", "bare", lambda: render_template_string(BARE))
        with app.app_context():
            db.create_all()
            populate(args.courses)
        client = app.test_client()
        for url in ("/bare", "/courses", "/courses?q=subject+19"):
            timed(client, url, 3)  # warm up caches
        bare = timed(client, "/bare", args.requests)
        print(f"{args.courses} courses, median of {args.requests} requests each")
        print(f"bare endpoint (layout, no queries): {1 / bare:7.0f} req/s")
        for url in ("/courses", "/courses?q=subject+19", "/courses?page=40"):
            t = timed(client, url, args.requests)
            print(f"{url:28s}        {1 / t:7.0f} req/s   ratio {t / bare:5.2f}x")
        with app.app_context():
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

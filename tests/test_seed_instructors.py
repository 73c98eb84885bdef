"""`flask seed-demo` gives two instructor logins, each teaching a few demo courses."""
from __future__ import annotations

import sqlalchemy as sa

from enrollment.cli import demo_catalog as catalog
from enrollment.cli.seed import seed_demo
from enrollment.extensions import db
from enrollment.models import Course, Role, User


def test_two_instructors_teach_demo_courses_and_log_in(runner, client):
    result = runner.invoke(seed_demo, ["--students", "30", "--courses", "40"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert len(catalog.DEMO_INSTRUCTORS) == 2
    for email, name, dept in catalog.DEMO_INSTRUCTORS:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert user.role == Role.INSTRUCTOR and user.name == name
        assert user.check_password(catalog.INSTRUCTOR_PASSWORD)
        assert f"instructor  {email}" in result.output
        taught = db.session.scalars(sa.select(Course).where(Course.instructor_id == user.id)
                                    ).all()
        assert 2 <= len(taught) <= sum(catalog.TAUGHT_PER_TERM)
        assert {c.instructor for c in taught} == {name}  # the display name is theirs
        assert {c.code[:len(dept)] for c in taught} == {dept}

        login = client.post("/auth/login", data={"email": email,
                                                 "password": catalog.INSTRUCTOR_PASSWORD})
        assert login.headers["Location"] == "/teach/"
        page = client.get("/teach/?term=all").get_data(as_text=True)
        assert all(f"/teach/courses/{c.id}\"" in page for c in taught)
        client.post("/auth/logout")
    assert "staff       registrar@example.edu" in result.output
    assert "student     ada@example.edu" in result.output

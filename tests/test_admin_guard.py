"""The admin's parameter guard: what it refuses, and what it lets through."""
import pytest

from enrollment.admin.guard import problem


@pytest.mark.parametrize("key, value", [
    ("search", "a\x00b"), ("url", "/admin/\r\nSet-Cookie: x=1"), ("page", "-1"),
    ("page", "99999999999999999999"), ("id", "abc"), ("id", "1,99999999999"),
    ("flt0_capacity_equals", "99999999999999999999"), ("limit", "x"),
])
def test_refused(key, value):
    assert problem(key, value)


@pytest.mark.parametrize("key, value", [
    ("search", "Ada Lovelace"), ("search", "20000001"), ("page", "3"), ("id", "12"),
    ("id", "4,17"), ("url", "/admin/course/?page=2"), ("flt1_status_equals", "waitlisted"),
    ("page", ""),
])
def test_allowed(key, value):
    assert problem(key, value) is None

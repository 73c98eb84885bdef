"""/api/docs in Chromium: Swagger UI loads the OpenAPI document from local assets under the
site's Content-Security-Policy (the fixtures fail the test on any violation), and a bearer
token entered in its Authorize dialog is sent to the API."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.api_support import make_school


def test_the_docs_load_under_the_csp_and_call_the_api(app, page, live_server):
    school = make_school()
    outside = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith((live_server, "data:")) else None)
    response = page.goto(f"{live_server}/api/docs")
    assert response.status == 200
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Enrollment API")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/terms")).to_be_visible()
    # The token goes into Authorize; "Try it out" then calls the API with it.
    page.get_by_role("button", name=re.compile("Authorize")).first.click()
    page.locator(".auth-container input").first.fill(school.secrets["student_read"])
    page.locator(".auth-btn-wrapper button.authorize").click()
    page.locator(".auth-btn-wrapper button.btn-done").click()
    page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/v1/terms$")).click()
    page.get_by_role("button", name="Try it out").click()
    with page.expect_response(re.compile(r"/api/v1/terms")) as answered:
        page.get_by_role("button", name="Execute").click()
    assert answered.value.status == 200
    assert outside == []

"""The API's docs pages in a real browser: Redoc and Swagger UI render under the CSP."""

import pytest


@pytest.mark.browser
def test_redoc_and_swagger_render_without_breaking_the_csp(chromium, live_portal):
    from .test_browser_csp import watch_csp

    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    logged = watch_csp(page)
    response = page.goto(f"{live_portal}/api/docs/")
    assert response.status == 200
    page.get_by_text("KSBB portal API").first.wait_for()
    page.get_by_text("/api/v1/needs/").first.wait_for()
    # Redoc's footer shows Redocly's logo from their CDN: the CSP keeps visitors' browsers
    # from calling it (the image hides itself), and nothing else is refused.
    violations = page.evaluate("() => window.cspViolations")
    assert all("cdn.redoc.ly/redoc/logo-mini.svg" in v for v in violations), violations
    assert all("cdn.redoc.ly/redoc/logo-mini.svg" in line for line in logged), logged

    logged.clear()
    assert page.goto(f"{live_portal}/api/docs/swagger/").status == 200
    page.locator(".swagger-ui .information-container").get_by_text("KSBB portal API").wait_for()
    page.locator(".opblock-summary-path").first.wait_for()
    assert page.evaluate("() => window.cspViolations") == []
    assert logged == []
    context.close()

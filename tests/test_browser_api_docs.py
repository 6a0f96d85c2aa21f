"""The API's pages in a real browser: Redoc renders under the CSP; the token
page works on a phone. Apart from the API's other tests, which hold a transaction."""

import pytest

from commitments.housekeeping.demo import DEMO_PASSWORD, DEMO_USERS

from .api_world import TOKEN_PAGE
from .browser import HEIGHT, WIDTH, sign_in, watch_csp, watch_errors


@pytest.mark.browser
def test_redoc_renders_without_breaking_the_csp(chromium, live_portal):
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    logged = watch_csp(page)
    errors = watch_errors(page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(f"{live_portal}/api/docs/")
    assert response.status == 200
    page.get_by_text("KSBB portal API").first.wait_for()
    page.get_by_text("/api/v1/needs/").first.wait_for()
    # Redoc's side menu ends with Redocly's logo from their CDN: static/js/redoc-logo.js
    # hides it unfetched, so nothing is refused, nothing is logged, no third party called.
    page.get_by_text("API docs by Redocly").wait_for(state="attached")
    assert page.evaluate("() => window.cspViolations") == []
    assert logged == []
    assert errors == []
    # (Redoc's search worker comes from a blob: URL of the page.)
    assert all(url.removeprefix("blob:").startswith(live_portal) for url in requested), requested
    logo = page.locator("img[alt='redocly logo']")
    assert logo.count() == 1
    assert logo.get_attribute("src") is None
    assert not logo.is_visible()
    context.close()


@pytest.mark.browser
def test_token_page_on_a_phone(chromium, live_portal, django_db_blocker, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    context = chromium.new_context(
        viewport={"width": WIDTH, "height": HEIGHT}, is_mobile=True, locale="id-ID"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        logged = watch_csp(page)
        with django_db_blocker.unblock():
            sign_in(page, live_portal, DEMO_USERS["donor"], DEMO_PASSWORD)
            page.goto(f"{live_portal}{TOKEN_PAGE}")
            page.fill("#id_name", "Telepon")
            page.click("main button.primary")
            key = page.get_by_test_id("new-key").input_value()
            assert key.startswith("ksbb_")
            assert page.evaluate("() => document.scrollingElement.scrollWidth") <= WIDTH
            page.locator("main table button").first.click()
            page.wait_for_load_state()
            assert page.locator("main table .badge").first.is_visible()
            assert page.evaluate("() => window.cspViolations") == []
            assert logged == []
    finally:
        context.close()

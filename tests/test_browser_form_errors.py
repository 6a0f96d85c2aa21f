"""On a phone, a form that comes back with errors puts focus where the problem is (issue 25,
js/form-errors.js): on the first invalid field, whose accessible description is its error,
or on the error alert when no field is at fault; a page without errors keeps its focus."""

import pytest
from django.contrib.auth import get_user_model

from commitments.housekeeping.demo import DEMO_USERS
from locations.models import Area

from .browser import phone_page, sign_in_as_demo_user
from .factories import NeedFactory

pytestmark = pytest.mark.browser

# A refused form answers 400, which Chromium logs as a failed resource; nothing else may.
BAD_REQUEST = "status of 400 (Bad Request)"

# What a screen reader announces for the focused element: its name, role, state and the
# text of the elements its aria-describedby names.
FOCUSED = """() => {
  const element = document.activeElement;
  const described = (element.getAttribute("aria-describedby") || "").split(/\\s+/)
    .filter(Boolean).map((id) => document.getElementById(id));
  return {
    id: element.id,
    tag: element.tagName.toLowerCase(),
    role: element.getAttribute("role"),
    invalid: element.getAttribute("aria-invalid"),
    described: described.map((node) => (node ? node.textContent.trim() : null)),
    text: element.textContent.trim(),
  };
}"""


@pytest.fixture
def phone_expecting_refusals(chromium, django_db_blocker):
    """Like the `phone` fixture, where a refused form's 400 is no error."""
    with phone_page(chromium) as (page, errors), django_db_blocker.unblock():
        yield page
    assert [error for error in errors if BAD_REQUEST not in error] == [], errors


def test_a_pledge_of_nothing_puts_focus_on_the_quantity_and_reads_its_error(
    phone_expecting_refusals, live_portal
):
    page = phone_expecting_refusals
    need = NeedFactory(area=Area.objects.get(code="31.73.04.1002.002"), quantity_needed=40)
    sign_in_as_demo_user(page, live_portal, DEMO_USERS["donor"])
    page.goto(f"{live_portal}/janji/{need.pk}/")
    page.fill("#id_quantity", "0")
    with page.expect_navigation():
        page.locator("form.pledge-form button[type=submit]").click()

    page.wait_for_function("() => document.activeElement.id === 'id_quantity'")
    focused = page.evaluate(FOCUSED)
    error = page.locator("#id_quantity_error").inner_text().strip()
    assert error  # "Pastikan nilai ini lebih besar dari atau sama dengan 1."
    assert focused["invalid"] == "true"
    assert error in focused["described"], focused
    assert page.title().startswith("Galat: ")


def test_a_wrong_password_puts_focus_on_the_alert(phone, live_portal):
    page = phone
    email = "salah.sandi@example.org"
    user = get_user_model().objects.create_user(email, email)
    page.goto(f"{live_portal}/akun/masuk/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", "bukan-sandinya")
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()

    page.wait_for_function("() => document.activeElement.getAttribute('role') === 'alert'")
    focused = page.evaluate(FOCUSED)
    assert "errorlist" in page.evaluate("() => document.activeElement.className")
    refusal = page.locator("main .errorlist.nonfield").inner_text().strip()
    assert refusal and focused["text"] == refusal, focused  # read out as the alert's content
    assert page.title().startswith("Galat: ")
    # The alert is focusable from the script only: Tab does not stop on it.
    assert page.evaluate("() => document.activeElement.tabIndex") == -1


def test_a_page_without_errors_keeps_its_focus(phone, live_portal):
    page = phone
    page.goto(f"{live_portal}/peta/")
    page.wait_for_load_state("load")
    assert page.evaluate("() => document.activeElement === document.body")
    assert not page.title().startswith("Galat")

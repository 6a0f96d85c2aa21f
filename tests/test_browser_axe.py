"""Issue 25: axe-core (WCAG 2.1 A/AA, through axe-playwright-python, which ships axe-core's
script in its wheel) on the area page, the program page and a lead's program dashboard, at
390x844 in both languages; a serious or critical violation fails the test. A handful of
scans: the every-page, every-role scan is later work."""

import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model

from locations.models import Area
from programs.models import Program, ProgramLead

from .browser import HEIGHT, PASSWORD, WIDTH, screenshot, sign_in, watch_errors

pytestmark = pytest.mark.browser

AREA = "31.73.04.1002"  # RW 02 Kali Anyar, Tambora: the demo data has needs there
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def serious(results) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): "
        + "; ".join(node["target"][0] if node["target"] else "?" for node in v["nodes"][:5])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def a_lead_of_pangan() -> str:
    email = f"lead-{uuid.uuid4().hex[:8]}@example.org"
    user = get_user_model().objects.create_user(email, email, PASSWORD)
    ProgramLead.objects.create(user=user, program=Program.objects.get(slug="pangan"))
    return email


@pytest.mark.parametrize("language", ["id", "en"])
def test_area_program_and_dashboard_pass_axe_on_a_phone(
    chromium, live_portal, django_db_blocker, language
):
    context = chromium.new_context(
        viewport={"width": WIDTH, "height": HEIGHT},
        is_mobile=True,
        has_touch=True,
        locale="id-ID" if language == "id" else "en-US",
    )
    context.add_cookies([{"name": "django_language", "value": language, "url": live_portal}])
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors = watch_errors(page)
    axe = Axe()
    found = {}
    try:
        with django_db_blocker.unblock():
            pages = {
                "area": Area.objects.get(code=AREA).get_absolute_url(),
                "program": Program.objects.get(slug="pangan").get_absolute_url(),
            }
            email = a_lead_of_pangan()
        for name, path in pages.items():
            page.goto(f"{live_portal}{path}")
            found[name] = serious(axe.run(page, options=WCAG))
        sign_in(page, live_portal, email)
        page.goto(f"{live_portal}/ruang-kerja/dasbor/pangan/")
        found["dashboard"] = serious(axe.run(page, options=WCAG))
        screenshot(page, f"axe-dashboard-{language}")
    finally:
        context.close()
    assert found == {"area": [], "program": [], "dashboard": []}
    assert errors == [], errors

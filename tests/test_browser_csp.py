"""Every page type, as every kind of user, satisfies the Content-Security-Policy: Chromium
reports no `securitypolicyviolation` (an inline script or style, an image from elsewhere...)
and logs no CSP error."""

import pytest
from django.contrib.auth import get_user_model

from collaborators.models import Collaborator
from commitments.housekeeping.demo import DEMO_PASSWORD, DEMO_USERS
from commitments.models import Commitment
from locations.models import Need

from .browser import sign_in, wait_for_map, watch_csp
from .factories import pangan_groceries

pytestmark = pytest.mark.browser

ADMIN_EMAIL = "admin.csp@example.org"


def map_with_need_state_and_panel(page):
    wait_for_map(page)
    # The area panel is HTML from the server put in place by the map's script.
    page.evaluate("() => ksbbMap.openPanel('31.73.04.1002.001')")
    page.locator("#area-panel .need-line, #area-panel h2").first.wait_for()


def pages_for(who: str) -> tuple[str | None, list[str]]:
    """(email to sign in with, paths to visit) for one kind of user."""
    donor_commitment = Commitment.objects.filter(
        collaborator__memberships__user__email=DEMO_USERS["donor"]
    ).first()
    any_commitment = donor_commitment or Commitment.objects.first()
    if who == "visitor":
        collaborator = Collaborator.objects.filter(is_demo=True).order_by("pk").first()
        return None, [
            "/",
            "/peta/",
            "/wilayah/31.73.04.1002/",
            "/wilayah/31.73.04.1002.001/",
            "/program/pangan/",
            "/kolaborator/",
            collaborator.get_absolute_url(),
            "/akun/masuk/",
            "/akun/daftar/",
        ]
    if who == "donor":
        need = Need.objects.open().order_by("pk").first()
        return DEMO_USERS["donor"], [
            "/ruang-kerja/",
            "/ruang-kerja/komitmen/",
            f"/janji/{need.pk}/",
            donor_commitment.get_absolute_url(),
            "/notifikasi/",
            # The assistant's plan with its small map (Leaflet markers, data as JSON).
            f"/asisten/?form={pangan_groceries().pk}&quantity=50&start=31.73.04.1002",
        ]
    if who == "facilitator":
        return DEMO_USERS["facilitator"], [
            "/ruang-kerja/",
            "/ruang-kerja/fasilitator/",
            "/notifikasi/",
        ]
    if who == "lead":
        return DEMO_USERS["lead"], [
            "/ruang-kerja/",
            "/ruang-kerja/verifikasi/",
            "/ruang-kerja/dasbor/pangan/",
            "/ruang-kerja/dasbor/pangan/?area=31.73",
        ]
    get_user_model().objects.filter(username=ADMIN_EMAIL).delete()
    get_user_model().objects.create_superuser(ADMIN_EMAIL, ADMIN_EMAIL, DEMO_PASSWORD)
    need = Need.objects.order_by("pk").first()
    return ADMIN_EMAIL, [
        "/admin/",
        "/admin/commitments/commitment/",
        f"/admin/commitments/commitment/{any_commitment.pk}/change/",
        f"/admin/locations/need/{need.pk}/change/",
        "/admin/collaborators/collaborator/add/",
        any_commitment.get_absolute_url(),
        "/ruang-kerja/dasbor/",
    ]


@pytest.mark.parametrize("who", ["visitor", "donor", "facilitator", "lead", "admin"])
def test_no_page_breaks_the_content_security_policy(page, live_portal, who, settings):
    # The demo was seeded with the real password hasher; tests otherwise list a fast one only.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    logged = watch_csp(page)
    email, paths = pages_for(who)
    if email:
        sign_in(page, live_portal, email, DEMO_PASSWORD)
        assert "/akun/masuk/" not in page.url, page.inner_text("main")
    seen = {}
    for path in paths:
        response = page.goto(live_portal + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")
        if path == "/peta/":
            map_with_need_state_and_panel(page)
        seen[path] = page.evaluate("() => window.cspViolations")
    assert {path: found for path, found in seen.items() if found} == {}
    assert logged == []

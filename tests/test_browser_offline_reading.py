"""On a phone (390x844), a facilitator opens the workspace with a signal, and then, with no
network at all, the workspace, the inbox, their needs, a need's edit form, their area's page
and the needs map, each saying how fresh it is; a page never opened shows the offline page;
a page closed and opened again still works; signing out leaves nothing for the next person
on the same phone (issue 22, part 1)."""

import datetime
import uuid

import pytest
from django.contrib.auth import get_user_model

from locations.mapdata import needs_changed
from locations.models import Area, Facilitator

from .browser import (
    PASSWORD,
    WIDTH,
    go_offline,
    go_online,
    phone_context,
    screenshot,
    sign_in,
    sign_out,
    wait_for_map,
    wait_offline_ready,
    watch_errors,
)
from .factories import NeedFactory

pytestmark = pytest.mark.browser

RW_01 = "31.73.04.1002.001"
NO_PERSONAL_CACHE = (
    "async () => (await caches.keys()).every((name) => !name.startsWith('ksbb-pages-'))"
)
OFFLINE_PAGE = "html[data-offline-page]"


def _people(django_db_blocker):
    with django_db_blocker.unblock():
        rw = Area.objects.get(code=RW_01)
        users = get_user_model().objects
        tag = uuid.uuid4().hex[:6]
        facilitator = users.create_user(f"rw-{tag}@example.org", f"rw-{tag}@example.org", PASSWORD)
        Facilitator.objects.create(user=facilitator, area=rw, title="Ketua RW 01")
        need = NeedFactory(area=rw, quantity_needed=40)
        other = users.create_user(f"next-{tag}@example.org", f"next-{tag}@example.org", PASSWORD)
    return facilitator, need, other


def _shows_saved_view(page, url: str, offline_since: datetime.datetime) -> None:
    """The page opens, made before the network went (a saved copy, not the server's), and
    says so."""
    page.goto(url)
    assert page.locator(OFFLINE_PAGE).count() == 0, url
    made = datetime.datetime.fromisoformat(page.get_attribute("html", "data-rendered-at"))
    assert made < offline_since, url
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= WIDTH, url
    bar = page.locator("#freshness-bar")
    assert bar.is_visible(), url
    assert bar.inner_text().startswith("Tanpa sinyal — tampilan tersimpan pukul "), url


def _map_data_from_the_cache(page, context, live_portal, django_db_blocker) -> None:
    """Online, but the needs' state does not arrive (a link that drops): the map is drawn
    from the state saved earlier, and says how old it is."""
    with django_db_blocker.unblock():
        needs_changed()  # the page asks for a version the phone has not saved yet
    context.route("**/peta/data/*/kebutuhan.json*", lambda route: route.abort())
    page.goto(f"{live_portal}/peta/")
    wait_for_map(page)
    page.wait_for_selector("html[data-data-from-cache='1']")
    bar = page.locator("#freshness-bar")
    assert bar.is_visible() and bar.inner_text().startswith("Tampilan tersimpan pukul ")
    context.unroute("**/peta/data/*/kebutuhan.json*")


def test_a_facilitator_reads_the_field_pages_offline_and_signing_out_forgets_them(
    chromium, live_portal, django_db_blocker
):
    facilitator, need, other = _people(django_db_blocker)
    context = phone_context(chromium)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors = watch_errors(page)
    sign_in(page, live_portal, facilitator.email)
    assert page.url.endswith("/ruang-kerja/")
    wait_offline_ready(page)

    offline_since = datetime.datetime.now(datetime.UTC)
    go_offline(context)
    pages = [
        "/ruang-kerja/",
        "/ruang-kerja/fasilitator/",
        "/ruang-kerja/kebutuhan/",
        f"/ruang-kerja/kebutuhan/{need.pk}/ubah/",
        f"/wilayah/{RW_01}/",
    ]
    for path in pages:
        _shows_saved_view(page, live_portal + path, offline_since)
    _shows_saved_view(page, f"{live_portal}/ruang-kerja/kebutuhan/{need.pk}/ubah/", offline_since)
    assert page.input_value("#id_quantity_needed") == "40"
    screenshot(page, "offline-need-edit-phone")

    _shows_saved_view(page, f"{live_portal}/peta/", offline_since)
    wait_for_map(page)  # drawn from the saved geometry and need state
    screenshot(page, "offline-needs-map-phone")

    page.goto(f"{live_portal}/program/pangan/")  # never opened: the offline page
    page.wait_for_selector(OFFLINE_PAGE)

    # The tab closed and opened again, still with no network.
    page.close()
    page = context.new_page()
    errors += watch_errors(page)
    _shows_saved_view(page, f"{live_portal}/ruang-kerja/", offline_since)

    go_online(context)
    page.goto(f"{live_portal}/ruang-kerja/")
    assert page.locator("#freshness-bar").is_hidden()
    _map_data_from_the_cache(page, context, live_portal, django_db_blocker)
    sign_out(page, live_portal)  # through the header's menu on a phone
    page.wait_for_function(NO_PERSONAL_CACHE)

    # The next person on the same phone sees none of it, even offline.
    sign_in(page, live_portal, other.email)
    wait_offline_ready(page)
    names = page.evaluate("async () => await caches.keys()")
    assert not [name for name in names if name.endswith(f"-u{facilitator.pk}")], names
    go_offline(context)
    page.goto(f"{live_portal}/ruang-kerja/kebutuhan/{need.pk}/ubah/")
    page.wait_for_selector(OFFLINE_PAGE)
    go_online(context)
    context.close()
    assert errors == []

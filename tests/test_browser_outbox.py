"""The offline outbox on a phone (issue 22): what a facilitator does without a network is
kept in the browser, survives a closed page, and is applied exactly once when the network
returns; a need changed meanwhile is shown in both versions for the person to choose; a
send cut off after the server took it is not doubled; a session that ended keeps the
queue for the same person signing in again, and a person who lost the role sees why."""

import datetime
import io
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from PIL import Image

from collaborators.models import Collaborator
from commitments.models import Commitment, Delivery, DeliveryProof
from commitments.needs.upkeep import need_update
from locations.models import Area, Facilitator, Need, NeedChange
from programs.models import DonationForm

from .browser import (
    PASSWORD,
    assert_fits_a_thumb,
    go_offline,
    go_online,
    phone_context,
    sign_in,
    wait_offline_ready,
    watch_errors,
)

pytestmark = pytest.mark.browser

BADGE_SAYS = "(n) => { const b = document.getElementById('outbox-badge');"
BADGE_SAYS += " return b && !b.hidden && b.dataset.count === String(n); }"
OUTBOX_EMPTY = "() => document.body.dataset.outboxCount === '0'"
LISTED = "(n) => { const p = document.getElementById('outbox-page');"
LISTED += " return p && p.dataset.ready && p.dataset.count === String(n); }"


def set_network(context, online: bool) -> None:
    (go_online if online else go_offline)(context)


def field_world(tag: str):
    """A kelurahan facilitator, an open need in one of its RW, a committed offline
    commitment there with a delivery waiting for receipt, and a verified collaborator."""
    rw = Area.objects.filter(level="rw", is_residential=True).select_related("parent")
    rw = rw.order_by("?")[0]
    email = f"fasil-{tag}-{uuid.uuid4().hex[:6]}@example.org"
    user = get_user_model().objects.create_user(email, email, PASSWORD)
    Facilitator.objects.create(user=user, area=rw.parent, title=f"Lurah {rw.parent.name}")
    groceries = DonationForm.objects.get(program__slug="pangan", slug="groceries")
    need = Need.objects.create(
        area=rw,
        program=groceries.program,
        donation_form=groceries,
        quantity_needed=100,
        unit_value_idr=300_000,
        households=50,
        valid_until=timezone.localdate() + datetime.timedelta(days=60),
        description="awal",
    )
    collaborator = Collaborator.objects.create(
        name=f"Paguyuban {tag} {uuid.uuid4().hex[:4]}",
        slug=f"pg-{uuid.uuid4().hex[:8]}",
        kind="community",
        verification_status="verified",
    )
    commitment = Commitment.objects.create(
        collaborator=collaborator,
        need=need,
        area=rw,
        program=need.program,
        donation_form=groceries,
        quantity=10,
        status="delivered",
        channel="offline",
        idempotency_key=uuid.uuid4().hex,
    )
    Need.objects.filter(pk=need.pk).update(quantity_claimed=10)
    delivery = Delivery.objects.create(
        commitment=commitment, quantity=10, delivered_on=timezone.localdate()
    )
    return {
        "user": user,
        "email": email,
        "rw": rw,
        "need": need,
        "collaborator": collaborator,
        "commitment": commitment,
        "delivery": delivery,
        "form": groceries,
    }


def big_photo(tmp_path) -> str:
    path = tmp_path / "bukti.jpg"
    Image.new("RGB", (3200, 2400), (40, 120, 200)).save(path, "JPEG", quality=90)
    return str(path)


def unexpected(errors: list[str]) -> list[str]:
    """The page's errors but the console lines Chromium writes for the API's refusals the
    tests provoke (a conflict, a sign-in needed, a refusal, a cut connection)."""
    return [
        e
        for e in errors
        if not ("Failed to load resource" in e and "/api/v1/" in e)
        and "ERR_CONNECTION_RESET" not in e
    ]


def open_signed_in(chromium, live_portal, email):
    context = phone_context(chromium)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors = watch_errors(page)
    sign_in(page, live_portal, email)
    page.goto(f"{live_portal}/ruang-kerja/")
    wait_offline_ready(page)
    return context, page, errors


def edit_need_offline(page, live_portal, need, quantity: str, note: str) -> None:
    page.goto(f"{live_portal}/ruang-kerja/kebutuhan/{need.pk}/ubah/")
    page.fill("#id_quantity_needed", quantity)
    page.fill("#id_description", note)
    page.click("form[data-outbox] button[type=submit]")
    page.wait_for_selector("form[data-outbox] .outbox-saved")


def test_actions_made_offline_are_kept_and_applied_once(
    chromium, live_portal, django_db_blocker, tmp_path
):
    with django_db_blocker.unblock():
        world = field_world("utama")
    need, commitment, delivery = world["need"], world["commitment"], world["delivery"]
    context, page, errors = open_signed_in(chromium, live_portal, world["email"])
    set_network(context, online=False)

    edit_need_offline(page, live_portal, need, "140", "dicek ulang tanpa sinyal")

    page.goto(f"{live_portal}{commitment.get_absolute_url()}")
    receipt = page.locator("form[data-outbox=delivery-confirm]")
    receipt.locator("input[type=file]").set_input_files(big_photo(tmp_path))
    receipt.locator("button[type=submit]").click()
    receipt.locator(".outbox-saved").wait_for()

    page.goto(f"{live_portal}/ruang-kerja/luring/baru/")
    page.select_option("#id_collaborator", str(world["collaborator"].pk))
    page.fill("#id_area", world["rw"].code)
    # Past the area search's 250 ms pause: offline it sends nothing, so no failed request.
    page.wait_for_timeout(400)
    page.select_option("#id_donation_form", str(world["form"].pk))
    page.fill("#id_quantity", "7")
    page.click("form.offline-form button[type=submit].primary")
    page.wait_for_selector("form.offline-form .outbox-saved")
    page.wait_for_function(BADGE_SAYS, arg=3)
    page.close()

    # Reopened, still offline: the three wait, on the badge and on the outbox page.
    page = context.new_page()
    errors += watch_errors(page)
    page.goto(f"{live_portal}/ruang-kerja/antrean/")
    page.wait_for_function(LISTED, arg=3)
    page.wait_for_function(BADGE_SAYS, arg=3)
    assert "Menunggu dikirim (3)" in page.inner_text("#outbox-badge")
    assert page.locator(".outbox-item[data-state=waiting]").count() == 3
    assert "1 foto" in page.inner_text(".outbox-item[data-kind=delivery-confirm]")
    assert_fits_a_thumb(page, "outbox-waiting")
    with django_db_blocker.unblock():
        assert Need.objects.get(pk=need.pk).quantity_needed == 100
        assert not Commitment.objects.filter(collaborator=world["collaborator"], quantity=7)

    set_network(context, online=True)
    page.wait_for_function(OUTBOX_EMPTY)
    page.wait_for_function(LISTED, arg=0)
    assert page.locator("#outbox-badge").is_hidden()
    with django_db_blocker.unblock():
        need.refresh_from_db()
        assert (need.quantity_needed, need.description) == (140, "dicek ulang tanpa sinyal")
        assert NeedChange.objects.filter(need=need, action="updated").count() == 1
        delivery.refresh_from_db()
        assert delivery.confirmed_at is not None
        photos = DeliveryProof.objects.filter(delivery=delivery)
        assert photos.count() == 1
        with photos[0].file.open("rb") as stored:
            assert max(Image.open(io.BytesIO(stored.read())).size) <= 1600
        recorded = Commitment.objects.filter(
            collaborator=world["collaborator"], channel="offline", quantity=7
        )
        assert recorded.count() == 1
    context.close()
    assert unexpected(errors) == []


def test_a_need_changed_meanwhile_shows_both_versions_and_the_person_chooses(
    chromium, live_portal, django_db_blocker
):
    with django_db_blocker.unblock():
        world = field_world("konflik")
        other = get_user_model().objects.create_user(f"rw-{uuid.uuid4().hex[:6]}@example.org")
        Facilitator.objects.create(user=other, area=world["rw"], title="Ketua RW")
    need = world["need"]
    context, page, errors = open_signed_in(chromium, live_portal, world["email"])
    set_network(context, online=False)
    edit_need_offline(page, live_portal, need, "150", "versi lurah")
    with django_db_blocker.unblock():  # meanwhile, the head of the RW changes it too
        need_update(actor=other, need_id=need.pk, expected_version=1, quantity_needed=90)

    page.goto(f"{live_portal}/ruang-kerja/antrean/")
    page.wait_for_function(LISTED, arg=1)
    set_network(context, online=True)
    item = page.locator(".outbox-item[data-state=conflict]")
    item.wait_for()
    text = item.inner_text()
    assert "Versi Anda" in text and "Versi sekarang" in text
    row = item.locator("tr.differs", has_text="Jumlah yang dibutuhkan")
    assert "150" in row.inner_text() and "90" in row.inner_text()
    assert_fits_a_thumb(page, "outbox-conflict")
    with django_db_blocker.unblock():
        assert Need.objects.get(pk=need.pk).quantity_needed == 90  # nothing overwritten

    item.locator("button.outbox-keep-mine").click()
    page.wait_for_function(LISTED, arg=0)
    with django_db_blocker.unblock():
        need.refresh_from_db()
        assert (need.quantity_needed, need.description, need.version) == (150, "versi lurah", 3)
        history = NeedChange.objects.filter(need=need, action="updated").order_by("pk")
        assert [h.actor_id for h in history] == [other.pk, world["user"].pk]
    context.close()
    assert unexpected(errors) == []


def test_a_send_cut_off_after_the_server_took_it_is_not_doubled(
    chromium, live_portal, django_db_blocker
):
    with django_db_blocker.unblock():
        world = field_world("putus")
    need = world["need"]
    context, page, errors = open_signed_in(chromium, live_portal, world["email"])
    set_network(context, online=False)
    edit_need_offline(page, live_portal, need, "111", "sinyal putus")
    page.goto(f"{live_portal}/ruang-kerja/luring/baru/")
    page.select_option("#id_collaborator", str(world["collaborator"].pk))
    page.fill("#id_area", world["rw"].code)
    page.select_option("#id_donation_form", str(world["form"].pk))
    page.fill("#id_quantity", "4")
    page.click("form.offline-form button[type=submit].primary")
    page.wait_for_selector("form.offline-form .outbox-saved")

    # The server takes each request, but the first answer of each never arrives. Routed on
    # the context, so that a send by the service worker (background sync) meets it too.
    cut = set()

    def lose_first_answer(route):
        response = route.fetch()
        key = route.request.url
        if key not in cut:
            cut.add(key)
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    context.route("**/api/v1/**", lose_first_answer)
    page.goto(f"{live_portal}/ruang-kerja/antrean/")
    page.wait_for_function(LISTED, arg=2)
    set_network(context, online=True)
    # Each lost answer is a network failure: kept, and sent again after a short back-off.
    page.wait_for_function(OUTBOX_EMPTY, timeout=60_000)
    assert len(cut) == 2
    with django_db_blocker.unblock():
        need.refresh_from_db()
        assert need.quantity_needed == 111
        assert NeedChange.objects.filter(need=need, action="updated").count() == 1
        recorded = Commitment.objects.filter(collaborator=world["collaborator"], quantity=4)
        assert recorded.count() == 1
    context.close()
    assert unexpected(errors) == []


def test_a_session_ended_offline_keeps_the_queue_for_the_same_person(
    chromium, live_portal, django_db_blocker
):
    with django_db_blocker.unblock():
        world = field_world("sesi")
        demoted = field_world("turun")
    need = world["need"]
    context, page, errors = open_signed_in(chromium, live_portal, world["email"])
    set_network(context, online=False)
    edit_need_offline(page, live_portal, need, "123", "setelah masuk lagi")
    context.clear_cookies()  # the session ended while offline
    set_network(context, online=True)
    # Waited for as one state: a retry meanwhile shows "waiting" until its answer comes back.
    page.wait_for_function(
        "() => { const b = document.getElementById('outbox-badge');"
        " return b.classList.contains('outbox-sign-in')"
        " && b.innerText.includes('Masuk lagi untuk mengirim'); }"
    )
    with django_db_blocker.unblock():
        assert Need.objects.get(pk=need.pk).quantity_needed == 100

    sign_in(page, live_portal, world["email"])
    page.wait_for_function(OUTBOX_EMPTY)
    with django_db_blocker.unblock():
        assert Need.objects.get(pk=need.pk).quantity_needed == 123
    context.close()

    # Someone who lost the facilitator role meanwhile: refused, with the reason, kept.
    context, page, more_errors = open_signed_in(chromium, live_portal, demoted["email"])
    set_network(context, online=False)
    edit_need_offline(page, live_portal, demoted["need"], "99", "tidak berhak lagi")
    context.clear_cookies()
    with django_db_blocker.unblock():
        Facilitator.objects.filter(user=demoted["user"]).delete()
    set_network(context, online=True)
    sign_in(page, live_portal, demoted["email"])
    page.goto(f"{live_portal}/ruang-kerja/antrean/")
    item = page.locator(".outbox-item[data-state=refused]")
    item.wait_for()
    assert "Anda tidak" in item.locator(".outbox-reason").inner_text()
    page.reload()
    item.wait_for()  # kept until dismissed
    item.locator("button.outbox-dismiss").click()
    page.wait_for_function(LISTED, arg=0)
    with django_db_blocker.unblock():
        assert Need.objects.get(pk=demoted["need"].pk).quantity_needed == 100
    context.close()
    assert unexpected(errors + more_errors) == []

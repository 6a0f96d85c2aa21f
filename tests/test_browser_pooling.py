"""On a phone (390x844), the chain through an aggregator: a source gives to a zakat agency,
the agency confirms receipt and commits the pooled gift to needs in two RW, the RW head
(the executor's facilitator) receives the delivery and records its distribution with
proof, and the source sees every hop of its gift."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from collaborators.models import Collaborator, Membership
from commitments.lifecycle.transitions import commitment_transition, delivery_record
from commitments.models import Commitment
from commitments.pooling.models import Contribution
from locations.models import Area, Facilitator

from .browser import PASSWORD, assert_fits_a_thumb, phone_context, sign_in, watch_errors
from .factories import NeedFactory
from .world import PROOF

pytestmark = pytest.mark.browser

RW_CODES = ("31.73.04.1002.001", "31.73.04.1002.002")


def person(label: str, collaborator=None):
    email = f"{label}-{uuid.uuid4().hex[:6]}@example.org"
    user = get_user_model().objects.create_user(email, email, PASSWORD)
    if collaborator is not None:
        Membership.objects.create(user=user, collaborator=collaborator, role="owner")
    return user


def collaborator(name: str, **fields) -> Collaborator:
    return Collaborator.objects.create(
        name=name, slug=f"c-{uuid.uuid4().hex[:10]}", kind="company",
        verification_status="verified", **fields,
    )  # fmt: skip


def signed_in_page(chromium, live_portal, user):
    context = phone_context(chromium)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors = watch_errors(page)
    sign_in(page, live_portal, user.email)
    return context, page, errors


def test_a_gift_travels_through_an_aggregator_to_two_rw_on_a_phone(
    chromium, live_portal, django_db_blocker, tmp_path, settings
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    with django_db_blocker.unblock():
        source = collaborator(f"PT Dermawan {uuid.uuid4().hex[:4]}")
        agency = collaborator(f"Baznas Uji {uuid.uuid4().hex[:4]}", is_aggregator=True)
        giver, agent = person("sumber", source), person("amil", agency)
        rws = [Area.objects.get(code=code) for code in RW_CODES]
        needs = [NeedFactory(area=rw, quantity_needed=10, priority=1) for rw in rws]
        rw_head = person("ketua-rw")
        Facilitator.objects.create(user=rw_head, area=rws[0], title="Ketua RW 001")

    # The source finds the agency's public page and gives 1,500,000 IDR through it.
    context, page, errors = signed_in_page(chromium, live_portal, giver)
    page.goto(f"{live_portal}/kolaborator/{agency.slug}/")
    assert_fits_a_thumb(page, "pooling-give-through")
    page.click(f"main a.button[href$='?aggregator={agency.pk}']")
    assert page.input_value("#id_aggregator") == str(agency.pk)
    page.check("#id_kind_0")
    page.fill("#id_amount", "1500000")
    assert_fits_a_thumb(page, "pooling-give")
    with page.expect_navigation():
        page.click("form.give-form button[type=submit]")
    gift_url = page.url
    with django_db_blocker.unblock():
        gift = Contribution.objects.get(source=source)
    assert gift_url.endswith(gift.get_absolute_url())
    context.close()
    assert errors == []

    # The agency finds the gift to confirm from its workspace, confirms receipt, then
    # commits to a need in each RW.
    context, page, errors = signed_in_page(chromium, live_portal, agent)
    page.goto(f"{live_portal}/ruang-kerja/")
    page.click(f"main a[href$='/ruang-kerja/agregator/{agency.slug}/']")
    page.click(f"main a.button[href$='{gift.get_absolute_url()}']")
    page.fill("#id_receipt_number", "BZ/2026/0042")
    page.fill("#id_received_on", timezone.localdate().isoformat())
    with page.expect_navigation():
        page.click("form.receive-form button[type=submit]")
    assert "BZ/2026/0042" in page.inner_text("main")
    for need, share in zip(needs, ("900000", "600000"), strict=True):
        page.goto(f"{live_portal}/ruang-kerja/agregator/{agency.slug}/")
        page.fill("#find-area", need.area.code)
        with page.expect_navigation():
            page.click("form.find-needs button[type=submit]")
        assert_fits_a_thumb(page, "pooling-aggregator")
        page.click(f"a[href$='/komit/{need.pk}/']")
        page.fill("#id_quantity", str(int(share) // 300_000))
        page.fill(f"#id_share_{gift.pk}", share)
        assert_fits_a_thumb(page, "pooling-commit")
        with page.expect_navigation():
            page.click("form.pooled-form button[type=submit]")
        page.wait_for_url("**/komitmen/*/")
        assert source.name in page.inner_text("main")  # funded by
    context.close()
    assert errors == []

    with django_db_blocker.unblock():
        commitment = Commitment.objects.get(need=needs[0])
        assert Commitment.objects.filter(collaborator=agency).count() == 2
        assert Contribution.objects.get(pk=gift.pk).left == 0
        commitment_transition(commitment_id=commitment.pk, target="committed", actor=rw_head)
        delivery = delivery_record(
            commitment_id=commitment.pk,
            actor=agent,
            quantity=3,
            delivered_on=timezone.localdate(),
            recipients_households=None,
            recipients_persons=None,
            proofs=[PROOF],
        )

    # The RW head confirms receipt and records the distribution with its proof.
    context, page, errors = signed_in_page(chromium, live_portal, rw_head)
    page.goto(f"{live_portal}{commitment.get_absolute_url()}")
    with page.expect_navigation():
        page.click(f"form[action$='/penyaluran/{delivery.pk}/terima/'] button")
    # From the workspace's "to distribute (1)" to the list, and on to the form.
    page.goto(f"{live_portal}/ruang-kerja/")
    page.click("main a[href$='/ruang-kerja/distribusi/']")
    assert_fits_a_thumb(page, "pooling-to-distribute")
    page.click(f"a[href$='/penyaluran/{delivery.pk}/distribusi/']")
    page.fill("#id_households", "3")
    page.fill("#id_persons", "11")
    proof = tmp_path / "distribusi.pdf"
    proof.write_bytes(b"%PDF-1.4\n%%EOF\n")
    page.set_input_files("#id_proof", str(proof))
    assert_fits_a_thumb(page, "pooling-distribution")
    with page.expect_navigation():
        page.click("form.distribution-form button[type=submit]")
    assert "11 jiwa" in page.inner_text("main")
    context.close()
    assert errors == []

    # The source follows the gift: the receipt, both RW, the delivery and the distribution.
    context, page, errors = signed_in_page(chromium, live_portal, giver)
    page.goto(gift_url)
    body = page.inner_text("main")
    assert "BZ/2026/0042" in body
    for rw in rws:
        assert rw.name in body
    assert "11 jiwa" in body
    assert page.locator("a[href*='/distribusi/']").count() == 1
    assert_fits_a_thumb(page, "pooling-gift-hops")
    context.close()
    assert errors == []

"""The admin works for every model: list, search and change pages answer 200 for staff."""

import pytest
from django.contrib import admin
from django.urls import reverse

from commitments.figures.summaries import summaries_rebuild
from commitments.models import (
    Commitment,
    CommitmentRollup,
    CommitmentSummary,
    Delivery,
    NeedImport,
)

from .factories import CommitmentFactory, UserFactory
from .world import direct_group_by, summaries

pytestmark = pytest.mark.django_db


def test_every_registered_model_lists_searches_and_opens(client):
    CommitmentFactory()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        listing = client.get(reverse(f"{prefix}_changelist"), {"q": "kali"})
        assert listing.status_code == 200, model
        obj = model_admin.get_queryset(listing.wsgi_request).first()
        if obj is not None:
            change = client.get(reverse(f"{prefix}_change", args=[obj.pk]))
            assert change.status_code == 200, model


def test_staff_assign_facilitators_and_leads_in_the_admin(client):
    from locations.models import Area, Facilitator

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    lurah = UserFactory()
    kali_anyar = Area.objects.get(code="31.73.04.1002")
    response = client.post(
        reverse("admin:locations_facilitator_add"),
        {
            "user": lurah.pk,
            "area": kali_anyar.pk,
            "title": "Lurah Kali Anyar",
            "assigned_at_0": "2026-11-01",
            "assigned_at_1": "08:00:00",
        },
    )
    assert response.status_code == 302
    assert Facilitator.objects.get(user=lurah).area == kali_anyar


def test_the_admin_edits_no_figure_of_a_commitment_or_delivery(client):
    """Figures move only through the services, which keep needs, summaries and totals:
    the admin edits the note, the planned date and anonymity, and adds or deletes
    neither commitments nor deliveries."""
    commitment = CommitmentFactory(quantity=5, value_idr=500_000)
    delivery = Delivery.objects.create(
        commitment=commitment, quantity=2, delivered_on="2026-11-20", recipients_persons=8
    )
    summaries_rebuild()
    before = summaries()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:commitments_commitment_change", args=[commitment.pk])
    page = client.get(url)
    assert 'name="note"' in page.text and 'name="quantity"' not in page.text
    response = client.post(
        url,
        {
            "note": "Dicek admin",
            "is_anonymous": "on",
            "planned_delivery_on": "2026-12-01",
            "quantity": "900",
            "value_idr": "1",
            "status": "completed",
            # The inlines' management forms, as the page sends them.
            "deliveries-TOTAL_FORMS": "1",
            "deliveries-INITIAL_FORMS": "1",
            "deliveries-MIN_NUM_FORMS": "0",
            "deliveries-MAX_NUM_FORMS": "1000",
            "deliveries-0-id": delivery.pk,
            "deliveries-0-commitment": commitment.pk,
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.text[:2000]
    commitment.refresh_from_db()
    assert commitment.note == "Dicek admin" and commitment.is_anonymous
    assert (commitment.quantity, commitment.value_idr, commitment.status) == (5, 500_000, "pledged")
    assert summaries() == before == direct_group_by()
    assert CommitmentSummary.objects.exists()

    delivery_url = reverse("admin:commitments_delivery_change", args=[delivery.pk])
    response = client.post(
        delivery_url,
        {
            "note": "Foto buram",
            "quantity": "50",
            "recipients_persons": "999",
            "proofs-TOTAL_FORMS": "0",
            "proofs-INITIAL_FORMS": "0",
            "proofs-MIN_NUM_FORMS": "0",
            "proofs-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.text[:2000]
    delivery.refresh_from_db()
    assert (delivery.note, delivery.quantity, delivery.recipients_persons) == ("Foto buram", 2, 8)

    for name in ("commitment", "delivery"):
        assert client.get(reverse(f"admin:commitments_{name}_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:commitments_commitment_delete", args=[commitment.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Commitment.objects.filter(pk=commitment.pk).exists()


def test_summaries_imports_and_need_history_are_shown_for_inspection_only(client):
    """Rows only services and jobs write: listed and opened, never added, changed or
    deleted through the admin."""
    from locations.models import NeedChange

    from .factories import NeedFactory

    commitment = CommitmentFactory()
    summaries_rebuild()
    need = NeedFactory()
    NeedChange.objects.create(need=need, action=NeedChange.Action.UPDATED, reason="dicek")
    uploaded = NeedImport.objects.create(
        uploaded_by=UserFactory(), file="imports/kebutuhan.csv", file_name="kebutuhan.csv",
        format="csv", rows_total=3,
    )  # fmt: skip
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    summary = CommitmentSummary.objects.get(area=commitment.area)
    for prefix, obj in (
        ("commitments_commitmentsummary", summary),
        (
            "commitments_commitmentrollup",
            CommitmentRollup.objects.filter(program=summary.program).first(),
        ),
        ("locations_needchange", NeedChange.objects.get(need=need)),
        ("commitments_needimport", uploaded),
    ):
        assert obj is not None, prefix
        assert client.get(reverse(f"admin:{prefix}_add")).status_code == 403
        url = reverse(f"admin:{prefix}_change", args=[obj.pk])
        page = client.get(url)
        assert page.status_code == 200 and 'name="count"' not in page.text
        client.post(url, {"count": 999, "reason": "diubah", "quantity": 999, "rows_total": 9})
        delete = reverse(f"admin:{prefix}_delete", args=[obj.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert type(obj).objects.filter(pk=obj.pk).exists()
    summary.refresh_from_db()
    assert summary.count == 1
    assert NeedChange.objects.get(need=need).reason == "dicek"
    uploaded.refresh_from_db()
    assert uploaded.rows_total == 3
    assert summaries() == direct_group_by()


def test_the_chain_through_aggregators_is_read_only_in_the_admin(client, settings, tmp_path):
    """Gifts, shares and distributions move only through commitments.pooling.rules (the
    conditional draw, the receipt, the release): the admin lists and shows them, and adds,
    changes and deletes none."""
    from commitments.pooling.models import Allocation, Contribution, Distribution
    from locations.models import Area

    from .factories import CollaboratorFactory, NeedFactory, facilitator_of, member_of
    from .pooling_world import make_pooled_chain

    settings.PRIVATE_MEDIA_ROOT = tmp_path
    source = CollaboratorFactory(name="PT Sumber Admin")
    need = NeedFactory(area=Area.objects.get(code="31.73.04.1002.001"), quantity_needed=10)
    chain = make_pooled_chain(
        source=source,
        source_member=member_of(source),
        need=need,
        facilitator=facilitator_of("31.73.04.1002.001"),
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for prefix, obj in (
        ("pooling_contribution", chain.gift),
        ("pooling_allocation", Allocation.objects.get(contribution=chain.gift)),
        ("pooling_distribution", chain.distribution),
    ):
        listing = client.get(reverse(f"admin:{prefix}_changelist"), {"q": "Sumber"})
        assert listing.status_code == 200, prefix
        assert client.get(reverse(f"admin:{prefix}_add")).status_code == 403
        url = reverse(f"admin:{prefix}_change", args=[obj.pk])
        page = client.get(url)
        assert page.status_code == 200 and 'name="amount"' not in page.text, prefix
        assert 'name="quantity"' not in page.text
        client.post(url, {"amount": 999, "committed": 0, "quantity": 99, "status": "refused"})
        delete = reverse(f"admin:{prefix}_delete", args=[obj.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert type(obj).objects.filter(pk=obj.pk).exists()
    gift = Contribution.objects.get(pk=chain.gift.pk)
    assert (gift.amount, gift.committed, gift.status) == (5, 2, "received")
    assert Distribution.objects.get().quantity == 1
    # The gift's page shows its shares (inline), read-only.
    page = client.get(reverse("admin:pooling_contribution_change", args=[gift.pk]))
    assert f"#{chain.commitment.pk}" in page.text

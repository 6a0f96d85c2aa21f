"""The chain through aggregators and executors: a source gives to an aggregator, which
confirms receipt, pools, and commits to needs in its own name funded by shares of received
gifts; an executor's facilitator records the distribution of a confirmed delivery; the
source follows its gift through every hop. Pooled money is never committed twice, and
comes back when a commitment ends without delivery."""

import datetime
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commitments.housekeeping.demo import seed_demo
from commitments.lifecycle.pledges import PledgeRefused
from commitments.lifecycle.pooled import commitment_pledge_pooled
from commitments.lifecycle.transitions import (
    commitment_transition,
    commitments_expire,
    delivery_confirm,
    delivery_record,
)
from commitments.models import Commitment
from commitments.pooling.demo import AGENCY, AGENCY_USER
from commitments.pooling.models import Allocation, Contribution, Distribution
from commitments.pooling.rules import (
    PoolRefused,
    Share,
    contribution_declare,
    distribution_record,
)
from locations.models import Area, Need
from programs.models import DonationForm

from .factories import (
    CollaboratorFactory,
    UserFactory,
    facilitator_of,
    member_of,
    pangan_groceries,
)
from .pooling_world import RW_1, RW_2, Chain
from .world import PROOF, in_days, signed_in

GIVE = reverse("pooling-give")


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


@pytest.fixture
def chain(db):
    return Chain()


def pdf(name="bukti.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")


def reload(gift):
    return Contribution.objects.get(pk=gift.pk)


# --- a source gives; the aggregator receives or refuses ----------------------------------------


def test_a_source_gives_and_the_aggregator_confirms_receipt(chain):
    source = signed_in(chain.source_member)
    assert source.get(GIVE).status_code == 200
    response = source.post(
        GIVE,
        {
            "key": uuid.uuid4().hex,
            "source": chain.source.pk,
            "aggregator": chain.agency.pk,
            "kind": "money",
            "amount": 2_000_000,
            "note": "Zakat mal",
        },
    )
    gift = Contribution.objects.get(source=chain.source)
    assert response.status_code == 302 and response["Location"] == gift.get_absolute_url()
    assert (gift.status, gift.amount, gift.committed) == ("declared", 2_000_000, 0)
    page = source.get(gift.get_absolute_url()).content.decode()
    assert "Baznas (Bazis) Uji" in page and "Rp" in page

    # The source cannot confirm its own gift; the aggregator's member can.
    receipt = {"receipt_number": "BZ/2026/001", "received_on": timezone.localdate().isoformat()}
    assert source.post(reverse("pooling-receive", args=[gift.pk]), receipt).status_code == 403
    agency = signed_in(chain.agency_member)
    assert "BZ/2026/001" not in agency.get(gift.get_absolute_url()).content.decode()
    agency.post(reverse("pooling-receive", args=[gift.pk]), receipt)
    gift = reload(gift)
    assert (gift.status, gift.receipt_number) == ("received", "BZ/2026/001")
    assert "BZ/2026/001" in source.get(gift.get_absolute_url()).content.decode()
    # Received once: a second decision changes nothing.
    agency.post(reverse("pooling-refuse", args=[gift.pk]), {"reason": "salah"})
    assert reload(gift).status == "received"


def test_a_refused_gift_cannot_fund_anything(chain):
    gift = chain.gift(received=False)
    agency = signed_in(chain.agency_member)
    agency.post(reverse("pooling-refuse", args=[gift.pk]), {"reason": "Dana tidak masuk"})
    assert reload(gift).status == "refused"
    with pytest.raises(PledgeRefused, match="belum diterima"):
        chain.commit(chain.needs[0], 1, [(gift, 300_000)])
    assert (
        not Commitment.objects.exists()
        and Need.objects.get(pk=chain.needs[0].pk).quantity_claimed == 0
    )


def test_a_declared_gift_cannot_be_drawn_before_receipt(chain):
    gift = chain.gift(received=False)
    with pytest.raises(PledgeRefused):
        chain.commit(chain.needs[0], 1, [(gift, 300_000)])
    assert not Commitment.objects.exists() and reload(gift).committed == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"amount": 0},
        {"amount": 10**16},
        {"amount": "1e3"},
        {"kind": "goods"},  # goods without saying which
        {"aggregator": "self"},
        {"note": "x" * 1001},
        {"note": "a\x00b"},
    ],
)
def test_bad_gifts_are_refused_with_nothing_written(chain, fields):
    data = {
        "key": uuid.uuid4().hex,
        "source": chain.source.pk,
        "aggregator": chain.agency.pk,
        "kind": "money",
        "amount": 100_000,
    }
    data.update(fields)
    if data["aggregator"] == "self":
        data["aggregator"] = chain.source.pk  # not an aggregator, and itself
    response = signed_in(chain.source_member).post(GIVE, data)
    assert response.status_code == 400
    if not any(
        "\x00" in str(v) for v in fields.values()
    ):  # NUL bytes are answered before the view (bad_character)
        assert 'class="errorlist' in response.content.decode()
    assert not Contribution.objects.exists()


def test_giving_for_a_collaborator_one_does_not_belong_to_is_refused(chain):
    data = {
        "key": uuid.uuid4().hex,
        "source": chain.other_source.pk,
        "aggregator": chain.agency.pk,
        "kind": "money",
        "amount": 100_000,
    }
    assert signed_in(chain.source_member).post(GIVE, data).status_code == 400
    with pytest.raises(PoolRefused):
        contribution_declare(
            user=chain.source_member,
            source=chain.other_source,
            aggregator=chain.agency,
            kind="money",
            amount=1,
            idempotency_key="k",
        )
    assert not Contribution.objects.exists()


def test_the_same_gift_submitted_twice_is_one_gift(chain):
    data = {
        "key": uuid.uuid4().hex,
        "source": chain.source.pk,
        "aggregator": chain.agency.pk,
        "kind": "money",
        "amount": 100_000,
    }
    client = signed_in(chain.source_member)
    client.post(GIVE, data)
    client.post(GIVE, data)
    assert Contribution.objects.count() == 1


# --- drawing on the pool --------------------------------------------------------------------------


def commit_url(chain, need):
    return reverse("pooling-commit", args=[chain.agency.slug, need.pk])


def test_the_aggregator_commits_pooled_gifts_to_two_rw(chain):
    first, second = chain.gift(1_000_000), chain.gift(500_000, source=chain.other_source)
    agency = signed_in(chain.agency_member)
    page = agency.get(reverse("pooling-aggregator", args=[chain.agency.slug])).content.decode()
    assert "1.500.000" in page  # held, all of it left
    assert commit_url(chain, chain.needs[0]) in page

    form = agency.get(commit_url(chain, chain.needs[0])).content.decode()
    assert f'name="share_{first.pk}"' in form and f'name="share_{second.pk}"' in form
    response = agency.post(
        commit_url(chain, chain.needs[0]),
        {
            "key": uuid.uuid4().hex,
            "quantity": 3,
            "planned_delivery_on": in_days(7),
            f"share_{first.pk}": 600_000,
            f"share_{second.pk}": 300_000,
        },
    )
    commitment = Commitment.objects.get()
    assert response.status_code == 302 and response["Location"] == commitment.get_absolute_url()
    assert (commitment.collaborator, commitment.quantity, commitment.value_idr) == (
        chain.agency,
        3,
        900_000,
    )
    assert (reload(first).committed, reload(second).committed) == (600_000, 300_000)
    chain.commit(chain.needs[1], 2, [(first, 400_000), (second, 200_000)])
    assert (reload(first).left, reload(second).left) == (0, 0)
    page = agency.get(reverse("pooling-aggregator", args=[chain.agency.slug])).content.decode()
    assert RW_2.rsplit(".", 1)[0] not in page or "Rp" in page
    detail = signed_in(chain.rw_heads[0]).get(commitment.get_absolute_url()).content.decode()
    assert "PT Sumber Rezeki" in detail and "Arisan Melati" in detail and "KW-" in detail


def test_drawing_more_than_is_left_is_refused_with_nothing_written(chain):
    gift = chain.gift(500_000)
    chain.commit(chain.needs[0], 1, [(gift, 300_000)])
    with pytest.raises(PledgeRefused, match="200,000"):
        chain.commit(chain.needs[1], 1, [(gift, 300_000)])
    assert Commitment.objects.count() == 1
    assert Need.objects.get(pk=chain.needs[1].pk).quantity_claimed == 0
    assert reload(gift).committed == 300_000 and Allocation.objects.count() == 1

    # Through the form: the share field knows what is left.
    response = signed_in(chain.agency_member).post(
        commit_url(chain, chain.needs[1]),
        {
            "key": uuid.uuid4().hex,
            "quantity": 1,
            "planned_delivery_on": in_days(7),
            f"share_{gift.pk}": 300_000,
        },
    )
    assert response.status_code == 400 and Commitment.objects.count() == 1


@pytest.mark.parametrize("shares", [[200_000], [400_000], []])
def test_shares_must_add_up_to_the_commitment(chain, shares):
    gift = chain.gift(1_000_000)
    data = {"key": uuid.uuid4().hex, "quantity": 1, "planned_delivery_on": in_days(7)}
    if shares:
        data[f"share_{gift.pk}"] = shares[0]
    response = signed_in(chain.agency_member).post(commit_url(chain, chain.needs[0]), data)
    assert response.status_code in (400, 409)
    assert "300,000" in response.content.decode() or not shares
    assert not Commitment.objects.exists() and reload(gift).committed == 0
    assert Need.objects.get(pk=chain.needs[0].pk).quantity_claimed == 0


def test_goods_fund_a_commitment_of_the_same_goods_by_quantity(chain):
    groceries = pangan_groceries()
    goods = chain.gift(10, kind="goods", donation_form=groceries)
    other_form = DonationForm.objects.exclude(pk=groceries.pk).first()
    wrong = chain.gift(10, kind="goods", donation_form=other_form)
    with pytest.raises(PledgeRefused):
        chain.commit(chain.needs[0], 4, [(wrong, 4)])
    commitment = chain.commit(chain.needs[0], 4, [(goods, 4)])
    assert reload(goods).committed == 4 and commitment.quantity == 4


def test_a_retry_with_the_same_key_draws_once(chain):
    gift = chain.gift(1_000_000)
    first = chain.commit(chain.needs[0], 1, [(gift, 300_000)], key="k1")
    again = chain.commit(chain.needs[0], 1, [(gift, 300_000)], key="k1")
    assert first == again and reload(gift).committed == 300_000


def test_only_the_aggregators_members_commit_its_pool(chain):
    gift = chain.gift(1_000_000)
    url = commit_url(chain, chain.needs[0])
    for user in (chain.source_member, chain.rw_heads[0], UserFactory()):
        client = signed_in(user)
        assert client.get(url).status_code == 404
        data = {"key": uuid.uuid4().hex, "quantity": 1, "planned_delivery_on": in_days(7)}
        assert client.post(url, {**data, f"share_{gift.pk}": 300_000}).status_code == 404
    assert not Commitment.objects.exists()
    other_agency = CollaboratorFactory(is_aggregator=True)
    with pytest.raises(PledgeRefused):
        commitment_pledge_pooled(
            user=member_of(other_agency),
            aggregator=other_agency,
            need=chain.needs[0],
            quantity=1,
            shares=[Share(gift.pk, 300_000)],
            idempotency_key="x",
        )
    assert not Commitment.objects.exists() and reload(gift).committed == 0


# --- release ------------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["cancelled", "rejected", "cancelled_committed", "expired"])
def test_a_commitment_that_ends_without_delivery_returns_its_shares(chain, ending):
    gift = chain.gift(1_000_000)
    commitment = chain.commit(chain.needs[0], 2, [(gift, 600_000)])
    assert reload(gift).left == 400_000
    head = chain.rw_heads[0]
    if ending == "cancelled":
        commitment_transition(
            commitment_id=commitment.pk, target="cancelled", actor=chain.agency_member
        )
    elif ending == "rejected":
        commitment_transition(
            commitment_id=commitment.pk, target="rejected", actor=head, reason="Sudah dipenuhi"
        )
    elif ending == "cancelled_committed":
        commitment_transition(commitment_id=commitment.pk, target="committed", actor=head)
        signed_in(chain.agency_member).post(
            reverse("commitment-status", args=[commitment.pk]), {"target": "cancelled"}
        )
    else:
        assert commitments_expire(now=timezone.now() + datetime.timedelta(days=400)) >= 1
    commitment.refresh_from_db()
    assert commitment.status in ("cancelled", "rejected", "expired")
    gift = reload(gift)
    assert (gift.committed, gift.left) == (0, 1_000_000)
    share = Allocation.objects.get()
    assert share.released_at is not None  # kept, marked returned
    page = signed_in(chain.source_member).get(gift.get_absolute_url()).content.decode()
    assert "Dikembalikan ke dana himpunan" in page
    # The money can fund another commitment now.
    chain.commit(chain.needs[1], 3, [(gift, 900_000)])
    assert reload(gift).committed == 900_000


# --- the executor distributes -------------------------------------------------------------------


def distribution_url(commitment, delivery):
    return reverse("pooling-distribution-create", args=[commitment.pk, delivery.pk])


def test_the_executor_distributes_a_received_delivery_and_never_more(chain):
    gift = chain.gift(1_000_000)
    commitment = chain.commit(chain.needs[0], 3, [(gift, 900_000)])
    head = chain.rw_heads[0]
    commitment_transition(commitment_id=commitment.pk, target="committed", actor=head)
    delivery = delivery_record(
        commitment_id=commitment.pk,
        actor=chain.agency_member,
        quantity=3,
        delivered_on=timezone.localdate(),
        recipients_households=None,
        recipients_persons=None,
        proofs=[PROOF],
    )
    client = signed_in(head)
    today = timezone.localdate().isoformat()
    data = {"quantity": 2, "distributed_on": today, "households": 2, "persons": 7}
    # Not before the receipt is confirmed.
    response = client.post(distribution_url(commitment, delivery), {**data, "proof": pdf()})
    assert response.status_code == 302 and not Distribution.objects.exists()
    with pytest.raises(PoolRefused, match="setelah penerimaan dikonfirmasi"):
        distribution_record(
            user=head,
            delivery_id=delivery.pk,
            quantity=1,
            distributed_on=timezone.localdate(),
            households=None,
            persons=None,
            proof=PROOF,
        )
    delivery_confirm(delivery_id=delivery.pk, actor=head)
    page = client.get(commitment.get_absolute_url()).content.decode()
    assert distribution_url(commitment, delivery) in page
    response = client.post(distribution_url(commitment, delivery), {**data, "proof": pdf()})
    assert response.status_code == 302
    assert Distribution.objects.get().persons == 7
    # Two more than the one left: refused, nothing written.
    response = client.post(
        distribution_url(commitment, delivery), {**data, "quantity": 2, "proof": pdf()}
    )
    assert response.status_code == 400 and Distribution.objects.count() == 1
    with pytest.raises(PoolRefused, match="Hanya tersisa 1 "):
        distribution_record(
            user=head,
            delivery_id=delivery.pk,
            quantity=2,
            distributed_on=timezone.localdate(),
            households=None,
            persons=None,
            proof=PROOF,
        )
    with pytest.raises(PoolRefused):
        distribution_record(
            user=head,
            delivery_id=delivery.pk,
            quantity=1,
            distributed_on=timezone.localdate(),
            households=None,
            persons=10**12,
            proof=PROOF,
        )
    bad = {**data, "quantity": 1, "persons": 10**12, "proof": pdf()}
    assert client.post(distribution_url(commitment, delivery), bad).status_code == 400
    future = {**data, "quantity": 1, "distributed_on": in_days(2), "proof": pdf()}
    assert client.post(distribution_url(commitment, delivery), future).status_code == 409
    no_proof = {**data, "quantity": 1}
    assert client.post(distribution_url(commitment, delivery), no_proof).status_code == 400
    assert Distribution.objects.count() == 1


def test_only_the_executors_facilitator_records_the_distribution(chain):
    gift = chain.gift(1_000_000)
    commitment = chain.commit(chain.needs[0], 1, [(gift, 300_000)])
    delivery = chain.delivered_and_received(commitment)
    data = {"quantity": 1, "distributed_on": timezone.localdate().isoformat()}
    # The aggregator (the commitment's collaborator) sees the page's commitment but may not.
    agency = signed_in(chain.agency_member)
    assert agency.get(distribution_url(commitment, delivery)).status_code == 403
    assert (
        agency.post(distribution_url(commitment, delivery), {**data, "proof": pdf()}).status_code
        == 403
    )
    # Another RW's head does not see the commitment at all.
    other = signed_in(chain.rw_heads[1])
    assert other.get(distribution_url(commitment, delivery)).status_code == 404
    # The kelurahan head covers the RW: the executor's facilitator too.
    lurah = signed_in(facilitator_of("31.73.04.1002", title="Lurah"))
    assert lurah.get(distribution_url(commitment, delivery)).status_code == 200
    assert not Distribution.objects.exists()


# --- the source follows the gift ----------------------------------------------------------------


def test_the_source_sees_every_hop_and_others_see_nothing(chain):
    gift = chain.gift(1_000_000)
    commitments = [
        chain.commit(chain.needs[0], 2, [(gift, 600_000)]),
        chain.commit(chain.needs[1], 1, [(gift, 300_000)]),
    ]
    delivery = chain.delivered_and_received(commitments[0])
    distribution = distribution_record(
        user=chain.rw_heads[0],
        delivery_id=delivery.pk,
        quantity=2,
        distributed_on=timezone.localdate(),
        households=2,
        persons=8,
        proof=PROOF,
        note="Dibagikan di balai RW",
    )
    source = signed_in(chain.source_member)
    mine = source.get(reverse("pooling-my-gifts")).content.decode()
    assert gift.get_absolute_url() in mine
    page = source.get(gift.get_absolute_url()).content.decode()
    for area in Area.objects.filter(code__in=[RW_1, RW_2]):
        assert area.name in page
    assert f"KW-{gift.pk}" in page  # the aggregator's receipt
    proof = delivery.proofs.get()
    delivery_proof = reverse("pooling-chain-proof", args=[gift.pk, proof.pk])
    distribution_proof = reverse(
        "pooling-chain-distribution-proof", args=[gift.pk, distribution.pk]
    )
    assert delivery_proof in page and distribution_proof in page
    assert "8 jiwa" in page  # persons reached, in Indonesian
    assert source.get(delivery_proof).status_code == 200
    assert source.get(distribution_proof).status_code == 200
    # The commitment page itself stays the aggregator's, the RW's and the program's.
    assert source.get(commitments[0].get_absolute_url()).status_code == 404

    # Anyone else: a 404 for the gift, its page of hops and its proofs.
    for user in (chain.other_member, chain.rw_heads[1], UserFactory()):
        stranger = signed_in(user)
        assert stranger.get(gift.get_absolute_url()).status_code == 404
        assert stranger.get(delivery_proof).status_code == 404
        assert stranger.get(distribution_proof).status_code == 404
        assert (
            stranger.get(reverse("pooling-aggregator", args=[chain.agency.slug])).status_code == 404
        )
        assert (
            gift.get_absolute_url()
            not in stranger.get(reverse("pooling-my-gifts")).content.decode()
        )
    # A proof of a commitment the gift does not fund is not reachable through the gift.
    other_gift = chain.gift(300_000, source=chain.other_source)
    assert (
        signed_in(chain.other_member)
        .get(reverse("pooling-chain-proof", args=[other_gift.pk, proof.pk]))
        .status_code
        == 404
    )
    anonymous = signed_in(chain.source_member).__class__()
    assert anonymous.get(gift.get_absolute_url()).status_code == 302  # to sign in


# --- the demo -----------------------------------------------------------------------------------


def test_the_demo_shows_a_zakat_agency_pooling_gifts_into_two_rw(db):
    seed_demo()
    agency = Contribution.objects.filter(aggregator__name=AGENCY).first().aggregator
    gifts = Contribution.objects.filter(aggregator=agency)
    assert gifts.count() == 2 and {g.status for g in gifts} == {"received"}
    assert all(0 < g.committed <= g.amount for g in gifts)
    funded = Commitment.objects.filter(pool_shares__isnull=False).distinct()
    assert funded.values("area").distinct().count() == 2
    for commitment in funded:  # shares add up to each commitment's value
        assert sum(s.amount for s in commitment.pool_shares.all()) == commitment.value_idr
        assert commitment.need.quantity_claimed >= commitment.quantity
    assert Distribution.objects.filter(delivery__commitment__in=funded).count() == 1
    agent = signed_in(get_user_model().objects.get(email=AGENCY_USER))
    page = agent.get(reverse("pooling-aggregator", args=[agency.slug])).content.decode()
    assert "BZ/DEMO/001" not in page and "7.500.000" in page
    donor = signed_in(get_user_model().objects.get(email="donatur.demo@example.org"))
    gift = gifts.get(source__memberships__user__email="donatur.demo@example.org")
    assert "BZ/DEMO/001" in donor.get(gift.get_absolute_url()).content.decode()


def test_the_pages_of_the_chain_read_a_fixed_number_of_queries(chain):
    gift = chain.gift(3_000_000)
    source, agency = signed_in(chain.source_member), signed_in(chain.agency_member)
    aggregator_url = reverse("pooling-aggregator", args=[chain.agency.slug])

    def counts():
        counted = []
        for client, url in ((source, gift.get_absolute_url()), (agency, aggregator_url)):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counted.append(len(queries.captured_queries))
        return counted

    commitment = chain.commit(chain.needs[0], 1, [(gift, 300_000)])
    chain.delivered_and_received(commitment)
    one = counts()
    for need in chain.needs:
        chain.delivered_and_received(chain.commit(need, 2, [(gift, 600_000)]))
    chain.gift(100_000, source=chain.other_source)
    assert counts() == one

"""The exports of a commitment funded from an aggregator's pool: HXL's #org+funding names
the sources (else the collaborator), #org+impl the aggregator or the collaborator; IATI
adds the hop before the commitment (Incoming Funds from each source to the aggregator) and
names the organisations of every hop. Rows are still read set-based: the query count does
not grow with the number of pooled commitments."""

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments.models import Commitment
from commitments.reporting.exports import HASHTAGS, HEADER

from .exports import build
from .factories import CollaboratorFactory
from .pooling_world import Chain

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


def pooled_world():
    chain = Chain()
    named = chain.gift(600_000)
    hidden = chain.gift(300_000, source=chain.other_source, is_anonymous=True)
    pooled = chain.commit(chain.needs[0], 3, [(named, 600_000), (hidden, 300_000)])
    delivery = chain.delivered_and_received(pooled, quantity=2)
    # A gift channelled through the agency by label only (not pooled): the donor funds it.
    donor = CollaboratorFactory(name="Toko Maju")
    labelled = Commitment.objects.create(
        collaborator=donor,
        aggregator=chain.agency,
        need=chain.needs[1],
        area=chain.needs[1].area,
        program=chain.needs[1].program,
        donation_form=chain.needs[1].donation_form,
        quantity=1,
        idempotency_key="label",
    )
    return chain, pooled, labelled, delivery


def test_hxl_names_who_funded_and_who_carried_out_each_commitment():
    chain, pooled, labelled, _delivery = pooled_world()
    rows = list(csv.reader(io.StringIO(build("hxl").decode())))
    assert rows[0] == HEADER and rows[1] == HASHTAGS
    assert "#org+funding" in rows[1] and "#org+impl" in rows[1]
    by_id = {int(row[0]): dict(zip(HEADER, row, strict=True)) for row in rows[2:]}
    assert by_id[pooled.pk]["funding_org"] == "PT Sumber Rezeki; anonymous"
    assert by_id[pooled.pk]["implementing_org"] == chain.agency.name
    assert by_id[pooled.pk]["collaborator"] == chain.agency.name
    assert by_id[labelled.pk]["funding_org"] == "Toko Maju"
    assert by_id[labelled.pk]["implementing_org"] == chain.agency.name


def test_iati_carries_incoming_funds_and_the_organisations_of_every_hop():
    chain, pooled, labelled, delivery = pooled_world()
    activities = {
        int(a["iati_identifier"].rsplit("-", 1)[1]): a
        for a in json.loads(build("iati"))["activities"]
    }
    activity = activities[pooled.pk]
    codes = [t["transaction_type"]["code"] for t in activity["transactions"]]
    assert codes == ["1", "1", "12", "2", "3"]
    incoming = activity["transactions"][:2]
    assert {(t["provider_org"]["narrative"], t["value"]["amount"]) for t in incoming} == {
        ("PT Sumber Rezeki", 600_000),
        ("anonymous", 300_000),
    }
    assert all(t["receiver_org"] == {"narrative": chain.agency.name} for t in incoming)
    assert incoming[0]["transaction_date"] == timezone.localdate().isoformat()
    disbursement = activity["transactions"][-1]
    assert disbursement["provider_org"] == {"narrative": chain.agency.name}
    assert disbursement["receiver_org"]["ref"] == pooled.area.code
    assert disbursement["quantity"] == delivery.quantity
    assert activity["participating_orgs"] == [
        {"role": "1", "narrative": "PT Sumber Rezeki"},
        {"role": "1", "narrative": "anonymous"},
        {"role": "3", "narrative": chain.agency.name},
        {"role": "4", "narrative": chain.agency.name},
    ]
    plain = activities[labelled.pk]
    assert [t["transaction_type"]["code"] for t in plain["transactions"]] == ["12"]
    assert plain["participating_orgs"] == [
        {"role": "1", "narrative": "Toko Maju"},
        {"role": "4", "narrative": chain.agency.name},
    ]


@pytest.mark.parametrize("format_", ["hxl", "iati"])
def test_the_query_count_does_not_grow_with_pooled_commitments(format_):
    chain = Chain()
    gift = chain.gift(3_000_000)
    chain.commit(chain.needs[0], 1, [(gift, 300_000)])
    with CaptureQueriesContext(connection) as one:
        build(format_)
    for _ in range(4):
        chain.commit(chain.needs[1], 1, [(gift, 300_000)])
    with CaptureQueriesContext(connection) as five:
        build(format_)
    assert len(five.captured_queries) == len(one.captured_queries)

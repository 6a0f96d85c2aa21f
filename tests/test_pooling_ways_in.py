"""Ways into the chain through aggregators, seen through real requests: the workspace's
cards (giving, an aggregator's gifts to confirm, an executor's deliveries to distribute),
the "give through ..." action on an aggregator's public page, the aggregator's totals per
program and its ledger of gifts (CSV, XLSX)."""

import csv
import io

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from collaborators.models import Membership
from commitments.lifecycle.transitions import delivery_confirm, delivery_record
from commitments.pooling.models import Distribution
from commitments.pooling.rules import distribution_record

from .factories import CollaboratorFactory, UserFactory, commitment_in
from .pooling_world import Chain
from .world import PROOF, signed_in

WORKSPACE = reverse("workspace")
MY_GIFTS = reverse("pooling-my-gifts")
GIVE = reverse("pooling-give")
TO_DISTRIBUTE = reverse("pooling-to-distribute")


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


@pytest.fixture
def chain(db):
    return Chain()


def aggregator_url(chain):
    return reverse("pooling-aggregator", args=[chain.agency.slug])


# --- the workspace ------------------------------------------------------------------------------


def test_members_of_a_collaborator_find_giving_and_their_gifts_in_the_workspace(chain):
    page = signed_in(chain.source_member).get(WORKSPACE).text
    assert f'href="{GIVE}"' in page and f'href="{MY_GIFTS}"' in page
    # Not an aggregator's member: no gifts to confirm; not a facilitator: nothing to hand on.
    assert aggregator_url(chain) not in page and TO_DISTRIBUTE not in page
    # Someone who gives as no collaborator yet is not offered it.
    nobody = signed_in(UserFactory()).get(WORKSPACE).text
    assert GIVE not in nobody and MY_GIFTS not in nobody


def test_an_aggregators_members_see_the_gifts_to_confirm_counted(chain):
    chain.gift(100_000, received=False)
    chain.gift(200_000, received=False, source=chain.other_source)
    chain.gift(300_000)  # received: no longer waiting
    client = signed_in(chain.agency_member)
    page = client.get(WORKSPACE).text
    assert f'href="{aggregator_url(chain)}"' in page
    assert "Sumbangan perlu dikonfirmasi (2)" in page
    # The count is one query, whatever the number of gifts and aggregators.
    with CaptureQueriesContext(connection) as first:
        client.get(WORKSPACE)
    second_agency = CollaboratorFactory(name="Dompet Uji", is_aggregator=True)
    Membership.objects.create(
        user=chain.agency_member, collaborator=second_agency, role=Membership.Role.MEMBER
    )
    chain.gift(50_000, received=False)
    client = signed_in(chain.agency_member)
    with CaptureQueriesContext(connection) as more:
        page = client.get(WORKSPACE).text
    assert "Sumbangan perlu dikonfirmasi (3)" in page and "Sumbangan perlu dikonfirmasi (0)" in page
    assert len(more.captured_queries) == len(first.captured_queries)
    # Members of the sources see no aggregator's card.
    assert aggregator_url(chain) not in signed_in(chain.source_member).get(WORKSPACE).text


def distribute(chain, delivery, quantity):
    return distribution_record(
        user=chain.rw_heads[0],
        delivery_id=delivery.pk,
        quantity=quantity,
        distributed_on=timezone.localdate(),
        households=None,
        persons=None,
        proof=PROOF,
    )


def test_the_executor_sees_pooled_deliveries_left_to_distribute(chain):
    gift = chain.gift(3_000_000)
    delivery = chain.delivered_and_received(chain.commit(chain.needs[0], 3, [(gift, 900_000)]))
    # A confirmed delivery of an ordinary (not pooled) commitment does not wait here.
    ordinary = commitment_in(
        "committed", need=chain.needs[0], collaborator=chain.source, quantity=1
    )
    delivery_confirm(
        delivery_id=delivery_record(
            commitment_id=ordinary.pk,
            actor=chain.source_member,
            quantity=1,
            delivered_on=timezone.localdate(),
            recipients_households=None,
            recipients_persons=None,
            proofs=[PROOF],
        ).pk,
        actor=chain.rw_heads[0],
    )
    head, other_head = (signed_in(user) for user in chain.rw_heads)
    assert "Perlu dibagikan (1)" in head.get(WORKSPACE).text
    assert "Perlu dibagikan (0)" in other_head.get(WORKSPACE).text
    listing = head.get(TO_DISTRIBUTE)
    create = reverse("pooling-distribution-create", args=[delivery.commitment_id, delivery.pk])
    assert listing.status_code == 200 and f'href="{create}"' in listing.text
    assert create not in other_head.get(TO_DISTRIBUTE).text
    # The link leads to the form the executor fills.
    assert head.get(create).status_code == 200
    distribute(chain, delivery, 2)
    assert "Perlu dibagikan (1)" in head.get(WORKSPACE).text
    distribute(chain, delivery, 1)
    assert Distribution.objects.count() == 2
    assert "Perlu dibagikan (0)" in head.get(WORKSPACE).text
    assert create not in head.get(TO_DISTRIBUTE).text
    # A source or an aggregator is no executor: no card, an empty list.
    assert TO_DISTRIBUTE not in signed_in(chain.agency_member).get(WORKSPACE).text
    assert create not in signed_in(chain.source_member).get(TO_DISTRIBUTE).text


def test_the_count_to_distribute_is_one_query(chain):
    gift = chain.gift(6_000_000)
    head = signed_in(chain.rw_heads[0])
    chain.delivered_and_received(chain.commit(chain.needs[0], 1, [(gift, 300_000)]))
    with CaptureQueriesContext(connection) as first:
        assert "Perlu dibagikan (1)" in head.get(WORKSPACE).text
    for quantity in (2, 3):
        chain.delivered_and_received(
            chain.commit(chain.needs[0], quantity, [(gift, 300_000 * quantity)])
        )
    with CaptureQueriesContext(connection) as more:
        assert "Perlu dibagikan (3)" in head.get(WORKSPACE).text
    assert len(more.captured_queries) == len(first.captured_queries)


# --- the aggregator's public page ---------------------------------------------------------------


def test_an_aggregators_public_page_offers_giving_through_it(chain):
    page_url = reverse("collaborator-detail", args=[chain.agency.slug])
    give_url = f"{GIVE}?aggregator={chain.agency.pk}"
    member_page = signed_in(chain.source_member).get(page_url).text
    assert f'href="{give_url}"' in member_page
    assert f"Menyumbang melalui {chain.agency.name}" in member_page
    # The link chooses the aggregator in the form.
    form = signed_in(chain.source_member).get(give_url).text
    assert f'<option value="{chain.agency.pk}" selected>' in form
    # Not for visitors, nor for users who give as no collaborator, nor for its own members
    # (who get the way to its pooled gifts instead).
    assert give_url not in signed_in(UserFactory()).get(page_url).text
    assert give_url not in Client().get(page_url).text
    own = signed_in(chain.agency_member).get(page_url).text
    assert give_url not in own and f'href="{aggregator_url(chain)}"' in own
    # A collaborator that does not pool gifts offers neither.
    plain = signed_in(chain.other_member).get(
        reverse("collaborator-detail", args=[chain.source.slug])
    )
    assert GIVE not in plain.text
    # Junk in the query string chooses nothing.
    assert signed_in(chain.source_member).get(f"{GIVE}?aggregator=%C2%B2").status_code == 200


# --- the aggregator's totals and ledger ---------------------------------------------------------


def test_the_aggregator_sees_totals_per_program_and_downloads_its_ledger(chain):
    gift = chain.gift(1_500_000, program=chain.needs[0].program)
    chain.gift(700_000, source=chain.other_source, is_anonymous=True)
    chain.gift(90_000, received=False)
    chain.commit(chain.needs[0], 2, [(gift, 600_000)])
    client = signed_in(chain.agency_member)
    page = client.get(aggregator_url(chain)).text
    assert chain.needs[0].program.name_id in page and "Program apa saja" in page
    assert "1.500.000" in page and "900.000" in page
    csv_url = reverse("pooling-ledger-csv", args=[chain.agency.slug])
    xlsx_url = reverse("pooling-ledger-xlsx", args=[chain.agency.slug])
    assert f'href="{csv_url}"' in page and f'href="{xlsx_url}"' in page

    response = client.get(csv_url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert len(body) == 3
    by_id = {int(row[0]): dict(zip(header, row, strict=True)) for row in body}
    first = by_id[gift.pk]
    assert first["Sumber"] == chain.source.name
    assert (first["Diterima"], first["Dikomitmenkan"], first["Sisa"]) == (
        "1500000",
        "600000",
        "900000",
    )
    sources = {row["Sumber"] for row in by_id.values()}
    assert chain.other_source.name not in sources and "anonim" in sources

    workbook = openpyxl.load_workbook(io.BytesIO(client.get(xlsx_url).content))
    sheet = workbook.worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == header and len(values) == 4
    assert chain.other_source.name not in {row[header.index("Sumber")] for row in values}


def test_only_the_aggregators_members_download_its_ledger(chain):
    chain.gift(100_000)
    url = reverse("pooling-ledger-csv", args=[chain.agency.slug])
    assert signed_in(chain.source_member).get(url).status_code == 404
    assert signed_in(UserFactory()).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to sign in

"""Adoption in the exports (issue 21, part 1): the CSV/HXL/XLSX rows of the commitments that
are an adoption's works carry the adoption (id and name, #activity+adoption+id/+name);
in IATI each work's activity names its adoption as its parent (related-activity type 1),
and the adoption is an activity of its own (hierarchy 1). Set-based: the query count does
not grow with the number of works or adoptions."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commitments.reporting.exports import HASHTAGS, HEADER, REPORTING_ORG

from .adoption_world import RW1, RW2, make_adoption
from .exports import build
from .factories import CollaboratorFactory, NeedFactory, commitment_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


@pytest.fixture
def world():
    adopter = CollaboratorFactory(name="=Yayasan Rumus")  # a name that would be a formula
    adoption = make_adoption(
        adopter, codes=(RW1,), name="+Kampung Uji", works=[("committed", 2), ("delivered", 3)]
    )
    plain = commitment_in("pledged", need=NeedFactory(), collaborator=adopter, quantity=1)
    return adoption, plain


def test_csv_hxl_and_xlsx_rows_carry_the_adoption(world):
    adoption, plain = world
    assert ("adoption_id", "#activity+adoption+id") in zip(HEADER, HASHTAGS, strict=True)
    assert HASHTAGS[HEADER.index("adoption")] == "#activity+adoption+name"
    works = set(adoption.works.values_list("commitment_id", flat=True))
    for format_ in ("csv", "hxl"):
        rows = list(csv.reader(io.StringIO(build(format_).decode())))
        assert rows[0] == HEADER
        body = rows[2:] if format_ == "hxl" else rows[1:]
        if format_ == "hxl":
            assert rows[1] == HASHTAGS
        by_id = {int(row[0]): dict(zip(HEADER, row, strict=True)) for row in body}
        for pk in works:
            assert by_id[pk]["adoption_id"] == str(adoption.pk)
            assert by_id[pk]["adoption"] == "'+Kampung Uji"  # guarded: no formula
        assert by_id[plain.pk]["adoption_id"] == by_id[plain.pk]["adoption"] == ""
    book = openpyxl.load_workbook(io.BytesIO(build("xlsx")))
    rows = list(book["Commitments"].values)
    by_id = {row[0]: dict(zip(HEADER, row, strict=True)) for row in rows[1:]}
    assert {by_id[pk]["adoption_id"] for pk in works} == {adoption.pk}
    assert by_id[plain.pk]["adoption"] in ("", None)


def test_iati_names_the_adoption_as_parent_of_its_works(world):
    adoption, plain = world
    activities = json.loads(build("iati"))["activities"]
    by_ref = {a["iati_identifier"]: a for a in activities}
    parent_ref = f"{REPORTING_ORG['ref']}-adopsi-{adoption.pk}"
    parent = by_ref[parent_ref]
    assert parent["hierarchy"] == "1" and parent["title"] == "+Kampung Uji"  # JSON: as is
    assert parent["activity_status"] == {"code": "2", "portal_status": "active"}
    assert parent["participating_orgs"][0] == {"role": "1", "narrative": "=Yayasan Rumus"}
    assert parent["activity_date"]["planned_end"] == adoption.ends_on.isoformat()
    for work in adoption.works.all():
        child = by_ref[f"{REPORTING_ORG['ref']}-{work.commitment_id}"]
        assert child["hierarchy"] == "2"
        assert child["related_activities"] == [{"type": "1", "ref": parent_ref}]
    lone = by_ref[f"{REPORTING_ORG['ref']}-{plain.pk}"]
    assert lone["hierarchy"] == "1" and lone["related_activities"] == []
    # One parent per adoption, after the commitments.
    assert [a["iati_identifier"] for a in activities].count(parent_ref) == 1
    assert activities[-1]["iati_identifier"] == parent_ref


@pytest.mark.parametrize("format_", ["hxl", "iati"])
def test_the_query_count_does_not_grow_with_works_or_adoptions(format_):
    make_adoption(CollaboratorFactory(), codes=(RW1,), works=[("committed", 1)])
    with CaptureQueriesContext(connection) as one:
        build(format_)
    make_adoption(CollaboratorFactory(), codes=(RW2,), name="Dua", works=[("committed", 1)] * 4)
    with CaptureQueriesContext(connection) as more:
        build(format_)
    assert len(more.captured_queries) == len(one.captured_queries)

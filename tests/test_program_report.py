"""The monthly public report of a program (issue 23, part 1): the month's figures and those
to its end, by channel and by donation form, with the 2021 baseline beside them, against
hand-computed values; its index of months; a stable, printable page."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from commitments.figures.summaries import JAKARTA, summaries_rebuild
from commitments.models import Commitment, Delivery
from commitments.reporting.program_report import month_report
from programs.models import DonationForm, Program

from .factories import CollaboratorFactory, NeedFactory

pytestmark = pytest.mark.django_db


def months_back(n: int) -> datetime.date:
    month = timezone.localdate().replace(day=1)
    for _ in range(n):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
    return month


def commitment(form, status, month, quantity, value, channel="platform") -> Commitment:
    need = NeedFactory(donation_form=form, quantity_needed=100)
    at = datetime.datetime.combine(month + datetime.timedelta(days=3), datetime.time(10), JAKARTA)
    return Commitment.objects.create(
        collaborator=CollaboratorFactory(),
        need=need,
        area=need.area,
        program=form.program,
        donation_form=form,
        quantity=quantity,
        value_idr=value,
        status=status,
        channel=channel,
        created_at=at,
        idempotency_key=uuid.uuid4().hex,
    )


@pytest.fixture
def figures():
    """Last month M and the month before it; amounts by hand in the test."""
    groceries = DonationForm.objects.get(program__slug="pangan", slug="groceries")
    other = DonationForm.objects.filter(program__slug="pangan").exclude(pk=groceries.pk).first()
    m, before = months_back(1), months_back(2)
    commitment(groceries, "committed", before, 10, 1_000_000)  # A
    offline = commitment(groceries, "completed", m, 4, 500_000, channel="offline")  # B
    now = timezone.now()
    Delivery.objects.create(
        commitment=offline, quantity=4, delivered_on=m, recipients_households=3,
        recipients_persons=9, recorded_at=now, confirmed_at=now,
    )  # fmt: skip
    commitment(groceries, "pledged", m, 7, 700_000)  # C: not confirmed
    commitment(groceries, "committed", months_back(0), 6, 600_000)  # D: after M
    commitment(other, "delivered", m, 2, 200_000)  # E
    summaries_rebuild()
    return {"month": m, "groceries": groceries, "other": other}


def test_the_figures_of_the_month_and_to_its_end(figures):
    report = month_report(Program.objects.get(slug="pangan"), figures["month"])
    assert report.month_total == {
        "commitments": 2, "quantity": 6, "value": 700_000, "households": 3, "persons": 9
    }  # fmt: skip
    assert report.cumulative_total == {
        "commitments": 3, "quantity": 16, "value": 1_700_000, "households": 3, "persons": 9
    }  # fmt: skip
    channels = {code: (month, to_date) for code, _label, month, to_date in report.channels}
    assert channels["offline"][0]["value"] == 500_000 and channels["offline"][1]["commitments"] == 1
    assert channels["platform"][0]["value"] == 200_000
    assert channels["platform"][1]["value"] == 1_200_000
    lines = {line.donation_form.pk: line for line in report.forms}
    assert lines[figures["groceries"].pk].month["quantity"] == 4
    assert lines[figures["groceries"].pk].cumulative["quantity"] == 14
    assert lines[figures["other"].pk].cumulative["value"] == 200_000


def test_the_page_shows_them_beside_the_2021_baseline(client, figures):
    Program.objects.filter(slug="pangan").update(reported_commitments=671_917)
    program = Program.objects.get(slug="pangan")
    month = figures["month"].strftime("%Y-%m")
    url = reverse("program-month-report", args=["pangan", month])
    assert url == f"/program/pangan/laporan/{month}/"
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    row = re.search(r"Commitments</th>(.*?)</tr>", page, re.S)[1]
    cells = re.findall(r'<td class="num">(.*?)</td>', row)
    assert cells == ["2", "3", "671,917"]
    assert "IDR 700,000" in page and "IDR 1,700,000" in page
    assert f"IDR {program.reported_value_idr:,.0f}" in page  # the 2021 value baseline
    assert 'class="report-actions' in page  # the print button, hidden when printed
    stylesheet = (settings.BASE_DIR / "static" / "css" / "site.css").read_text()
    assert "@media print" in stylesheet and ".report-actions" in stylesheet
    assert "style=" not in page


def test_the_index_lists_the_months_and_bad_months_are_404(client, figures):
    page = client.get(reverse("program-reports", args=["pangan"])).content.decode()
    for n in (0, 1, 2):
        assert reverse("program-month-report", args=["pangan", months_back(n)]) in page
    future = (timezone.localdate().replace(day=1) + datetime.timedelta(days=40)).strftime("%Y-%m")
    for bad in ("2026-13", "2026-00", "1999-01", future):
        assert client.get(f"/program/pangan/laporan/{bad}/").status_code == 404, bad
    assert client.get("/program/nope/laporan/2026-01/").status_code == 404

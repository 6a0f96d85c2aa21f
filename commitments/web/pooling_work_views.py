"""Work lists of the chain: the executor's pooled deliveries still to distribute, and the
aggregator's ledger of gifts as CSV or XLSX (commitments.web.pooling_urls).

Who sees what is answered on the server: the list by the user's scopes (their sites and
areas; all for administrators), the ledger only for members of the aggregator (404 for
anyone else, as its page)."""

from __future__ import annotations

import csv
import io

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from collaborators.roles import scopes_for

from ..pooling.chain import aggregator_ledger, deliveries_to_distribute
from ..pooling.models import Contribution
from ..reporting.exports import FORMULA_START
from ..reporting.xlsx import write_xlsx
from .pooling_views import held_aggregator

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIST_LIMIT = 200


@login_required
def to_distribute(request):
    scopes = scopes_for(request.user)
    rows = deliveries_to_distribute(scopes)
    deliveries = list(
        rows.select_related(
            "commitment",
            "commitment__collaborator",
            "commitment__area",
            "commitment__area__parent",
            "commitment__site",
            "commitment__donation_form",
        ).order_by("confirmed_at", "pk")[:LIST_LIMIT]
    )
    for delivery in deliveries:
        delivery.left = delivery.quantity - delivery.distributed
    return render(
        request,
        "pooling/to_distribute.html",
        {"deliveries": deliveries, "more": len(deliveries) == LIST_LIMIT},
    )


def ledger_columns() -> list[str]:
    return [
        _("Gift no."),
        _("Declared on"),
        _("Status"),
        _("Received on"),
        _("Receipt no."),
        _("Source"),
        _("Program"),
        _("Kind"),
        _("Goods"),
        _("Unit"),
        _("Amount"),
        _("Received"),
        _("Committed"),
        _("Left"),
    ]


def ledger_row(gift: Contribution) -> list:
    """One gift. The source as others may see it: a file travels further than the page,
    so an anonymous gift's source is "anonymous" here too."""
    received = gift.amount if gift.status == Contribution.Status.RECEIVED else 0
    return [
        gift.pk,
        timezone.localtime(gift.declared_at).date().isoformat(),
        str(gift.get_status_display()),
        gift.received_on.isoformat() if gift.received_on else "",
        gift.receipt_number,
        gift.public_source,
        gift.program.name if gift.program else _("Any program"),
        str(gift.get_kind_display()),
        gift.donation_form.name if gift.donation_form else "",
        gift.donation_form.unit if gift.donation_form else "IDR",
        gift.amount,
        received,
        gift.committed,
        gift.left,
    ]


def _csv_safe(value):
    """Text a spreadsheet would run as a formula starts with a quote (names are input)."""
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return value


@login_required
def aggregator_ledger_download(request, slug: str, fmt: str):
    aggregator = held_aggregator(request, slug)
    rows = (ledger_row(gift) for gift in aggregator_ledger(aggregator))
    name = f"{slugify(aggregator.name)[:60] or 'agregator'}-{timezone.localdate().isoformat()}"
    if fmt == "xlsx":
        out = io.BytesIO()
        write_xlsx(out, [(_("Gifts"), ledger_columns(), rows)])
        response = HttpResponse(out.getvalue(), content_type=XLSX)
    else:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response.write("\ufeff")  # so that spreadsheets read the names as UTF-8
        writer = csv.writer(response)
        writer.writerow(ledger_columns())
        writer.writerows([_csv_safe(value) for value in row] for row in rows)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    return response

"""Public accountability pages (issue 23, part 1): every delivery of an area, a program or a
collaborator a page at a time, their Atom feeds, a program's monthly public report and the
public figures as HXL CSV. Anyone may read them; they show only what
commitments.reporting.public_record allows (public names, roles, public photos)."""

from __future__ import annotations

import datetime

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Enclosure
from django.utils.http import http_date, quote_etag
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from collaborators.models import Collaborator
from locations.models import Area
from programs.models import Program

from ..figures.summaries import JAKARTA
from ..reporting.program_report import month_report, parse_month, report_months
from ..reporting.public_figures import figures_version, public_figures_csv
from ..reporting.public_record import (
    MAX_PAGES,
    PAGE_ROWS,
    DeliveryRow,
    deliveries_in_area,
    deliveries_of_collaborator,
    deliveries_of_program,
    page_number,
    receipt_state,
    record_rows,
)
from .public_pages import area_or_404

# Entries in a feed (newest first).
FEED_ENTRIES = 50
# Shared caches may keep the public figures file this long before asking again (ETag).
FIGURES_CACHE_CONTROL = "public, max-age=300"


def _deliveries_page(request, *, subject, title: str, deliveries, back: str, feed=None):
    page = page_number(request.GET.get("page"))
    rows, has_more = record_rows(deliveries, offset=(page - 1) * PAGE_ROWS)
    if page > 1 and not rows:
        raise Http404("No such page")
    return render(
        request,
        "accountability/deliveries.html",
        {
            "subject": subject,
            "title": title,
            "rows": rows,
            "page": page,
            "previous_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if has_more and page < MAX_PAGES else None,
            "back": back,
            "feed": feed,
            "show_area": True,
            "show_program": not isinstance(subject, Program),
        },
    )


@require_safe
def area_deliveries(request: HttpRequest, code: str) -> HttpResponse:
    area = area_or_404(code)
    return _deliveries_page(
        request,
        subject=area,
        title=_("Deliveries in %(area)s") % {"area": area.display_name},
        deliveries=deliveries_in_area(area),
        back=area.get_absolute_url(),
        feed=reverse("area-deliveries-feed", args=[area.code]),
    )


@require_safe
def program_deliveries(request: HttpRequest, slug: str) -> HttpResponse:
    program = get_object_or_404(Program, slug=slug)
    return _deliveries_page(
        request,
        subject=program,
        title=_("Deliveries of the %(program)s program") % {"program": program.name},
        deliveries=deliveries_of_program(program),
        back=program.get_absolute_url(),
        feed=reverse("program-deliveries-feed", args=[program.slug]),
    )


@require_safe
def collaborator_deliveries(request: HttpRequest, slug: str) -> HttpResponse:
    # As its public page: verified collaborators whose name may be shown only.
    collaborator = get_object_or_404(Collaborator.objects.verified().publicly_named(), slug=slug)
    return _deliveries_page(
        request,
        subject=collaborator,
        title=_("Deliveries by %(collaborator)s") % {"collaborator": collaborator.name},
        deliveries=deliveries_of_collaborator(collaborator),
        back=collaborator.get_absolute_url(),
    )


# --- Atom feeds -------------------------------------------------------------------------


class _DeliveriesFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request, *args, **kwargs):
        self.request = request
        return self.subject(**kwargs)

    def items(self, obj) -> list[DeliveryRow]:
        rows, _more = record_rows(self.deliveries(obj), limit=FEED_ENTRIES)
        return rows

    def link(self, obj) -> str:
        return obj.get_absolute_url()

    def item_title(self, row: DeliveryRow) -> str:
        return _("%(quantity)s of %(form)s to %(area)s, from %(giver)s") % {
            "quantity": row.how_much,
            "form": row.what,
            "area": row.area.display_name,
            "giver": row.giver,
        }

    def item_description(self, row: DeliveryRow) -> str:
        lines = [
            _("Delivered on %(date)s (%(program)s program).")
            % {"date": row.delivered_on.isoformat(), "program": row.program_name},
            receipt_state(row),
        ]
        if row.photos:
            lines.append(_("Public photos: %(count)s.") % {"count": len(row.photos)})
        return " ".join(lines)

    def item_link(self, row: DeliveryRow) -> str:
        return row.public_url

    def item_pubdate(self, row: DeliveryRow) -> datetime.datetime:
        return datetime.datetime.combine(row.delivered_on, datetime.time(), tzinfo=JAKARTA)

    def item_updateddate(self, row: DeliveryRow) -> datetime.datetime:
        if row.received_on:
            return datetime.datetime.combine(row.received_on, datetime.time(), tzinfo=JAKARTA)
        return self.item_pubdate(row)

    def item_enclosures(self, row: DeliveryRow) -> list[Enclosure]:
        return [
            Enclosure(
                self.request.build_absolute_uri(url), str(photo.size_bytes), photo.content_type
            )
            for photo, url in zip(row.photos, row.photo_urls, strict=True)
        ]


class AreaDeliveriesFeed(_DeliveriesFeed):
    def subject(self, *, code: str) -> Area:
        return area_or_404(code)

    def deliveries(self, area: Area):
        return deliveries_in_area(area)

    def title(self, area: Area) -> str:
        return _("Deliveries in %(area)s") % {"area": area.display_name}

    def subtitle(self, area: Area) -> str:
        return _("What was delivered in %(area)s through the KSBB portal, newest first.") % {
            "area": area.display_name
        }


class ProgramDeliveriesFeed(_DeliveriesFeed):
    def subject(self, *, slug: str) -> Program:
        return get_object_or_404(Program, slug=slug)

    def deliveries(self, program: Program):
        return deliveries_of_program(program)

    def title(self, program: Program) -> str:
        return _("Deliveries of the %(program)s program") % {"program": program.name}

    def subtitle(self, program: Program) -> str:
        return _("What the %(program)s program delivered through the KSBB portal.") % {
            "program": program.name
        }


# Read-only like the pages: GET and HEAD, 405 for any other method.
area_deliveries_feed = require_safe(AreaDeliveriesFeed())
program_deliveries_feed = require_safe(ProgramDeliveriesFeed())


# --- monthly public reports ----------------------------------------------------------------


@require_safe
def program_reports(request: HttpRequest, slug: str) -> HttpResponse:
    program = get_object_or_404(Program, slug=slug)
    return render(
        request,
        "accountability/program_reports.html",
        {"program": program, "months": report_months(program)},
    )


@require_safe
def program_month_report(request: HttpRequest, slug: str, month: str) -> HttpResponse:
    program = get_object_or_404(Program, slug=slug)
    first = parse_month(month)
    if first is None:
        raise Http404("No report for this month")
    return render(
        request,
        "accountability/program_month_report.html",
        {
            "program": program,
            "report": month_report(program, first),
            "today": timezone.localdate(),
        },
    )


# --- public figures as HXL -----------------------------------------------------------------


@require_safe
def public_figures_hxl(request: HttpRequest) -> HttpResponse:
    """The figures file, answered with 304 when the client has this version (ETag)."""
    version = figures_version()
    etag = quote_etag(version.etag)
    headers = {"ETag": etag, "Cache-Control": FIGURES_CACHE_CONTROL}
    if version.last_modified:
        headers["Last-Modified"] = http_date(version.last_modified.timestamp())
    asked = [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]
    if etag in asked or f"W/{etag}" in asked:
        return HttpResponse(status=304, headers=headers)
    response = HttpResponse(
        public_figures_csv(version), content_type="text/csv; charset=utf-8", headers=headers
    )
    response["Content-Disposition"] = 'inline; filename="ksbb-figures.hxl.csv"'
    return response

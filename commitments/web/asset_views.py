"""The donated-asset register's pages: registering a delivery's assets as its receipt is
confirmed, an asset's page and history, the registers per area, school and program (with
their XLSX export), and the yearly "where are they now" view.

Registers and asset pages are public, but a private owner's name, the photo and the notes are
shown only to those Asset.names_shown_to allows (the area's facilitators, the program's leads,
administrators), in the page and in the export alike. Every change is checked on the server
by commitments.lifecycle / commitments.assets, whatever the page offered.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.db.models.functions import ExtractYear
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from collaborators.roles import scopes_for
from locations.models import Area, Site
from programs.models import AssetOwner, Program

from ..assets.models import Asset, AssetStatus
from ..assets.registry import MAX_ASSETS, asset_record_event, school_ids_for
from ..lifecycle.transitions import delivery_confirm
from ..models import Commitment, Delivery
from ..reporting.xlsx import write_xlsx
from ..workflow import CONFIRM_DELIVERY_ROLES, TransitionRefused, commitment_roles
from .asset_forms import AssetEventForm, AssetGroupForm, StatusFilterForm, group_entries
from .stored_files import stored_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 50
# Groups one registration page takes: seven fields a group stay far under Django's limit of
# 1,000 fields a request (DATA_UPLOAD_MAX_NUMBER_FIELDS), whatever the number of assets.
MAX_GROUPS = 40


def _receivable_delivery(request, pk: int, delivery_id: int) -> tuple[Commitment, Delivery]:
    """The commitment and its delivery, for someone who may confirm its receipt; 404 for a
    commitment the user has no role on, 403 for one they may not confirm."""
    commitment = get_object_or_404(
        Commitment.objects.visible_to(scopes_for(request.user)).select_related(
            "area", "area__parent", "site", "program", "donation_form", "need", "collaborator"
        ),
        pk=pk,
    )
    delivery = get_object_or_404(Delivery, pk=delivery_id, commitment=commitment)
    if not commitment_roles(request.user, commitment) & CONFIRM_DELIVERY_ROLES:
        raise PermissionDenied
    return commitment, delivery


@login_required
def asset_register(request, pk: int, delivery_id: int):
    """Confirm a delivery's receipt by registering its assets, in groups (AssetGroupForm)."""
    commitment, delivery = _receivable_delivery(request, pk, delivery_id)
    if not commitment.donation_form.creates_assets or delivery.is_confirmed:
        return redirect(commitment)
    context = {"commitment": commitment, "delivery": delivery, "groups": [], "problems": []}
    if delivery.quantity > MAX_ASSETS:
        context["problems"] = [
            _(
                "This delivery is of %(quantity)s; at most %(most)s assets are registered with "
                "one delivery, so its receipt cannot be confirmed here."
            )
            % {"quantity": delivery.quantity, "most": MAX_ASSETS}
        ]
        return render(request, "assets/register_form.html", context, status=409)
    school_ids = school_ids_for(commitment)
    count = _group_count(request)
    adding = request.method == "POST" and "add_group" in request.POST
    bound = request.method == "POST" and not adding
    groups = [
        AssetGroupForm(
            request.POST if bound else None,
            request.FILES if bound else None,
            prefix=f"g{number}",
            number=number,
            commitment=commitment,
            school_ids=school_ids,
            initial=_posted(request, f"g{number}") if adding else None,
        )
        for number in range(1, count + 1)
    ]
    context.update(
        groups=groups,
        empty_group=AssetGroupForm(prefix="g__n__", number="__n__", commitment=commitment),
        max_groups=MAX_GROUPS,
    )
    status = 200
    if bound:
        status, context["problems"] = _register_posted(request, commitment, delivery, groups)
        if status == 302:
            return redirect(commitment)
    return render(request, "assets/register_form.html", context, status=status)


def _group_count(request) -> int:
    """Groups on the page: as many as were posted (one more to add one), 1 to MAX_GROUPS."""
    try:
        count = int(request.POST.get("groups", "1"))
    except ValueError:
        count = 1
    if request.method == "POST" and "add_group" in request.POST:
        count += 1
    return min(max(count, 1), MAX_GROUPS)


def _posted(request, prefix: str) -> dict:
    """A group's posted values, to show again when a group is added without JavaScript."""
    return {
        name: request.POST.get(f"{prefix}-{name}")
        for name in ("owner_kind", "owner_site", "count", "lines", "condition")
        if request.POST.get(f"{prefix}-{name}") is not None
    }


def _group_problems(group: AssetGroupForm) -> list[str]:
    """A group's problems for the page's summary, each naming its group (and line)."""
    problems = [
        group.problem(f"{group.fields[name].label}: {message}")
        for name, messages in group.errors.items()
        if name != NON_FIELD_ERRORS
        for message in messages
    ]
    return problems + [str(message) for message in group.non_field_errors()]


def _register_posted(request, commitment, delivery, groups) -> tuple[int, list[str]]:
    """Check the posted groups and confirm the receipt with their assets: (302, []) when
    done, or the status and problems to show (nothing is written then)."""
    if not all([group.is_valid() for group in groups]):  # a list: every group is checked
        problems = [problem for group in groups for problem in _group_problems(group)]
        return 400, problems or [_("Check the groups marked below; nothing was saved.")]
    entries, problems = group_entries(groups, quantity=delivery.quantity)
    if problems:
        return 400, problems
    try:
        delivery_confirm(delivery_id=delivery.pk, actor=request.user, assets=entries)
    except TransitionRefused as refusal:
        if refusal.forbidden:
            raise PermissionDenied from None
        return 409, [refusal.message]
    messages.success(
        request,
        _("Receipt confirmed and %(count)s assets registered. Thank you.")
        % {"count": delivery.quantity},
    )
    return 302, []


def _asset_or_404(pk: int) -> Asset:
    return get_object_or_404(
        Asset.objects.with_related().select_related("delivery__commitment__area"), pk=pk
    )


def asset_detail(request, pk: int):
    asset = _asset_or_404(pk)
    return _detail_page(request, asset, form=None, status=200)


def _detail_page(request, asset: Asset, *, form, status: int) -> HttpResponse:
    scopes = scopes_for(request.user)
    entitled = asset.names_shown_to(scopes)
    if entitled and form is None:
        form = AssetEventForm(commitment=_commitment_of(asset))
    events = asset.events.select_related("owner_site", "owner_area", "actor").order_by("at", "pk")
    return render(
        request,
        "assets/asset_detail.html",
        {
            "asset": asset,
            "entitled": entitled,
            "owner": asset.owner_label(with_name=entitled),
            "source": _source_name(asset, entitled),
            "events": events,
            "form": form if entitled else None,
        },
        status=status,
    )


def _commitment_of(asset: Asset) -> Commitment:
    commitment = asset.delivery.commitment
    commitment.program = asset.program  # owner rules are the program's
    return commitment


def _source_name(asset: Asset, entitled: bool) -> str:
    commitment = asset.delivery.commitment
    return commitment.collaborator.name if entitled else commitment.public_name


@login_required
def asset_event(request, pk: int):
    """Record what happened to an asset (GET shows its page with the form)."""
    asset = _asset_or_404(pk)
    if not asset.keeps_history(scopes_for(request.user)):
        raise PermissionDenied
    if request.method != "POST":
        return redirect(asset)
    form = AssetEventForm(request.POST, commitment=_commitment_of(asset))
    if not form.is_valid():
        return _detail_page(request, asset, form=form, status=400)
    try:
        asset_record_event(
            asset_id=asset.pk,
            actor=request.user,
            kind=form.cleaned_data["kind"],
            note=form.cleaned_data["note"],
            owner=form.new_owner(),
        )
    except TransitionRefused as refusal:
        if refusal.forbidden:
            raise PermissionDenied from None
        form.add_error(None, refusal.message)
        return _detail_page(request, _asset_or_404(pk), form=form, status=409)
    messages.success(request, _("Recorded in the asset's history."))
    return redirect(asset)


@login_required
def asset_photo(request, pk: int):
    asset = _asset_or_404(pk)
    if not asset.photo or not asset.names_shown_to(scopes_for(request.user)):
        raise Http404
    return stored_file(asset.photo, "image/jpeg")


# --- registers ------------------------------------------------------------------------------


def area_register(request, code: str):
    area = Area.objects.select_related("parent").filter(code=code).first()
    if area is None:
        raise Http404
    title = _("Donated assets in %(area)s") % {"area": area.display_name}
    return _register(request, Asset.objects.in_area(area), title=title, about=area)


def school_register(request, pk: int):
    """A school's assets: those it owns, and those delivered to it (owned by its pupils)."""
    site = get_object_or_404(Site.objects.select_related("area"), pk=pk)
    assets = Asset.objects.filter(Q(owner_site=site) | Q(delivery__commitment__site=site))
    title = _("Donated assets of %(school)s") % {"school": site.name}
    return _register(request, assets, title=title, about=site)


def program_register(request, slug: str):
    program = get_object_or_404(Program, slug=slug)
    title = _("Donated assets of %(program)s") % {"program": program.name}
    return _register(request, Asset.objects.filter(program=program), title=title, about=program)


def _register(request, assets, *, title: str, about) -> HttpResponse:
    """One register page (or, with ?format=xlsx, its export), filtered by ?status=."""
    filters = StatusFilterForm(request.GET or None)
    chosen = filters.cleaned_data["status"] if filters.is_valid() else ""
    if chosen:
        assets = assets.filter(status=chosen)
    assets = assets.with_related().order_by("-acquired_on", "pk")
    scopes = scopes_for(request.user)
    if request.GET.get("format") == "xlsx":
        return _register_xlsx(assets, scopes, title=title)
    counts = dict(assets.order_by().values_list("status").annotate(n=Count("pk")))
    page = Paginator(assets, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(asset, asset.owner_label(with_name=asset.names_shown_to(scopes))) for asset in page]
    return render(
        request,
        "assets/register.html",
        {
            "title": title,
            "about": about,
            "filters": filters,
            "chosen": chosen,
            "page": page,
            "rows": rows,
            "counts": [(s, label, counts.get(s, 0)) for s, label in AssetStatus.choices],
            "total": sum(counts.values()),
        },
    )


LEDGER_COLUMNS = [
    "No.",
    "Pemilik / Owner",
    "Jenis pemilik / Owner type",
    "Jenis barang / Kind",
    "Nomor seri / Serial number",
    "Tanggal perolehan / Acquisition date",
    "Nilai (IDR) / Value",
    "Sumber / Source collaborator",
    "Lokasi / Location",
    "Kode wilayah / Area code",
    "Kondisi / Condition",
    "Status",
    "Program",
]


def _register_xlsx(assets, scopes, *, title: str) -> HttpResponse:
    """The register in the columns of a government asset ledger (Kartu Inventaris Barang:
    owner, kind, serial, acquisition date, value, source, location, condition), a private
    owner's name only for those who may see it."""

    def rows():
        for asset in assets.iterator(chunk_size=500):
            entitled = asset.names_shown_to(scopes)
            yield [
                asset.pk,
                asset.owner_label(with_name=entitled),
                str(asset.get_owner_kind_display()),
                asset.kind,
                asset.serial_number,
                asset.acquired_on.isoformat(),
                asset.value_idr,
                _source_name(asset, entitled),
                asset.area.display_name,
                asset.area.code,
                str(asset.get_condition_display()),
                str(asset.get_status_display()),
                asset.program.name,
            ]

    out = io.BytesIO()
    write_xlsx(out, [(_("Assets"), LEDGER_COLUMNS, rows())])
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    name = slugify(title)[:80] or "aset"
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{timezone.localdate().isoformat()}.xlsx"'
    )
    response["Cache-Control"] = "private, no-store"
    return response


def program_years(request, slug: str):
    """Where are the donated assets (the Education program's laptops) now: per year of
    acquisition, how many are in each status, per kind of owner."""
    program = get_object_or_404(Program, slug=slug)
    counts = (
        Asset.objects.filter(program=program)
        .annotate(year=ExtractYear("acquired_on"))
        .values_list("year", "owner_kind", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    table: dict[tuple[int, str], dict[str, int]] = {}
    for year, owner, status, n in counts:
        table.setdefault((year, owner), {})[status] = n
    rows = [
        {
            "year": year,
            "owner": AssetOwner(owner).label,
            "cells": [cells.get(s, 0) for s in AssetStatus.values],
            "total": sum(cells.values()),
        }
        for (year, owner), cells in sorted(
            table.items(), key=lambda item: (-item[0][0], item[0][1])
        )
    ]
    return render(
        request,
        "assets/program_years.html",
        {"program": program, "rows": rows, "statuses": AssetStatus.choices},
    )

"""The public figures as an HXL-tagged CSV at a stable URL, for open-data portals (issue 23,
part 1): confirmed commitments by program, donation form, kecamatan (with its kota and
province), month and channel, with their quantity, value in IDR and the households and
persons reached. Figures only: no collaborator, no person, no note; so an anonymous gift is
counted like any other and named nowhere.

Columns, their HXL hashtags and the program, form and place columns come from the lead's
export (commitments.reporting.exports): one vocabulary for both files. Rows are read from
CommitmentRollup (the kecamatan roll-up the dashboards read), one grouped query."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Max, Sum

from programs.models import Program

from ..models import CONFIRMED_STATUSES, CommitmentRollup, figure_sums
from .exports import COLUMNS, _area_columns, _form_columns, _safe

_TAGS = dict(COLUMNS)
# (column, HXL hashtag), in this order.
PUBLIC_COLUMNS: list[tuple[str, str]] = [
    ("month", "#date+month"),
    ("reporting_org", "#org+reporting"),
    *((name, _TAGS[name]) for name in ("program_code", "program")),
    *((name, _TAGS[name]) for name in ("donation_form_code", "donation_form")),
    *(
        (name, _TAGS[name])
        for name in (
            "province_code",
            "province",
            "kota_code",
            "kota",
            "kecamatan_code",
            "kecamatan",
        )
    ),
    ("channel", _TAGS["channel"]),
    ("indicator", "#indicator+code"),
    ("commitments", "#indicator+num+commitments"),
    *((name, _TAGS[name]) for name in ("quantity", "unit", "value_idr")),
    *((name, _TAGS[name]) for name in ("households_reached", "persons_reached")),
]
HEADER = [name for name, _tag in PUBLIC_COLUMNS]
HASHTAGS = [tag for _name, tag in PUBLIC_COLUMNS]
INDICATOR = "confirmed-commitments"
# How long a built file is kept under its version (a new version is a new key anyway).
CACHE_SECONDS = 600


@dataclass(frozen=True)
class Version:
    etag: str
    last_modified: datetime.datetime | None


def figures_version() -> Version:
    """What the file is built from, in one aggregate: it changes when any roll-up row is
    written again (computed_at), added or removed (count, sum)."""
    state = CommitmentRollup.objects.aggregate(
        at=Max("computed_at"), rows=Count("pk"), total=Sum("count")
    )
    programs = Program.objects.aggregate(at=Max("live_updated_at"), n=Count("pk"))
    text = f"{state['at']}|{state['rows']}|{state['total']}|{programs['at']}|{programs['n']}"
    return Version(etag=hashlib.sha256(text.encode()).hexdigest()[:32], last_modified=state["at"])


def public_figures_csv(version: Version | None = None) -> bytes:
    """The file for the current figures (built once per version, then from the cache)."""
    version = version or figures_version()
    key = f"public-figures-hxl:{version.etag}"
    body = cache.get(key)
    if body is None:
        body = _build()
        cache.set(key, body, CACHE_SECONDS)
    return body


def _build() -> bytes:
    forms = _form_columns(_safe)
    places = _area_columns(_safe)
    lead = {pk: _safe(name) for pk, name in Program.objects.values_list("pk", "lead_agency")}
    rows = (
        CommitmentRollup.objects.filter(status__in=CONFIRMED_STATUSES)
        .values("program_id", "donation_form_id", "kecamatan_id", "month", "channel")
        .annotate(**figure_sums())
        .order_by("month", "program_id", "donation_form_id", "kecamatan_id", "channel")
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerow(HASHTAGS)
    for row in rows:
        program_code, program, form_code, form, unit = forms(
            row["program_id"], row["donation_form_id"]
        )
        place = places.get(row["kecamatan_id"], ("",) * 10)[:6]
        writer.writerow(
            [
                row["month"].strftime("%Y-%m"),
                lead.get(row["program_id"], ""),
                program_code,
                program,
                form_code,
                form,
                *place,
                row["channel"],
                INDICATOR,
                row["commitments"] or 0,
                row["quantity"] or 0,
                unit,
                int(row["value"] or 0),
                row["households"] or 0,
                row["persons"] or 0,
            ]
        )
    return out.getvalue().encode()

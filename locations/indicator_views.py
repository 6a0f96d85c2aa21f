"""Program leads' upload of area indicators: the form (file and what its columns mean), the
preview, and applying it (locations.indicator_import does the work).

Only program leads and administrators import indicators. An import is seen by its uploader
and administrators: any other lead gets a 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from ksbb.spreadsheets import FileRefused

from .indicator_import import (
    BY_BPS_RW,
    BY_CODE,
    BY_NAME,
    MAX_LENGTH,
    YEAR_RANGE,
    ImportRefused,
    IndicatorSpec,
    indicator_import_apply,
    indicator_import_create,
    may_import_indicators,
    problem_message,
)
from .models import Area, IndicatorImport

COLUMN_MAX = 100


def _column(label, initial: str = "", required: bool = False, help_text: str = ""):
    return forms.CharField(
        label=label,
        max_length=COLUMN_MAX,
        required=required,
        initial=initial,
        help_text=help_text,
    )


class IndicatorUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Indicator file (CSV, XLSX or GeoJSON)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".csv,.xlsx,.geojson,.json,text/csv,application/geo+json"}
        ),
    )
    indicator = forms.SlugField(
        label=_("Indicator code"),
        max_length=MAX_LENGTH["indicator"],
        help_text=_(
            "Lower case with hyphens, e.g. population-density. The same code replaces "
            "earlier values of the same areas and period."
        ),
    )
    label = forms.CharField(label=_("Name"), max_length=MAX_LENGTH["label"])
    unit = forms.CharField(
        label=_("Unit"), max_length=MAX_LENGTH["unit"], help_text=_("e.g. persons/km², %")
    )
    year = forms.IntegerField(label=_("Year"), min_value=YEAR_RANGE[0], max_value=YEAR_RANGE[1])
    period = forms.CharField(
        label=_("Period"),
        max_length=MAX_LENGTH["period"],
        required=False,
        help_text=_("Optional: the date of an observation, e.g. 2016-03-05. The year if empty."),
    )
    source = forms.CharField(
        label=_("Source"),
        max_length=MAX_LENGTH["source"],
        help_text=_("Publisher, dataset and licence: shown in the map legend."),
    )
    by = forms.ChoiceField(
        label=_("Rows are matched to areas by"),
        choices=[
            (BY_CODE, _("area code (Kemendagri), any level")),
            (BY_NAME, _("kelurahan name within kecamatan")),
            (BY_BPS_RW, _("BPS RW id, 16 digits (GeoJSON)")),
        ],
        widget=forms.RadioSelect,
        initial=BY_CODE,
    )
    value_column = _column(_("Column holding the value"), required=True)
    code_column = _column(_("Column holding the area code"), "area_code")
    kelurahan_column = _column(_("Column holding the kelurahan name"), "kelurahan")
    kecamatan_column = _column(
        _("Column holding the kecamatan name"), "kecamatan", help_text=_("Empty if none.")
    )
    kota_column = _column(_("Column holding the kota name"), help_text=_("Optional."))
    bps_column = _column(_("Property holding the BPS RW id"), "pkey")
    breakdown = forms.CharField(
        label=_("Breakdown"),
        max_length=MAX_LENGTH["breakdown"],
        required=False,
        help_text=_("Optional, e.g. sex=female; empty for the whole area."),
    )
    minimum = forms.DecimalField(
        label=_("Smallest value allowed"), required=False, max_digits=14, decimal_places=4
    )
    maximum = forms.DecimalField(
        label=_("Largest value allowed"), required=False, max_digits=14, decimal_places=4
    )

    def clean(self):
        data = super().clean()
        columns = {
            BY_CODE: "code_column",
            BY_NAME: "kelurahan_column",
            BY_BPS_RW: "bps_column",
        }
        needed = columns.get(data.get("by"))
        if needed and not data.get(needed):
            self.add_error(needed, _("Name the column that identifies the area."))
        low, high = data.get("minimum"), data.get("maximum")
        if low is not None and high is not None and low > high:
            self.add_error("maximum", _("The largest value cannot be below the smallest."))
        return data

    def spec(self) -> IndicatorSpec:
        data = self.cleaned_data
        return IndicatorSpec(
            indicator=data["indicator"],
            label=data["label"],
            unit=data["unit"],
            source=data["source"],
            value_column=data["value_column"],
            year=data["year"],
            period=data["period"],
            by=data["by"],
            code_column=data["code_column"],
            kelurahan_column=data["kelurahan_column"],
            kecamatan_column=data["kecamatan_column"],
            kota_column=data["kota_column"],
            bps_column=data["bps_column"],
            breakdown=data["breakdown"],
            minimum=data["minimum"],
            maximum=data["maximum"],
        )


def _importer(request) -> None:
    if not may_import_indicators(request.user):
        raise PermissionDenied


@login_required
def indicator_import_upload(request):
    _importer(request)
    form = IndicatorUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = indicator_import_create(
                    uploader=request.user, upload=form.cleaned_data["file"], spec=form.spec()
                )
            except FileRefused as refused:
                form.add_error("file", refused.message)
            else:
                return redirect(job)
        status = 400
    recent = IndicatorImport.objects.filter(uploaded_by=request.user)[:10]
    return render(
        request,
        "locations/indicator_import_upload.html",
        {"form": form, "recent": recent},
        status=status,
    )


def _visible_import(request, import_id: int) -> IndicatorImport:
    _importer(request)
    return get_object_or_404(IndicatorImport.objects.visible_to(request.user), pk=import_id)


def _entries(entries: list[dict]) -> list[dict]:
    return [
        {"row": entry["row"], "column": entry["column"], "message": problem_message(entry)}
        for entry in entries
    ]


@login_required
def indicator_import_detail(request, import_id: int):
    job = _visible_import(request, import_id)
    spec = IndicatorSpec.from_dict(job.spec)
    preview = job.preview or {}
    sample_codes = [row[0] for row in preview.get("sample", [])]
    names = dict(Area.objects.filter(code__in=sample_codes).values_list("code", "name"))
    sample = [
        {"code": code, "name": names.get(code, ""), "breakdown": breakdown, "value": value}
        for code, breakdown, value in preview.get("sample", [])
    ]
    levels = [
        (Area.Level(level).label if level in Area.Level.values else level, count)
        for level, count in preview.get("levels", {}).items()
    ]
    return render(
        request,
        "locations/indicator_import_detail.html",
        {
            "job": job,
            "spec": spec,
            "preview": preview,
            "levels": levels,
            "sample": sample,
            "unmatched": _entries(job.unmatched),
            "more_unmatched": job.unmatched_count - len(job.unmatched),
            "problems": _entries(job.problems),
            "more_problems": job.problem_count - len(job.problems),
            "row_word": _("Feature") if job.format == IndicatorImport.Format.GEOJSON else _("Row"),
            "is_uploader": job.uploaded_by_id == request.user.pk,
        },
    )


@login_required
@require_POST
def indicator_import_apply_view(request, import_id: int):
    job = _visible_import(request, import_id)
    try:
        job = indicator_import_apply(job=job, actor=request.user)
    except ImportRefused as refused:
        messages.error(request, refused.message)
        return redirect(job)
    if job.status == IndicatorImport.Status.APPLIED:
        count = job.created_count + job.updated_count
        messages.success(
            request,
            ngettext(
                "%(count)s value was saved; it is on the needs map now.",
                "%(count)s values were saved; they are on the needs map now.",
                count,
            )
            % {"count": count},
        )
    return redirect(job)

"""Bulk import of needs from a CSV or XLSX file: upload, the template, the preview with
its progress, and applying it (commitments.needs.bulk_import does the work).

An import is seen only by its uploader and administrators: anyone else gets a 404.
"""

from __future__ import annotations

import datetime
import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from collaborators.roles import scopes_for
from locations.models import Area, Site, subtree_q
from programs.models import DonationForm

from ..jobs import APPLY_NEED_IMPORT, CHECK_NEED_IMPORT, job_request
from ..models import NeedImport
from ..needs.bulk_import import (
    ImportRefused,
    applied_rows,
    column_header,
    may_import,
    need_import_apply,
    need_import_check,
    need_import_confirm,
    need_import_create,
    problem_message,
)
from ..needs.import_files import FileRefused, template_file

logger = logging.getLogger(__name__)

# Files up to this many rows are checked and applied within the request (the same
# functions the Celery tasks call); larger ones go to a worker and the page shows progress.
INLINE_ROWS = 300


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Needs file (CSV or XLSX)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".csv,.xlsx,text/csv,application/vnd.ms-excel"}
        ),
    )


def _importer(request):
    scopes = scopes_for(request.user)
    if not may_import(scopes):
        raise PermissionDenied
    return scopes


def _run(job_name: str, function, job: NeedImport) -> None:
    """Small files in the request; others on a worker, or here if the broker is down."""
    if job.rows_total > INLINE_ROWS and job_request(job_name, job.pk):
        return
    function(import_id=job.pk)


@login_required
def need_import_upload(request):
    _importer(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = need_import_create(uploader=request.user, upload=form.cleaned_data["file"])
            except FileRefused as refused:
                form.add_error("file", refused.message)
            else:
                _run(CHECK_NEED_IMPORT, need_import_check, job)
                return redirect(job)
        status = 400
    recent = NeedImport.objects.filter(uploaded_by=request.user)[:10]
    return render(
        request, "needs/import_upload.html", {"form": form, "recent": recent}, status=status
    )


@login_required
def need_import_template(request):
    scopes = _importer(request)
    language = "en" if request.GET.get("lang") == "en" else "id"
    file_format = "csv" if request.GET.get("format") == "csv" else "xlsx"
    forms_in_scope = DonationForm.objects.select_related("program").order_by(
        "program__sort_order", "sort_order", "slug"
    )
    if scopes.program_ids and not (scopes.is_facilitator or scopes.is_admin):
        forms_in_scope = forms_in_scope.filter(program__in=scopes.program_ids)
    example_form = forms_in_scope.first()
    area_code, site = _example_place(scopes)
    example = {
        "area_code": area_code,
        "site": site,
        "program": example_form.program.slug if example_form else "",
        "donation_form": example_form.slug if example_form else "",
        "quantity": 100,
        "unit": example_form.get_unit_display() if example_form else "",
        "priority": 1,
        "households": 100,
        "persons": 400,
        "valid_until": timezone.localdate() + datetime.timedelta(days=90),
        "note": _("Example row: replace it with your own needs."),
    }
    content = template_file(
        file_format=file_format,
        language=language,
        example=example,
        donation_forms=forms_in_scope,
    )
    name = "templat-kebutuhan" if language == "id" else "needs-template"
    content_type = (
        "text/csv; charset=utf-8"
        if file_format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response


def _example_place(scopes) -> tuple[str, int | str]:
    """An area (and site) the user keeps needs for, so that the template's example row is
    valid for them as it is."""
    areas = Area.objects.filter(
        level__in=[Area.Level.RW, Area.Level.KELURAHAN], is_residential=True
    ).order_by("-level", "code")  # "rw" sorts after "kelurahan": RWs first
    if scopes.area_paths:
        areas = areas.filter(subtree_q(scopes.area_paths))
    elif scopes.site_ids:
        site = Site.objects.filter(pk__in=scopes.site_ids).select_related("area").first()
        return site.area.code, site.pk
    return areas.values_list("code", flat=True).first() or "", ""


def _visible_import(request, import_id: int) -> NeedImport:
    return get_object_or_404(
        NeedImport.objects.visible_to(request.user, scopes_for(request.user)), pk=import_id
    )


@login_required
def need_import_detail(request, import_id: int):
    job = _visible_import(request, import_id)
    # Problems name the columns as the file's header row does.
    language = job.header_language
    problems = [
        {
            "row": problem["row"],
            "column": column_header(problem["column"], language),
            "message": problem_message(problem),
        }
        for problem in job.problems
    ]
    forms_by_id = DonationForm.objects.select_related("program").in_bulk(
        [entry["form"] for entry in job.summary]
    )
    summary = [{**entry, "donation_form": forms_by_id.get(entry["form"])} for entry in job.summary]
    return render(
        request,
        "needs/import_detail.html",
        {
            "job": job,
            "rows_done": applied_rows(job),
            "problems": problems,
            "more_problems": job.problem_count - len(problems),
            "summary": summary,
            "needs_total": sum(entry["needs"] for entry in job.summary),
            "is_uploader": job.uploaded_by_id == request.user.pk,
        },
    )


@login_required
def need_import_status(request, import_id: int):
    job = _visible_import(request, import_id)
    done = applied_rows(job)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "rows_total": job.rows_total,
            "rows_done": done,
            "busy": job.is_busy,
        }
    )


@login_required
@require_POST
def need_import_apply_view(request, import_id: int):
    job = _visible_import(request, import_id)
    try:
        need_import_confirm(job=job, actor=request.user)
    except ImportRefused as refused:
        messages.error(request, refused.message)
        return redirect(job)
    job.refresh_from_db()
    if job.status == NeedImport.Status.APPLYING:
        _run(APPLY_NEED_IMPORT, need_import_apply, job)
        job.refresh_from_db()
    if job.status == NeedImport.Status.APPLIED:
        count = job.created_count
        messages.success(
            request,
            ngettext(
                "%(count)s need was added; it is on the map now.",
                "%(count)s needs were added; they are on the map now.",
                count,
            )
            % {"count": count},
        )
    return redirect(job)

"""Exports of dashboard data: ask for one (from the dashboard's buttons), follow its
progress, download it (commitments.reporting.exports does the work).

An export is seen only by its requester and administrators: anyone else gets a 404.
"""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from collaborators.models import PersonalDataView
from collaborators.privacy import personal_data_viewed

from ..models import Export
from ..reporting.exports import (
    CONTENT_TYPES,
    ExportRefused,
    export_enqueue,
    export_may_download,
    export_request,
    export_retry,
    export_waits_for_retry,
    exports_visible_to,
)

RECENT = 20
FILTER_LABELS = {
    "program": gettext_lazy("Program"),
    "start": gettext_lazy("From (month)"),
    "end": gettext_lazy("Until (month)"),
    "area": gettext_lazy("Area"),
    "channel": gettext_lazy("Channel"),
}


def _visible_export(request, pk: int) -> Export:
    return get_object_or_404(exports_visible_to(request.user), pk=pk)


def _enqueue_after_commit(export: Export) -> None:
    transaction.on_commit(partial(export_enqueue, export_id=export.pk))


@login_required
def exports(request):
    """GET: the user's recent exports. POST: ask for a new one (the dashboard's buttons)."""
    problem = ""
    if request.method == "POST":
        try:
            with transaction.atomic():
                export = export_request(
                    user=request.user, data=request.POST, format=request.POST.get("format", "")
                )
                _enqueue_after_commit(export)
        except ExportRefused as refused:
            problem = refused.message
        else:
            return redirect("export-detail", pk=export.pk)
    recent = Export.objects.filter(requested_by=request.user)[:RECENT]
    return render(
        request,
        "commitments/export_list.html",
        {"recent": recent, "problem": problem},
        status=400 if problem else 200,
    )


@login_required
def export_detail(request, pk: int):
    export = _visible_export(request, pk)
    is_requester = export.requested_by_id == request.user.pk
    waits = export_waits_for_retry(export)
    return render(
        request,
        "commitments/export_detail.html",
        {
            "export": export,
            "polls": export.is_busy and not waits,
            "may_retry": is_requester and waits,
            "may_download": export.status == Export.Status.DONE
            and export_may_download(export=export, user=request.user),
            "filters": [
                (FILTER_LABELS.get(name, name), value)
                for name, value in export.filters.items()
                if name != "programs"
            ],
            "programs": export.filters.get("programs", []),
            "has_program_filter": bool(export.filters.get("program")),
        },
    )


@login_required
def export_status(request, pk: int):
    export = _visible_export(request, pk)
    return JsonResponse(
        {
            "status": export.status,
            "status_label": export.get_status_display(),
            "rows_total": export.rows_total,
            "rows_done": export.rows_done,
            "percent_done": export.percent_done,
            "busy": export.is_busy and not export.error,
        }
    )


@login_required
def export_download(request, pk: int):
    export = _visible_export(request, pk)
    if export.status != Export.Status.DONE or not export.file:
        raise Http404
    if not export_may_download(export=export, user=request.user):
        raise PermissionDenied
    try:
        stored = export.file.open("rb")
    except OSError as missing:
        raise Http404 from missing
    # Its rows name individual collaborators (people), so the download is logged.
    personal_data_viewed(
        viewer=request.user,
        what=PersonalDataView.What.EXPORT,
        subject_ref=f"export:{export.pk}",
        path=request.path,
    )
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=export.file_name,
        content_type=CONTENT_TYPES[export.format],
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def export_retry_view(request, pk: int):
    export = _visible_export(request, pk)
    if export.requested_by_id != request.user.pk:
        raise PermissionDenied
    with transaction.atomic():
        if export_retry(export=export):
            _enqueue_after_commit(export)
        else:
            messages.info(request, _("This export is already running or ready."))
    return redirect("export-detail", pk=export.pk)

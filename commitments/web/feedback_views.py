"""Recipients' reports: the public form (no account needed), its confirmation and the
tracking pages (the code is the key: status, due date and answer, never who reported or
who handled it); and the handlers' list and report page (commitments.feedback.rules says
who handles which report; anyone else gets a 404 for it)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django_ratelimit.core import is_ratelimited

from collaborators.models import Collaborator
from collaborators.privacy import personal_data_viewed
from collaborators.roles import scopes_for
from ksbb.whatsapp import share_url
from locations.models import Area

from ..feedback.models import Report, normalise_code
from ..feedback.reports import ReportRefused, report_set_status, report_submit
from ..feedback.rules import visible_reports
from ..models import Delivery
from .feedback_forms import ReportForm, StatusForm, TrackForm
from .stored_files import stored_file

RATE_GROUP = "feedback-new"


def client_ip(group, request) -> str:
    """The sender's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address
    the outermost of them saw (as axes counts sign-in failures)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies][:64]
    return request.META.get("REMOTE_ADDR", "")[:64] or "unknown"


def _rate_limited(request) -> bool:
    return is_ratelimited(
        request,
        group=RATE_GROUP,
        key=client_ip,
        rate=settings.FEEDBACK_RATE,
        method="POST",
        increment=True,
    )


def _preset(request) -> dict:
    """What the query string says the report is about (?area=, ?delivery=, ?collaborator=)."""
    get = request.GET
    initial, about = {}, {}
    delivery_id = get.get("delivery", "")
    if delivery_id.isdigit() and len(delivery_id) < 12:
        delivery = (
            Delivery.objects.select_related("commitment__area", "commitment__donation_form")
            .filter(pk=int(delivery_id))
            .first()
        )
        if delivery is not None:
            initial["delivery"] = delivery.pk
            about["delivery"] = delivery
            about["area"] = delivery.commitment.area
    area_code = get.get("area", "")[:40]
    if "area" not in about and area_code:
        about["area"] = Area.objects.filter(code=area_code).first()
    if about.get("area") is not None:
        initial["area"] = about["area"].code
    slug = get.get("collaborator", "")[:100]
    if slug:
        collaborator = Collaborator.objects.filter(slug=slug).first()
        if collaborator is not None:
            initial["collaborator"] = collaborator.slug
            about["collaborator"] = collaborator
    return {"initial": initial, "about": about}


def report_new(request):
    """The public report form; handlers may also record a report told on WhatsApp."""
    preset = _preset(request)
    handler = scopes_for(request.user).confirms_anything
    area = preset["about"].get("area")
    form = ReportForm(
        request.POST or None,
        request.FILES or None,
        initial=preset["initial"],
        handler=handler,
        preset_area=area,
    )
    if request.method == "POST" and form.is_valid():
        if not handler and _rate_limited(request):
            form.add_error(
                None,
                _(
                    "Too many reports from this connection; please wait an hour and send it "
                    "again, or use WhatsApp."
                ),
            )
        else:
            report = report_submit(
                fields=form.report_fields(),
                photo=form.cleaned_data.get("photo"),
                reporter=request.user,
            )
            request.session["feedback_sent"] = report.code
            return redirect("feedback-sent", tracking_code=report.code)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "about": preset["about"], "whatsapp_url": whatsapp_link(area)}
    return render(request, "feedback/report_form.html", context, status=status)


def whatsapp_link(area: Area | None) -> str:
    """A wa.me link with a report started, to the portal's number; "" when none is set."""
    number = settings.FEEDBACK_WHATSAPP_NUMBER
    if not number:
        return ""
    text = _("Report for KSBB") + (f" ({area.display_name}, {area.code})" if area else "") + ":\n"
    return share_url(text, number)


@require_safe
def report_sent(request, tracking_code: str):
    """The confirmation with the tracking code: for the browser that just sent it."""
    if request.session.get("feedback_sent") != tracking_code:
        return redirect("feedback-track-code", tracking_code=tracking_code)
    report = get_object_or_404(Report, code=normalise_code(tracking_code) or "-")
    return render(request, "feedback/report_sent.html", {"report": report})


@require_safe
def track(request):
    form = TrackForm(request.GET or None)
    if form.is_valid():
        code = normalise_code(form.cleaned_data["code"])
        if code and Report.objects.filter(code=code).exists():
            return redirect("feedback-track-code", tracking_code=code)
        form.add_error("code", _("No report has this code. Check it and try again."))
    return render(request, "feedback/track.html", {"form": form})


@require_safe
def track_code(request, tracking_code: str):
    code = normalise_code(tracking_code)
    report = get_object_or_404(Report.objects.select_related("area", "program"), code=code or "-")
    if code != tracking_code:
        return redirect("feedback-track-code", tracking_code=code)
    return render(request, "feedback/track_code.html", {"report": report})


# --- handlers -------------------------------------------------------------------------------


def _handler_or_403(request):
    if not scopes_for(request.user).confirms_anything:
        raise PermissionDenied(_("Reports are handled by facilitators, leads and administrators."))


@login_required
@require_safe
def report_list(request):
    _handler_or_403(request)
    reports = visible_reports(request.user).select_related("area", "program", "collaborator")
    status = request.GET.get("status", "")
    if status == "open":
        reports = reports.open()
    elif status in Report.Status.values:
        reports = reports.filter(status=status)
    if request.GET.get("overdue"):
        reports = reports.overdue()
    now = timezone.now()
    context = {
        "reports": reports.order_by("due_at", "pk")[:300],
        "status": status,
        "overdue": bool(request.GET.get("overdue")),
        "statuses": Report.Status.choices,
        "now": now,
    }
    return render(request, "feedback/report_list.html", context)


def _visible_report(request, report_id: int) -> Report:
    _handler_or_403(request)
    queryset = visible_reports(request.user).select_related(
        "area", "program", "collaborator", "reporter", "delivery__commitment__donation_form"
    )
    return get_object_or_404(queryset, pk=report_id)


def _reporter_seen(request, report: Report) -> None:
    """Log the handler's view of the reporter's details (contact, photo)."""
    personal_data_viewed(
        viewer=request.user,
        what="reporter",
        subjects=[report.reporter] if report.reporter else [],
        subject_ref=report.code,
        path=request.path,
    )


@login_required
def report_detail(request, report_id: int):
    report = _visible_report(request, report_id)
    form = StatusForm(request.POST or None, report=report)
    if request.method == "POST" and form.is_valid():
        try:
            report_set_status(
                report_id=report.pk,
                actor=request.user,
                status=form.cleaned_data["status"],
                answer=form.cleaned_data["answer"],
            )
        except ReportRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("Saved; the reporter sees it on the tracking page."))
            return redirect(report.get_absolute_url())
    _reporter_seen(request, report)
    context = {
        "report": report,
        "form": form,
        "events": report.events.select_related("actor").order_by("at", "pk"),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "feedback/report_detail.html", context, status=status)


@login_required
@require_safe
def report_photo(request, report_id: int):
    report = _visible_report(request, report_id)
    if not report.photo:
        raise Http404
    _reporter_seen(request, report)
    return stored_file(report.photo, "image/jpeg", cache_control="private, no-store")

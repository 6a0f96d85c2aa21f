"""Keeping needs current, for facilitators, program leads and administrators: the list of
the needs they keep, add, edit, close, re-confirm an area, and a need's history. Who may
keep which need is Need.objects.editable_by / Scopes.may_keep_need; the writes are
commitments.needs.upkeep'. Needs others keep answer 404, as if they did not exist."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from collaborators.roles import Scopes, scopes_for
from locations.models import Area, Facilitator, Need

from ..needs.upkeep import (
    NeedChanged,
    need_close,
    need_close_preview,
    need_create,
    need_for,
    need_update,
    needs_reconfirm,
)
from .need_forms import NeedCloseForm, NeedCreateForm, NeedEditForm

SHOW = {
    "open": lambda needs: needs.filter(status=Need.Status.OPEN),
    "stale": lambda needs: needs.stale(),
    "expiring": lambda needs: needs.expiring(),
    "expired": lambda needs: needs.filter(status=Need.Status.EXPIRED),
    "closed": lambda needs: needs.filter(status=Need.Status.CLOSED),
}


def _filter_labels() -> dict[str, str]:
    return {
        "open": _("Open"),
        "stale": _("Not assessed for %(days)s days") % {"days": Need.STALE_AFTER_DAYS},
        "expiring": _("Expiring within %(days)s days") % {"days": Need.EXPIRY_WARNING_DAYS},
        "expired": _("Expired"),
        "closed": _("Closed"),
    }


def _keeper(request) -> Scopes:
    """The scopes of a user who keeps needs somewhere; 403 for everyone else."""
    scopes = scopes_for(request.user)
    if not (scopes.is_facilitator or scopes.is_lead or scopes.is_admin):
        raise PermissionDenied(_("Only facilitators and program leads keep needs."))
    return scopes


def _need_or_404(request, pk: int) -> Need:
    try:
        return need_for(actor=request.user, need_id=pk)
    except Need.DoesNotExist:
        raise Http404("No need of yours with this number") from None


def _area_or_404(scopes: Scopes, code: str) -> Area:
    """An area whose needs the user keeps, at least in part (a lead: their programs')."""
    area = Area.objects.select_related("parent").filter(code=code).first()
    if area is None or not scopes.keeps_needs_in(area):
        raise Http404("No area of yours with this code")
    return area


def _show_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
def my_needs(request):
    scopes = _keeper(request)
    show = request.GET.get("show", "open")
    if show not in SHOW:
        show = "open"
    needs = Need.objects.editable_by(scopes)
    area = None
    if request.GET.get("area"):
        area = _area_or_404(scopes, request.GET["area"][:40])
        needs = needs.in_area(area)
    labels = _filter_labels()
    filters = [(name, labels[name], pick(needs).count()) for name, pick in SHOW.items()]
    needs = (
        SHOW[show](needs)
        .select_related("area", "area__parent", "site", "program", "donation_form")
        .order_by("area__path", "priority", "valid_until", "pk")
    )
    page = Paginator(needs, 50).get_page(request.GET.get("page"))
    facilitated = (
        Facilitator.objects.filter(user=request.user, area__isnull=False)
        .select_related("area", "area__parent")
        .order_by("area__path")
    )
    return render(
        request,
        "needs/my_needs.html",
        {
            "page": page,
            "show": show,
            "filters": filters,
            "area": area,
            "facilitated": facilitated,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def need_add(request):
    scopes = _keeper(request)
    initial = {}
    if request.method == "GET" and request.GET.get("area"):
        initial["area"] = request.GET["area"][:40]
    form = NeedCreateForm(request.POST or None, scopes=scopes, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            need = need_create(
                actor=request.user,
                area=data["area"],
                site=data["site"],
                program=data["program"],
                donation_form=data["donation_form"],
                **form.changes(),
            )
        except PermissionDenied:
            form.add_error(None, _("You do not keep the needs of this area for this program."))
        except ValidationError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("The need was added and is on the map now."))
            return redirect("need-detail", pk=need.pk)
    form_programs = {
        str(pk): program_id
        for pk, program_id in form.fields["donation_form"].queryset.values_list("pk", "program_id")
    }
    return render(
        request,
        "needs/need_form.html",
        {"form": form, "need": None, "form_programs": form_programs},
    )


@login_required
def need_detail(request, pk: int):
    _keeper(request)
    need = _need_or_404(request, pk)
    return render(
        request,
        "needs/need_detail.html",
        {
            "need": need,
            "history": need.changes.select_related("actor"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def need_edit(request, pk: int):
    _keeper(request)
    need = _need_or_404(request, pk)
    if need.status == Need.Status.CLOSED:
        messages.error(request, _("This need is closed; add a new need instead."))
        return redirect("need-detail", pk=pk)
    current = None
    if request.method == "POST":
        form = NeedEditForm(request.POST)
        if form.is_valid():
            try:
                need_update(
                    actor=request.user,
                    need_id=need.pk,
                    expected_version=form.cleaned_data["version"],
                    **form.changes(),
                )
            except NeedChanged as changed:
                # Nothing is lost: the editor's input stays in the form, now set against
                # the current version, with the values someone else saved beside it.
                current = need = changed.current
                form = _against_current(
                    NeedEditForm,
                    request,
                    current,
                    _(
                        "Someone else changed this need while you were editing it. Their "
                        "values are shown below; your input is kept in the form. Save again "
                        "to replace their values with yours."
                    ),
                )
            except ValidationError as error:
                _show_errors(form, error)
            else:
                messages.success(request, _("The need was saved."))
                return redirect("need-detail", pk=pk)
    else:
        form = NeedEditForm(
            initial={
                **{name: getattr(need, name) for name in NeedEditForm.base_fields},
                "version": need.version,
            }
        )
    return render(request, "needs/need_form.html", {"form": form, "need": need, "current": current})


def _against_current(form_class, request, current: Need, message: str):
    """The editor's input again, set against the version someone else just saved, with
    `message` saying so: nothing typed is lost, and saving again is a deliberate choice."""
    data = request.POST.copy()
    data["version"] = current.version
    form = form_class(data)
    form.is_valid()
    form.add_error(None, message)
    return form


@login_required
@require_http_methods(["GET", "POST"])
def need_close_view(request, pk: int):
    _keeper(request)
    need = _need_or_404(request, pk)
    if need.status == Need.Status.CLOSED:
        messages.error(request, _("This need is already closed."))
        return redirect("need-detail", pk=pk)
    form = NeedCloseForm(request.POST or None, initial={"version": need.version})
    if request.method == "POST" and form.is_valid():
        try:
            need_close(
                actor=request.user,
                need_id=need.pk,
                expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
            )
        except NeedChanged as changed:
            need = changed.current
            form = _against_current(
                NeedCloseForm,
                request,
                need,
                _(
                    "Someone else changed this need meanwhile; check it below and confirm "
                    "again to close it."
                ),
            )
        except ValidationError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("The need was closed and has left the map."))
            return redirect("need-detail", pk=pk)
    return render(
        request,
        "needs/need_close.html",
        {"form": form, "need": need, "preview": need_close_preview(need=need)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def needs_reconfirm_view(request, code: str):
    scopes = _keeper(request)
    area = _area_or_404(scopes, code)
    if request.method == "POST":
        count = needs_reconfirm(actor=request.user, area=area)
        messages.success(
            request,
            _("%(count)s needs of %(area)s re-confirmed as they are.")
            % {"count": count, "area": area.display_name},
        )
        return redirect(f"{reverse('my-needs')}?area={area.code}")
    today = timezone.localdate()
    needs = (
        Need.objects.editable_by(scopes)
        .in_area(area)
        .filter(status=Need.Status.OPEN, valid_until__gte=today)
        .select_related("area", "area__parent", "site", "donation_form")
        .order_by("area__path", "priority", "pk")
    )
    return render(request, "needs/reconfirm.html", {"area": area, "needs": needs, "today": today})

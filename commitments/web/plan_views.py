"""Pledging a whole plan from the assistant's page in one action (commitments.assistant.plans).

The assistant page posts its plan here: `collaborator`, `key` (a UUID minted when the
plan was shown), the lines as repeated `need` / `quantity` pairs, and optionally
`planned_delivery_on` and `note` (commitments.web.forms.PlanForm). Success goes to the user's
commitments; a plan some lines of which changed meanwhile comes back as a page listing
those lines (asked -> available, why) with a button to pledge the adjusted plan under a
new key; nothing is saved before that.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from collaborators.roles import pledge_for_refusal
from programs.units import quantity_with_unit

from ..assistant.plans import PlanChanged, plan_needs, plan_pledge
from ..lifecycle.pledges import PledgeRefused
from .forms import PlanForm


@login_required
def plan_pledge_view(request):
    if request.method != "POST":
        # Plans are shown by the assistant; this address only takes them (a language
        # switch or a reload of a result page lands here).
        return redirect(_assistant_url())
    form = PlanForm(request.POST)
    if not form.is_valid():
        return _refused(request, form=form, status=400)
    data = form.cleaned_data
    refusal = pledge_for_refusal(request.user, data["collaborator"].pk)
    if refusal:
        return _refused(request, message=refusal, status=403)
    try:
        result = plan_pledge(
            user=request.user,
            collaborator=data["collaborator"],
            lines=data["lines"],
            idempotency_key=data["key"],
            planned_delivery_on=data["planned_delivery_on"],
            note=data["note"],
        )
    except PlanChanged as changed:
        return _changed(request, data, changed)
    except PledgeRefused as refusal:
        return _refused(request, message=refusal.message, status=409)
    count = len(result.commitments)
    if not result.same_request:
        return _refused(
            request,
            message=_(
                "This plan form was already used for another plan; nothing was saved. "
                "Ask the assistant for the plan again."
            ),
            status=409,
        )
    if result.created:
        text = ngettext("%(count)s commitment created", "%(count)s commitments created", count)
        messages.success(request, text % {"count": count})
    else:
        messages.info(request, _("This plan was already pledged."))
    return redirect("my-commitments")


def _changed(request, data: dict, changed: PlanChanged):
    needs = plan_needs(line.need_id for line in changed.lines)
    rows = []
    for line in changed.changed:
        need = needs.get(line.need_id)
        unit = need.donation_form.unit if need else ""
        rows.append(
            {
                "need": need,
                "asked": quantity_with_unit(line.asked, unit),
                "available": quantity_with_unit(line.adjusted, unit),
                "reason": line.reason,
            }
        )
    adjusted = [
        {"need": needs[need_id], "need_id": need_id, "quantity": quantity}
        for need_id, quantity in changed.adjusted
    ]
    return render(
        request,
        "commitments/plan_changed.html",
        {
            "rows": rows,
            "adjusted": adjusted,
            "unchanged": len(changed.lines) - len(changed.changed),
            "collaborator": data["collaborator"],
            "planned_delivery_on": data["planned_delivery_on"],
            "note": data["note"],
            # Accepting is a new plan: a new key, so it never replays the refused one.
            "key": uuid.uuid4().hex,
        },
        status=409,
    )


def _refused(request, *, status: int, message: str = "", form: PlanForm | None = None):
    errors = [message] if message else []
    if form is not None:
        errors += [str(e) for field_errors in form.errors.values() for e in field_errors]
    return render(request, "commitments/plan_refused.html", {"errors": errors}, status=status)


def _assistant_url() -> str:
    try:
        return reverse("assistant")
    except NoReverseMatch:  # the assistant page is another module's; the map until it exists
        return reverse("needs-map")

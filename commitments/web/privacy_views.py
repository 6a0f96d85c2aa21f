"""A person's own data (Law 27/2022): their consents, who viewed their data, the download
of everything held about them, and erasure; and the record of processing for staff. Every
page here is the signed-in person's own: none takes another person's id."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from collaborators.models import Consent
from collaborators.privacy import (
    CONSENT_WORDING_VERSION,
    consent_given,
    consent_record,
    consent_states,
)
from collaborators.roles import scopes_for

from ..privacy.erasure import erasure_request
from ..privacy.models import ErasureRequest
from ..privacy.mydata import my_data, views_of
from ..privacy.processing import record_rows

# What a person without a usable password types to confirm erasure.
ERASE_WORD = "HAPUS"


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(choices=Consent.Purpose.choices)
    given = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")


class ErasureForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirmation = forms.CharField(
        label=gettext_lazy("Or type HAPUS to confirm"), required=False, max_length=20
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        if self.user.has_usable_password():
            if not self.user.check_password(data.get("password") or ""):
                raise forms.ValidationError(_("That is not your password."))
        elif (data.get("confirmation") or "").strip().upper() != ERASE_WORD:
            raise forms.ValidationError(_("Type HAPUS to confirm."))
        return data


@login_required
@require_http_methods(["GET", "POST"])
def privacy(request):
    """The person's consents (give or withdraw each, recorded at once) and who looked."""
    form = ConsentForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            messages.error(request, _("Choose a purpose and whether you give it."))
            return redirect("privacy")
        purpose, given = form.cleaned_data["purpose"], form.cleaned_data["given"]
        if purpose == Consent.Purpose.ACCOUNT and not given:
            return redirect("erasure-request")  # withdrawing the account is erasure
        if consent_given(request.user, purpose) != given:
            consent_record(user=request.user, purpose=purpose, given=given)
        messages.success(request, _("Your choice is recorded."))
        return redirect("privacy")
    latest = {c.purpose: c for c in Consent.objects.filter(user=request.user).order_by("at", "pk")}
    return render(
        request,
        "privacy/privacy.html",
        {
            "consents": [
                (purpose, label, given, latest.get(purpose))
                for purpose, label, given in consent_states(request.user)
            ],
            "wording_version": CONSENT_WORDING_VERSION,
            "viewed_by": views_of(request.user),
            "is_staff": scopes_for(request.user).is_admin,
        },
    )


@login_required
@require_http_methods(["GET"])
def my_data_page(request):
    return render(request, "privacy/my_data.html", {"data": my_data(request.user)})


@login_required
@require_http_methods(["GET"])
def my_data_json(request):
    data = {"generated_at": timezone.now(), **my_data(request.user)}
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="data-saya.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def erasure(request):
    """Ask for erasure: the password again (or a typed word), then the account ends now and
    its data is erased by the job within 3 x 24 hours."""
    form = ErasureForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            done = erasure_request(user=request.user)
            logout(request)
            return render(request, "privacy/erasure_requested.html", {"request_row": done})
        status = 400
    else:
        status = 200
    pending = ErasureRequest.objects.filter(user=request.user, done_at__isnull=True).first()
    return render(
        request,
        "privacy/erasure.html",
        {
            "form": form,
            "pending": pending,
            "needs_password": request.user.has_usable_password(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def processing_record(request):
    """The record of processing and the breach procedure, for administrators only."""
    if not scopes_for(request.user).is_admin:
        raise PermissionDenied
    return render(request, "privacy/processing_record.html", {"rows": record_rows()})

"""The account page for a person's WhatsApp number and notification channel. The rules live
in phones.py; this page validates, calls one function, and shows the outcome."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ksbb.whatsapp import whatsapp_provider

from .models import WhatsAppNumber
from .phones import (
    PhoneRefused,
    not_configured_reason,
    number_refusal,
    phone_channel_set,
    phone_code_check,
    phone_code_send,
    phone_number_remove,
    phone_number_set,
)


class NumberForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("WhatsApp number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "0812 3456 7890"}
        ),
    )

    def clean_number(self):
        refusal = number_refusal(self.cleaned_data["number"])
        if refusal:
            raise forms.ValidationError(refusal)
        return self.cleaned_data["number"]


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code sent to your WhatsApp"),
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


def _act(request, action: str) -> tuple[str | None, NumberForm]:
    """Carry out `action`; a message for the person, and the number form to show again."""
    user = request.user
    number_form = NumberForm(request.POST if action == "number" else None)
    if action == "number":
        if not number_form.is_valid():
            return None, number_form
        phone_number_set(user=user, raw=number_form.cleaned_data["number"])
        if whatsapp_provider() is None:
            return _("Number saved. %(reason)s") % {"reason": not_configured_reason()}, number_form
        phone_code_send(user=user)
        return _("We sent a code to your WhatsApp: type it below."), number_form
    if action == "send":
        phone_code_send(user=user)
        return _("We sent a new code to your WhatsApp."), number_form
    if action == "verify":
        form = CodeForm(request.POST)
        if not form.is_valid():
            raise PhoneRefused(_("Type the six-digit code."))
        phone_code_check(user=user, code=form.cleaned_data["code"])
        return _("Your WhatsApp number is verified."), number_form
    if action == "channel":
        phone_channel_set(user=user, channel=request.POST.get("channel", "")[:20])
        return _("Saved."), number_form
    if action == "remove":
        phone_number_remove(user=user)
        return _("Your WhatsApp number was removed."), number_form
    raise PhoneRefused(_("Choose what to do."))


@login_required
def whatsapp_settings(request):
    number_form, status = NumberForm(), 200
    if request.method == "POST":
        try:
            done, number_form = _act(request, request.POST.get("action", "")[:20])
        except PhoneRefused as refusal:
            messages.error(request, refusal.message)
            status = 400
        else:
            if done is not None:
                messages.success(request, done)
                return redirect("whatsapp-settings")
            status = 400
    record = WhatsAppNumber.objects.filter(user=request.user).first()
    configured = whatsapp_provider() is not None
    context = {
        "record": record,
        "number_form": number_form,
        "code_form": CodeForm(),
        "configured": configured,
        "not_configured_reason": not_configured_reason(),
        "waiting_for_code": bool(record and record.code_hash),
        "channels": WhatsAppNumber.Channel,
    }
    return render(request, "collaborators/whatsapp.html", context, status=status)

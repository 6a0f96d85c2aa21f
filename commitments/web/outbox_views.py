"""The outbox page: what this phone keeps to send (issue 22). The actions themselves live
in the browser (IndexedDB, static/js/outbox-store.js); the page brings the words and the
field names static/js/outbox.js lists them with."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from locations.models import Need

from ..models import Status
from .need_forms import NeedFieldsForm


def outbox_texts() -> dict:
    """The words of the outbox page, in the person's language."""
    return {
        "states": {
            "waiting": _("Waiting to send"),
            "sending": _("Sending…"),
            "conflict": _("Changed meanwhile: choose a version"),
            "refused": _("Refused"),
            "sign-in": _("Sign in again to send"),
        },
        "other_user": _("Made by another person on this phone: it waits until they sign in again."),
        "field": _("Field"),
        "mine": _("Your version"),
        "current": _("Current version"),
        "keep_mine": _("Use my version"),
        "take_current": _("Use the current version"),
        "dismiss": _("Dismiss"),
        "sign_in": _("Sign in again to send"),
        "login_url": reverse("login"),
        "photos": _("%(n)s photo(s)"),
        "fields": {name: str(field.label) for name, field in NeedFieldsForm.base_fields.items()},
        "priorities": {str(value): str(label) for value, label in Need.Priority.choices},
        "statuses": {value: str(label) for value, label in Status.choices},
    }


@login_required
def outbox(request):
    return render(request, "commitments/outbox.html", {"texts": outbox_texts()})

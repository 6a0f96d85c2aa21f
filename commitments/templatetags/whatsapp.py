"""WhatsApp share buttons: a plain link to wa.me with a prepared message, in the page's
language, and the absolute link to the page at its end (ksbb.whatsapp.share_url).

- a need, to donors: "Share with donors";
- an adoption page;
- a receipt request on a commitment page: to the facilitators' verified numbers when the
  person looking may see them (collaborators.roles.facilitator_whatsapp_numbers), else a
  link without a number, so they pick the contact;
- a notification, to forward it (or to send it to oneself).
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.translation import gettext as _

from collaborators.models import PersonalDataView
from collaborators.privacy import personal_data_viewed
from collaborators.roles import COLLABORATOR, facilitator_whatsapp_numbers, scopes_for
from ksbb.whatsapp import share_url
from programs.templatetags.ksbb_format import number

register = template.Library()

BUTTON = "commitments/_whatsapp_button.html"


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def need_share_text(need) -> str:
    return _(
        "%(area)s still needs %(quantity)s %(unit)s of %(form)s (%(program)s program). "
        "Help by pledging on the KSBB portal: %(url)s"
    ) % {
        "area": need.area.display_name,
        "quantity": number(need.quantity_remaining),
        "unit": need.donation_form.get_unit_display(),
        "form": need.donation_form.name,
        "program": need.program.name,
        "url": absolute(need.area.get_absolute_url()),
    }


def adoption_share_text(adoption) -> str:
    return _(
        "%(collaborator)s takes care of %(name)s in the %(program)s program. "
        "See the works and how they grow: %(url)s"
    ) % {
        "collaborator": adoption.collaborator.name,
        "name": adoption.name,
        "program": adoption.program.name,
        "url": absolute(adoption.get_absolute_url()),
    }


def receipt_request_text(commitment) -> str:
    return _(
        "Hello, %(collaborator)s has delivered %(form)s for %(area)s (commitment #%(id)s). "
        "Please confirm receipt on the KSBB portal: %(url)s"
    ) % {
        "collaborator": commitment.collaborator.name,
        "form": commitment.donation_form.name,
        "area": commitment.area.display_name,
        "id": commitment.pk,
        "url": absolute(commitment.get_absolute_url()),
    }


def notification_share_text(notification) -> str:
    return f"{notification.subject}\n\n{notification.body}\n\n{absolute(notification.url)}"


@register.inclusion_tag(BUTTON)
def whatsapp_share_need(need) -> dict:
    return {"links": [(share_url(need_share_text(need)), _("Share with donors"))]}


@register.inclusion_tag(BUTTON)
def whatsapp_share_adoption(adoption) -> dict:
    return {"links": [(share_url(adoption_share_text(adoption)), _("Share on WhatsApp"))]}


@register.inclusion_tag(BUTTON)
def whatsapp_share_notification(notification) -> dict:
    text = notification_share_text(notification)
    return {"links": [(share_url(text), _("Open in WhatsApp"))], "small": True}


@register.inclusion_tag(BUTTON, takes_context=True)
def whatsapp_receipt_request(context, commitment, roles) -> dict:
    """For the collaborator's members, the program's leads and administrators while a
    delivery of `commitment` waits for a facilitator to confirm receipt."""
    user = context["request"].user
    scopes = scopes_for(user)
    asks = COLLABORATOR in roles or commitment.program_id in scopes.program_ids
    if not (asks or scopes.is_admin):
        return {"links": []}
    if not commitment.deliveries.filter(confirmed_at__isnull=True).exists():
        return {"links": []}
    text = receipt_request_text(commitment)
    numbers = facilitator_whatsapp_numbers(
        user,
        area=commitment.area,
        site=commitment.site,
        program_id=commitment.program_id,
        collaborator_id=commitment.collaborator_id,
        awaiting_receipt=True,
    )
    if not numbers:
        return {"links": [(share_url(text), _("Ask for receipt confirmation"))]}
    personal_data_viewed(
        viewer=user,
        what=PersonalDataView.What.CONTACT,
        subjects=[facilitator.user for facilitator, _phone in numbers],
        path=context["request"].path,
    )
    label = _("Ask %(title)s to confirm receipt")
    return {
        "links": [
            (share_url(text, phone), label % {"title": facilitator.title})
            for facilitator, phone in numbers
        ]
    }

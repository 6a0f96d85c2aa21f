"""A person's WhatsApp number: added, proven by a code sent to it, then usable as the channel
for notifications. The code is six digits, kept only as a keyed hash, valid ten minutes and
for five tries; sending another is rate-limited. Without a WhatsApp provider configured no
code can be sent, so no number can be verified and email stays the channel."""

from __future__ import annotations

import datetime
import logging
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from ksbb.whatsapp import WhatsAppError, normalise_indonesian_number, whatsapp_provider

from .models import WhatsAppNumber

logger = logging.getLogger(__name__)

CODE_VALID_FOR = datetime.timedelta(minutes=10)
CODE_TRIES = 5
RESEND_AFTER = datetime.timedelta(seconds=60)
SENDS_PER_WINDOW = 5
SEND_WINDOW = datetime.timedelta(hours=24)


class PhoneRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def number_refusal(raw: str) -> str | None:
    """Why `raw` is not a usable WhatsApp number (shared by the form and phone_number_set)."""
    if normalise_indonesian_number(raw) is None:
        return _("Enter an Indonesian mobile number, such as 0812 3456 7890 or +62 812 3456 7890.")
    return None


def _code_hash(record: WhatsAppNumber, code: str) -> str:
    value = f"{record.user_id}:{record.number}:{code}"
    return salted_hmac("collaborators.phones.code", value, algorithm="sha256").hexdigest()


def phone_number_set(*, user, raw: str) -> WhatsAppNumber:
    """Record `raw` (normalised to +628...) as the user's number; a new number starts
    unverified, with email as the channel, until its code is typed back."""
    refusal = number_refusal(raw)
    if refusal:
        raise PhoneRefused(refusal)
    number = normalise_indonesian_number(raw)
    with transaction.atomic():
        record, created = WhatsAppNumber.objects.select_for_update().get_or_create(
            user=user, defaults={"number": number}
        )
        if not created and record.number != number:
            record.number = number
            record.verified_at = None
            record.channel = WhatsAppNumber.Channel.EMAIL
            record.code_hash, record.code_sent_at, record.code_attempts = "", None, 0
            record.save()
    return record


def _send_refusal(record: WhatsAppNumber, now) -> str | None:
    if record.code_sent_at and now - record.code_sent_at < RESEND_AFTER:
        return _("A code was sent less than a minute ago: wait a moment before asking again.")
    in_window = record.sends_since and now - record.sends_since < SEND_WINDOW
    if in_window and record.sends >= SENDS_PER_WINDOW:
        return _("Too many codes were sent to this number today. Try again tomorrow.")
    return None


def phone_code_send(*, user) -> None:
    """Send a new code to the user's number (the stored code is replaced)."""
    provider = whatsapp_provider()
    if provider is None:
        raise PhoneRefused(not_configured_reason())
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        record = WhatsAppNumber.objects.select_for_update().filter(user=user).first()
        if record is None:
            raise PhoneRefused(_("Add your WhatsApp number first."))
        now = timezone.now()
        refusal = _send_refusal(record, now)
        if refusal:
            raise PhoneRefused(refusal)
        if not record.sends_since or now - record.sends_since >= SEND_WINDOW:
            record.sends_since, record.sends = now, 0
        record.sends += 1
        record.code_hash, record.code_sent_at, record.code_attempts = (
            _code_hash(record, code),
            now,
            0,
        )
        record.save()
    # Sent once the code is stored: typed back at once, it is already there to compare.
    text = _("Your KSBB portal code is %(code)s. It is valid for 10 minutes.") % {"code": code}
    try:
        provider.send_text(record.number, text)
    except WhatsAppError as error:
        logger.warning("Could not send a WhatsApp code to user %s: %s", user.pk, error)
        if error.transient:
            raise PhoneRefused(
                _("WhatsApp could not be reached. Try again in a minute.")
            ) from error
        raise PhoneRefused(
            _("WhatsApp refused a message to this number. Check that it uses WhatsApp.")
        ) from error


def phone_code_check(*, user, code: str) -> None:
    """Verify the number when `code` is the one sent; each wrong try counts (five at most)."""
    code = (code or "").strip()
    with transaction.atomic():
        record = WhatsAppNumber.objects.select_for_update().filter(user=user).first()
        refusal = _check_refusal(record)
        if refusal is None:
            record.code_attempts += 1
            matches = (
                len(code) == 6
                and code.isascii()
                and code.isdigit()
                and constant_time_compare(record.code_hash, _code_hash(record, code))
            )
            if matches:
                record.verified_at, record.code_hash = timezone.now(), ""
            record.save()
            if not matches:
                left = CODE_TRIES - record.code_attempts
                refusal = _("That code is not right (%(left)s tries left).") % {"left": left}
    if refusal:
        raise PhoneRefused(refusal)


def _check_refusal(record: WhatsAppNumber | None) -> str | None:
    if record is None:
        return _("Add your WhatsApp number first.")
    if record.is_verified and not record.code_hash:
        return _("This number is already verified.")
    if not record.code_hash or not record.code_sent_at:
        return _("Ask for a code first.")
    if timezone.now() - record.code_sent_at > CODE_VALID_FOR:
        return _("This code has expired: ask for a new one.")
    if record.code_attempts >= CODE_TRIES:
        return _("Too many wrong tries: ask for a new code.")
    return None


def phone_channel_set(*, user, channel: str) -> None:
    """Email or WhatsApp for notifications; WhatsApp only with a verified number."""
    if channel not in WhatsAppNumber.Channel.values:
        raise PhoneRefused(_("Choose email or WhatsApp."))
    if channel == WhatsAppNumber.Channel.WHATSAPP:
        if whatsapp_provider() is None:
            raise PhoneRefused(not_configured_reason())
        updated = WhatsAppNumber.objects.filter(user=user, verified_at__isnull=False).update(
            channel=channel
        )
        if updated != 1:
            raise PhoneRefused(_("Verify your WhatsApp number first."))
        return
    WhatsAppNumber.objects.filter(user=user).update(channel=channel)


def phone_number_remove(*, user) -> None:
    WhatsAppNumber.objects.filter(user=user).delete()


def not_configured_reason() -> str:
    return _(
        "The portal does not send WhatsApp messages yet (no WhatsApp provider is configured), "
        "so numbers cannot be verified and notifications come by email."
    )

"""WhatsApp: share links anyone can open, and the provider that sends messages for the portal.

Share links (https://wa.me/?text=...) need no account and no provider: WhatsApp opens with
the text ready and the person picks the chat (or the number in the link).

Sending goes through one small interface, `WhatsAppProvider.send_text`, with one real
implementation speaking Meta's WhatsApp Business Cloud API. Settings (env vars):
WHATSAPP_PROVIDER ("" = none, "cloud_api"), WHATSAPP_API_URL, WHATSAPP_PHONE_NUMBER_ID,
WHATSAPP_TOKEN, and WHATSAPP_TEMPLATE_NAME / WHATSAPP_TEMPLATE_LANGUAGE: WhatsApp accepts a
free-form text only within 24 hours of the person's last message to the business, so a
portal that writes first needs an approved template (one body parameter: the message).
Failures are told apart: transient ones (network, rate limits, WhatsApp's own trouble) are
retried later; permanent ones (a refused number, a bad token or template) are not, and the
caller falls back to email.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from django.conf import settings

logger = logging.getLogger(__name__)

# Longest E.164 number: "+" and 15 digits.
PHONE_MAX_LENGTH = 16
_INDONESIAN_MOBILE = re.compile(r"8\d{8,11}")
_SEPARATORS = re.compile(r"[\s().\-]")

# Graph API error codes worth retrying: rate limits and WhatsApp's own temporary trouble.
TRANSIENT_CODES = {1, 2, 4, 17, 341, 80007, 130429, 131000, 131016, 131048, 131056, 133004}


def normalise_indonesian_number(value: str) -> str | None:
    """+628... for an Indonesian mobile number typed as 08xx, +628xx or 628xx (spaces,
    dashes, dots and brackets ignored); None for anything else."""
    if not isinstance(value, str) or len(value) > 40 or "\x00" in value:
        return None
    digits = _SEPARATORS.sub("", value.strip())
    if digits.startswith("+62"):
        rest = digits[3:]
    elif digits.startswith("62"):
        rest = digits[2:]
    elif digits.startswith("0"):
        rest = digits[1:]
    else:
        return None
    if not rest.isascii() or not _INDONESIAN_MOBILE.fullmatch(rest):
        return None
    return "+62" + rest


def share_url(text: str, number: str = "") -> str:
    """A wa.me link that opens WhatsApp with `text` ready: to `number` (E.164) when given,
    else to a chat the person picks."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"https://wa.me/{digits}?text={quote(text, safe='')}"


class WhatsAppError(Exception):
    """A message WhatsApp did not take. `transient`: worth trying again later."""

    def __init__(self, message: str, *, transient: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code


class WhatsAppProvider(Protocol):
    def send_text(self, to: str, body: str) -> str:
        """Send `body` to `to` (E.164); the provider's message id. Raises WhatsAppError."""
        ...


@dataclass
class CloudApiProvider:
    """Meta's WhatsApp Business Cloud API: POST {api_url}/{phone_number_id}/messages."""

    api_url: str
    phone_number_id: str
    token: str
    template_name: str = ""
    template_language: str = "id"
    timeout: float = 5.0

    def payload(self, to: str, body: str) -> dict:
        message = {"messaging_product": "whatsapp", "to": to.lstrip("+")}
        if self.template_name:
            message["type"] = "template"
            message["template"] = {
                "name": self.template_name,
                "language": {"code": self.template_language},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": body}]}],
            }
        else:
            message.update(type="text", text={"preview_url": True, "body": body})
        return message

    def send_text(self, to: str, body: str) -> str:
        request = urllib.request.Request(
            f"{self.api_url.rstrip('/')}/{self.phone_number_id}/messages",
            data=json.dumps(self.payload(to, body)).encode(),
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = response.read(100_000)
        except urllib.error.HTTPError as error:
            raise _classified(error.code, error.read(100_000)) from error
        except (OSError, http.client.HTTPException) as error:  # URLError, timeouts, resets
            raise WhatsAppError(f"WhatsApp unreachable: {error}", transient=True) from error
        try:
            return str(json.loads(answer)["messages"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError) as error:
            # Taken, perhaps: trying again could send it twice.
            raise WhatsAppError("Unexpected answer from WhatsApp", transient=False) from error


def _classified(status: int, answer: bytes) -> WhatsAppError:
    """The Graph API's error ({"error": {"message", "type", "code", "error_data"}}) as a
    WhatsAppError: its code decides, the HTTP status when it has none."""
    try:
        error = json.loads(answer).get("error") or {}
        code = int(error.get("code"))
        message = str(error.get("message", ""))[:300]
    except (ValueError, TypeError, AttributeError):
        code, message = None, ""
    transient = code in TRANSIENT_CODES if code is not None else False
    transient = transient or status == 429 or status >= 500
    return WhatsAppError(
        f"WhatsApp HTTP {status} ({code}): {message}", transient=transient, code=code
    )


def whatsapp_provider() -> WhatsAppProvider | None:
    """The configured provider, or None when the portal sends no WhatsApp messages."""
    if settings.WHATSAPP_PROVIDER != "cloud_api":
        return None
    if not (settings.WHATSAPP_PHONE_NUMBER_ID and settings.WHATSAPP_TOKEN):
        logger.warning("WHATSAPP_PROVIDER is set but its phone number id or token is missing")
        return None
    return CloudApiProvider(
        api_url=settings.WHATSAPP_API_URL,
        phone_number_id=settings.WHATSAPP_PHONE_NUMBER_ID,
        token=settings.WHATSAPP_TOKEN,
        template_name=settings.WHATSAPP_TEMPLATE_NAME,
        template_language=settings.WHATSAPP_TEMPLATE_LANGUAGE,
        timeout=settings.WHATSAPP_TIMEOUT,
    )

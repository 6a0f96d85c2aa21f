"""Error bodies of the API as RFC 9457 problem details (application/problem+json).

Every error the API returns, from DRF's own exceptions (validation, authentication,
permission, not found, throttling) to the domain's refusals (PledgeRefused,
TransitionRefused, NeedChanged, ExportRefused), goes through `problem_handler`:

    {"type": "https://ksbb.example/problems/validation", "title": "...", "status": 400,
     "detail": "...", "errors": {"field": ["message", ...]}}

`type` is a URI under the portal's own /api/problems/ page (documented there), `title` is
the short, stable summary of the kind of problem, `detail` the message for this occurrence.

What a client (the offline outbox) acts on, by the end of `type`:
- `#not-authenticated` (401, whatever the status DRF chose): not signed in, the session
  expired, or the token is invalid: sign in again, then re-send.
- `#permission-denied` (403): signed in but not allowed (a role lost, or a CSRF failure,
  whose `detail` starts with "CSRF Failed"); `detail` says why.
- `#conflict` (409): an Idempotency-Key reused for another request, or a stale need version
  (`current` = the need now); `#refused` (422): the domain refuses it (for a commitment's
  transition or receipt, `current` = the commitment now); `#validation` (400): `errors`
  by field. A replayed success carries the header `Idempotency-Replayed: true`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"


class Conflict(exceptions.APIException):
    """The request clashes with the current state (a reused Idempotency-Key with another
    body, a stale version of a need, a transition no longer possible)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    """Well-formed, but the domain refuses it (a pledge over what remains, ...)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("The request was understood but cannot be carried out.")
    default_code = "refused"


# Stable problem types: the last part of the type URI, by DRF's error code.
_TYPES = {
    400: "validation",
    401: "not-authenticated",
    403: "permission-denied",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "too-large",
    415: "unsupported-media-type",
    422: "refused",
    428: "precondition-required",
    429: "throttled",
}


def problem_type(status_code: int) -> str:
    from django.conf import settings

    return f"{settings.SITE_URL}/api/problems/#{_TYPES.get(status_code, 'error')}"


def problem_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 handling (logged) takes over
    data = response.data
    signed_out = isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed)
    body = {
        "type": problem_type(401 if signed_out else response.status_code),
        "title": str(_title(response.status_code)),
        "status": response.status_code,
    }
    if isinstance(data, dict) and set(data) == {"detail"}:
        body["detail"] = str(data["detail"])
    else:
        body["detail"] = str(_("Some of the values sent are not valid."))
        body["errors"] = data if isinstance(data, dict) else {"non_field_errors": data}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        body["retry_after"] = int(exc.wait)
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _title(status_code: int):
    return {
        400: _("Invalid request"),
        401: _("Not signed in"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Method not allowed"),
        406: _("Not acceptable"),
        409: _("Conflict"),
        412: _("Precondition failed"),
        413: _("Request too large"),
        415: _("Unsupported media type"),
        422: _("Refused"),
        428: _("Precondition required"),
        429: _("Too many requests"),
    }.get(status_code, _("Error"))

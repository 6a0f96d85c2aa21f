"""Idempotency-Key on API writes: a request sent again (an offline outbox retrying after a
lost answer) gets the first answer again instead of writing twice.

A write sent with `Idempotency-Key: <key>` claims a row (user, SHA-256 of the key) FIRST,
inside the transaction that then runs the write; the 2xx answer is stored in that row and
both commit together. A refusal (4xx, or an exception) rolls the whole transaction back, the
claim included, so the same key can carry the corrected request. On PostgreSQL a concurrent
duplicate blocks on the unique index until the first commits, then replays its answer; on
SQLite (IMMEDIATE transactions) writers are serialised anyway.

Replays answer the stored status and body with `Idempotency-Replayed: true`. The same key
with another method, path or body is a 409 problem and writes nothing. Without the header a
write behaves as it always did. Pledges, plans and offline commitments keep their key on the
commitment row (commitments.lifecycle) and only share the header parsing and replay header.

Rows are forgotten after KEEP_DAYS by the forget_idempotent_requests job (api.tasks).

Files are not transactional: should storing the answer fail after a write that saved files
(receipt photos) succeeded, the rollback leaves those files behind (Django has no hook on
rollback); the write's own failures remove theirs (commitments.lifecycle.transitions).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from functools import wraps

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from .errors import Conflict
from .models import IdempotentRequest

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_MAX = 100
# The contract's name, and the name pledges answered with before it (kept for their clients).
REPLAYED_HEADER = "Idempotency-Replayed"
LEGACY_REPLAYED_HEADER = "Idempotent-Replayed"
REPLAYED_HEADERS = {REPLAYED_HEADER: "true", LEGACY_REPLAYED_HEADER: "true"}
# As long as a sign-in session lives (Django's default, two weeks): an outbox queued under a
# session is sent within it, so a retry older than that is not a retry but a new request.
KEEP_DAYS = 14


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = _("This request needs a precondition header.")
    default_code = "precondition_required"


def idempotency_key(request, *, required: bool) -> str | None:
    """The stored form of the request's Idempotency-Key: its SHA-256, which fits the column
    whatever the key's length and never equals a web form's key (32 hex digits)."""
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        if required:
            raise PreconditionRequired(
                _("Send an Idempotency-Key header (for instance a new UUID) with every pledge.")
            )
        return None
    key = raw.strip()
    if not (1 <= len(key) <= IDEMPOTENCY_MAX) or not all(" " <= c <= "~" for c in key):
        raise exceptions.ValidationError(
            {IDEMPOTENCY_HEADER: [_("Use 1 to 100 printable ASCII characters.")]}
        )
    return hashlib.sha256(key.encode("ascii")).hexdigest()


OPTIONAL_KEY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional: 1 to 100 printable ASCII characters, new for every change (a UUID will "
        "do). A retry with the same key, method, path and body writes nothing more and gets "
        "the first successful answer again, with the header Idempotency-Replayed: true; the "
        "same key with another request is a 409. A refused request stores nothing, so the key "
        "can be sent again with a corrected body. Keys are kept 14 days."
    ),
)


def replayed_header(*codes: int) -> OpenApiParameter:
    """The response header of a replayed answer, documented on the success codes."""
    return OpenApiParameter(
        REPLAYED_HEADER,
        str,
        OpenApiParameter.HEADER,
        response=list(codes),
        enum=["true"],
        description=(
            "Present (true) when this is the stored answer to an earlier request with the "
            "same Idempotency-Key: nothing was written this time."
        ),
    )


KEY_CONFLICT = _(
    "This Idempotency-Key was already used for another request; nothing was written. Use a "
    "new key for a new request."
)


def body_digest(request) -> str:
    """SHA-256 of the request body as parsed, uploaded files by their bytes, and of the
    If-Match header (a need's version may come there instead of the body). Parsed rather
    than raw: a multipart body sent again gets a new boundary, and the same form sent twice
    must still match."""
    data = request.data
    if isinstance(data, QueryDict):
        data = {name: [_digest_value(v) for v in values] for name, values in data.lists()}
    elif isinstance(data, dict):
        data = {name: _digest_value(value) for name, value in data.items()}
    signed = [data, request.headers.get("If-Match")]
    text = json.dumps(signed, sort_keys=True, cls=JSONEncoder, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _digest_value(value):
    if not isinstance(value, UploadedFile):
        return value
    digest = hashlib.sha256()
    for chunk in value.chunks():
        digest.update(chunk)
    value.seek(0)  # the view reads it again
    return {"file-sha256": digest.hexdigest()}


def _claim(user, key: str, method: str, path: str, digest: str) -> IdempotentRequest | None:
    """Insert the claim; None if it is new, else the row that holds the key (on PostgreSQL,
    after waiting for the transaction that claimed it to end)."""
    try:
        with transaction.atomic():
            IdempotentRequest.objects.create(
                user=user, key_digest=key, method=method, path=path, body_digest=digest
            )
        return None
    except IntegrityError:
        return IdempotentRequest.objects.get(user=user, key_digest=key)


def _replay(row: IdempotentRequest, method: str, path: str, digest: str) -> Response:
    if row.status_code is None or not row.same_request(
        method=method, path=path, body_digest=digest
    ):
        raise Conflict(KEY_CONFLICT)
    body = json.loads(row.response_json) if row.response_json else None
    return Response(body, status=row.status_code, headers=REPLAYED_HEADERS)


def idempotent(view: Callable) -> Callable:
    """Make a DRF view method (its write methods) idempotent under an optional
    Idempotency-Key. Reads (GET, HEAD, OPTIONS) pass through."""

    @wraps(view)
    def run(self, request, *args, **kwargs):
        key = None
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            key = idempotency_key(request, required=False)
        if key is None or not request.user.is_authenticated:
            return view(self, request, *args, **kwargs)
        method, path, digest = request.method, request.path[:1000], body_digest(request)
        with transaction.atomic():
            row = _claim(request.user, key, method, path, digest)
            if row is not None:
                return _replay(row, method, path, digest)
            response = view(self, request, *args, **kwargs)
            if not status.is_success(response.status_code):
                transaction.set_rollback(True)
                return response
            stored = "" if response.data is None else json.dumps(response.data, cls=JSONEncoder)
            IdempotentRequest.objects.filter(user=request.user, key_digest=key).update(
                status_code=response.status_code, response_json=stored
            )
        return response

    return run


def idempotent_requests_forget(*, now: datetime.datetime | None = None) -> int:
    """Delete the rows older than KEEP_DAYS; returns how many."""
    before = (now or timezone.now()) - datetime.timedelta(days=KEEP_DAYS)
    deleted, _by_model = IdempotentRequest.objects.filter(created_at__lt=before).delete()
    return deleted

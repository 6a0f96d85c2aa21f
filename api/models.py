"""API tokens: keys for integrations, created and revoked by a signed-in user."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collaborators.models import Collaborator

KEY_PREFIX = "ksbb_"
# Shown in lists so that a user can tell their tokens apart; too short to guess a key from.
VISIBLE_CHARS = 8
# last_used_at is written at most this often per token: no write on every request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A key for `Authorization: Bearer <key>`. Only its SHA-256 digest is stored: the key
    is shown once, when created. With a collaborator it acts only for that collaborator
    (api.authentication narrows the user's scopes); without, it carries the user's roles."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    collaborator = models.ForeignKey(
        Collaborator,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The token acts only for this collaborator; empty: for all the user's roles."),
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=VISIBLE_CHARS + len(KEY_PREFIX), editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.CheckConstraint(condition=~Q(digest=""), name="api_token_digest_present"),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=models.F("created_at")),
                name="api_token_revoked_after_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, *, user, name: str, collaborator: Collaborator | None = None):
        """Create a token; returns (token, key). The key is not kept anywhere."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            collaborator=collaborator,
            name=name,
            prefix=key[: len(KEY_PREFIX) + VISIBLE_CHARS],
            digest=key_digest(key),
        )
        return token, key

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> bool:
        """Revoke once; a second call (another tab, a double click) changes nothing."""
        now = timezone.now()
        done = ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=now)
        if done:
            self.revoked_at = now
        return bool(done)

    def touch(self, now: datetime.datetime | None = None) -> None:
        """Record a use, at most once per LAST_USED_RESOLUTION (a conditional UPDATE, so
        concurrent requests write once between them)."""
        now = now or timezone.now()
        if self.last_used_at and now - self.last_used_at < LAST_USED_RESOLUTION:
            return
        ApiToken.objects.filter(pk=self.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        self.last_used_at = now


class IdempotentRequest(models.Model):
    """The first successful answer to an API write sent with an Idempotency-Key
    (api.idempotency): a retry of the same request by the same user gets it again instead
    of writing twice. The key is stored as its SHA-256; the request as its fingerprint."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key_digest = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=1000)
    body_digest = models.CharField(max_length=64)
    # Empty until the answer is stored, in the same transaction as the claim: a committed row
    # always has it.
    status_code = models.PositiveSmallIntegerField(null=True)
    # JSON as text: PostgreSQL's jsonb would reorder the keys, and a replay answers the same.
    response_json = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key_digest"], name="api_idempotent_request_one_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def same_request(self, *, method: str, path: str, body_digest: str) -> bool:
        return (self.method, self.path, self.body_digest) == (method, path, body_digest)

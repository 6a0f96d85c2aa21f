"""API authentication: `Authorization: Bearer <key>` (or `Token <key>`) for integrations,
and the browser's session (with its CSRF check) for the portal's own pages."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from collaborators.models import Membership
from collaborators.roles import Scopes

from .models import ApiToken, key_digest

KEYWORDS = ("bearer", "token")
MAX_KEY_LENGTH = 200


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """A token bound to a collaborator acts only for that collaborator: the user's scopes
    (collaborators.roles.scopes_for, cached on the user) are narrowed to it, with no
    facilitator, lead or administrator powers."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in KEYWORDS:
            return None
        if len(header) != 2 or len(header[1]) > MAX_KEY_LENGTH:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from None
        token = (
            ApiToken.objects.active()
            .select_related("user", "collaborator")
            .filter(digest=key_digest(key))
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        user = token.user
        if token.collaborator_id is not None:
            role = (
                Membership.objects.filter(user=user, collaborator_id=token.collaborator_id)
                .exclude(role=Membership.Role.PENDING)
                .values_list("role", flat=True)
                .first()
            )
            if role is None:
                raise exceptions.AuthenticationFailed(
                    _("The token's user no longer belongs to its collaborator.")
                )
            user._ksbb_scopes = Scopes(
                collaborator_ids={token.collaborator_id},
                owner_of={token.collaborator_id} if role == Membership.Role.OWNER else set(),
            )
        token.touch()
        return user, token

    def authenticate_header(self, request) -> str:
        # Makes unauthenticated requests 401 (with this challenge) rather than 403.
        return 'Bearer realm="api"'


class SessionCookieAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, which a request without a session cookie skips: its
    session is empty, no user in it, and loading it would cost a good part of a fast read
    (the API's responses vary on Cookie all the same: api.middleware)."""

    def authenticate(self, request):
        if settings.SESSION_COOKIE_NAME not in request._request.COOKIES:
            return None
        return super().authenticate(request)

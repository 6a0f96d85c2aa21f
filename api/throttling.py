"""Throttles of the API, counted in the cache (Redis in production). Rates come from
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (settings, overridable by environment variables),
read at each request so that tests and deployments can change them.

With Redis down the cache ignores the error and counts nothing: requests are let through
rather than refused (the portal stays up; axes and the pledge limits still hold)."""

from __future__ import annotations

from rest_framework import throttling
from rest_framework.settings import api_settings


class _RatesFromSettings:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(_RatesFromSettings, throttling.AnonRateThrottle):
    scope = "anon"


class UserThrottle(_RatesFromSettings, throttling.UserRateThrottle):
    scope = "user"


class ScopedThrottle(_RatesFromSettings, throttling.ScopedRateThrottle):
    """Views that set `throttle_scope` ("pledge", "signin") get that tighter rate too."""


class SigninThrottle(_RatesFromSettings, throttling.SimpleRateThrottle):
    """Signing in and creating tokens: counted per client address (and per user, once
    signed in), usable outside DRF views through `allow(request)`."""

    scope = "signin"

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        ident = (
            f"u{user.pk}" if user is not None and user.is_authenticated else self.get_ident(request)
        )
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow(self, request) -> bool:
        return self.allow_request(request, None)

"""Throttles of the API, counted in the cache (Redis in production). Rates come from
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (settings, overridable by environment variables),
read at each request so that tests and deployments can change them.

With Redis down the cache ignores the error and counts nothing: requests are let through
rather than refused (the portal stays up; axes and the pledge limits still hold).

Each throttle keeps DRF's sliding window: the times of the requests it let through in the
last period, newest first. They are kept in the cache as the bytes of an array of doubles,
not as a list of floats: read and written at every request, one block of bytes (un)pickles
in a fraction of the time of as many float objects (or of an array object)."""

from __future__ import annotations

from array import array

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from rest_framework import throttling
from rest_framework.settings import api_settings


class _RatesFromSettings:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class _CompactHistory(throttling.SimpleRateThrottle):
    """SimpleRateThrottle's allow_request and throttle_success with the history kept as
    bytes (a list left in the cache by DRF's own throttles is read as well)."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        # The default cache itself, not its proxy: one lookup rather than one per call.
        self.store = caches[DEFAULT_CACHE_ALIAS] if self.cache is default_cache else self.cache
        self.history = history = array("d")
        kept = self.store.get(self.key)
        if isinstance(kept, bytes):
            history.frombytes(kept)
        elif kept:
            history.extend(kept)
        self.now = self.timer()
        # Drop the requests that have left the window (the oldest are last).
        while history and history[-1] <= self.now - self.duration:
            history.pop()
        if len(history) >= self.num_requests:
            return self.throttle_failure()
        return self.throttle_success()

    def throttle_success(self):
        self.history.insert(0, self.now)
        self.store.set(self.key, self.history.tobytes(), self.duration)
        return True


# _CompactHistory comes after DRF's throttle in each: ScopedRateThrottle.allow_request picks
# the view's scope first, then calls it.
class AnonThrottle(_RatesFromSettings, throttling.AnonRateThrottle, _CompactHistory):
    scope = "anon"


class UserThrottle(_RatesFromSettings, throttling.UserRateThrottle, _CompactHistory):
    scope = "user"


class ScopedThrottle(_RatesFromSettings, throttling.ScopedRateThrottle, _CompactHistory):
    """Views that set `throttle_scope` ("pledge", "signin") get that tighter rate too."""


class SigninThrottle(_RatesFromSettings, _CompactHistory):
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

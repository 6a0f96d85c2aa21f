"""Middleware of the API (/api/ only): ETags for its reads (Django's conditional-GET
handling: an ETag from the body's hash, 304 for a matching If-None-Match; the map's JSON views
keep their own, cheaper, version-based ETags); problem bodies for NUL bytes; its URLs looked
up first."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.http import JsonResponse
from django.middleware.http import ConditionalGetMiddleware
from django.urls import include, path
from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag
from django.utils.translation import gettext as _

from ksbb.middleware import _has_nul

from .errors import PROBLEM_CONTENT_TYPE, problem_type

API_PREFIX = "/api/"
# Without any of these, get_conditional_response leaves the response as it is.
CONDITIONAL_HEADERS = (
    "HTTP_IF_MATCH",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
)


class ApiConditionalGetMiddleware(ConditionalGetMiddleware):
    def process_response(self, request, response):
        if not request.path.startswith(API_PREFIX) or request.method not in ("GET", "HEAD"):
            return response
        if response.status_code != 200:
            return response
        # The same URL answers differently per token or session, format and language.
        patch_vary_headers(response, ("Authorization", "Cookie", "Accept", "Accept-Language"))
        # Django's own skips HEAD, whose body is empty in most views; DRF answers HEAD with
        # the GET body (the server drops it afterwards), so the hash is the GET's. A view
        # that knows its ETag (the need state's) saves the hash.
        if not response.has_header("ETag") and not response.streaming and self.needs_etag(response):
            set_response_etag(response)
        etag = response.get("ETag")
        if etag and any(header in request.META for header in CONDITIONAL_HEADERS):
            return get_conditional_response(request, etag=etag, response=response)
        return response


class ApiFirstURLconf:
    """The portal's URLconf with the API's URLs tried first: the URLconf of API requests.
    The portal's own list reaches them only after every page's pattern (an /api/ path
    matches none of them: the API's end with a catch-all for /api/), a good part of a fast
    request's time; reverse() still knows every name."""

    def __init__(self, root: str):
        self.root = root

    @property
    def urlpatterns(self) -> list:
        return [path("", include("api.urls")), path("", include(self.root))]


@cache
def api_first_urlconf(root: str) -> ApiFirstURLconf:
    return ApiFirstURLconf(root)  # one per root, for Django's resolver cache


class ApiRefuseNulBytesMiddleware:
    """A NUL byte in an API request's path or parameters gets a problem body (the portal's
    own RefuseNulBytesMiddleware, after this one, answers pages with an HTML page). Other
    API requests are resolved against ApiFirstURLconf."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if _has_nul(request):
            return JsonResponse(
                {
                    "type": problem_type(400),
                    "title": str(_("Invalid request")),
                    "status": 400,
                    "detail": str(_("The request contains a character that is not allowed.")),
                },
                status=400,
                content_type=PROBLEM_CONTENT_TYPE,
            )
        request.urlconf = api_first_urlconf(settings.ROOT_URLCONF)
        return self.get_response(request)

"""ETags for the API's reads: Django's conditional-GET handling (an ETag from the body's
hash, 304 for a matching If-None-Match), applied to /api/ only. The map's JSON views keep
their own, cheaper, version-based ETags."""

from __future__ import annotations

from django.http import JsonResponse
from django.middleware.http import ConditionalGetMiddleware
from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag
from django.utils.translation import gettext as _

from ksbb.middleware import _has_nul

from .errors import PROBLEM_CONTENT_TYPE, problem_type

API_PREFIX = "/api/"


class ApiConditionalGetMiddleware(ConditionalGetMiddleware):
    def process_response(self, request, response):
        if not request.path.startswith(API_PREFIX) or request.method not in ("GET", "HEAD"):
            return response
        if response.status_code != 200:
            return response
        # The same URL answers differently per token, format and language.
        patch_vary_headers(response, ("Authorization", "Accept", "Accept-Language"))
        # Django's own skips HEAD, whose body is empty in most views; DRF answers HEAD with
        # the GET body (the server drops it afterwards), so the hash is the GET's.
        if self.needs_etag(response) and not response.has_header("ETag") and not response.streaming:
            set_response_etag(response)
        if etag := response.get("ETag"):
            return get_conditional_response(request, etag=etag, response=response)
        return response


class ApiRefuseNulBytesMiddleware:
    """A NUL byte in an API request's path or parameters gets a problem body (the portal's
    own RefuseNulBytesMiddleware, after this one, answers pages with an HTML page)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX) and _has_nul(request):
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
        return self.get_response(request)

"""Request checks that every view would otherwise have to repeat."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _has_nul(request: HttpRequest) -> bool:
    texts = [request.path]
    for params in (request.GET, request.POST):
        for key, values in params.lists():
            texts += [key, *values]
    return any("\x00" in text for text in texts)


class RefuseNulBytesMiddleware:
    """Answer 400 to a request whose path, query or form fields hold a NUL byte.

    PostgreSQL cannot store or even compare text containing NUL, so such a value would
    reach the database as a server error wherever a view reads a parameter directly (form
    fields already refuse it). Uploaded files' bytes are not text and are not looked at.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            return render(request, "bad_character.html", status=400)
        return self.get_response(request)

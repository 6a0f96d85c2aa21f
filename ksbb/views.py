from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.http import require_GET


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Pages that do not link the icon (the admin's) make browsers ask for /favicon.ico."""
    return redirect(static("favicon.svg"))

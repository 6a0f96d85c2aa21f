from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from collaborators.models import Collaborator
from programs.models import Program


def home(request: HttpRequest) -> HttpResponse:
    """Here, not in programs: the collaborator total counts each collaborator once, as the
    gallery lists them (one may give to several programs), which programs cannot see."""
    programs = list(Program.objects.prefetch_related("donation_forms"))
    totals = {
        "collaborators": Collaborator.objects.verified().count(),
        "commitments": sum(p.live_commitments for p in programs),
        "value": sum(p.live_value_idr for p in programs),
        "rw": sum(p.live_rw_covered for p in programs),
        "reported_value": sum(p.reported_value_idr or 0 for p in programs),
        "computed_at": max(
            (p.live_updated_at for p in programs if p.live_updated_at), default=None
        ),
    }
    return render(request, "programs/home.html", {"programs": programs, "totals": totals})


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Pages that do not link the icon (the admin's) make browsers ask for /favicon.ico."""
    return redirect(static("favicon.svg"))

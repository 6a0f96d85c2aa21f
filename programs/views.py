from django.db.models import Count, F, Sum
from django.shortcuts import get_object_or_404, render

from .models import Program


def home(request):
    programs = list(Program.objects.prefetch_related("donation_forms"))
    totals = {
        "collaborators": sum(p.live_collaborators for p in programs),
        "commitments": sum(p.live_commitments for p in programs),
        "value": sum(p.live_value_idr for p in programs),
        "rw": sum(p.live_rw_covered for p in programs),
        "reported_value": sum(p.reported_value_idr or 0 for p in programs),
    }
    return render(request, "programs/home.html", {"programs": programs, "totals": totals})


def program_detail(request, slug: str):
    program = get_object_or_404(
        Program.objects.prefetch_related("donation_forms", "pauses"), slug=slug
    )
    open_needs = program.needs.open().aggregate(
        lines=Count("pk"), remaining=Sum(F("quantity_needed") - F("quantity_claimed"))
    )
    return render(
        request,
        "programs/program_detail.html",
        {"program": program, "forms": program.donation_forms.all(), "open_needs": open_needs},
    )

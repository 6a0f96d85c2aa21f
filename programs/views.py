from django.db.models import Count, F, Sum
from django.shortcuts import get_object_or_404, render

from .models import Program


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

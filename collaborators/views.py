from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from programs.models import Program

from .models import Collaborator

PAGE_SIZE = 24


def gallery(request):
    """Verified collaborators only; contact details live in another model and never load."""
    collaborators = (
        Collaborator.objects.verified()
        .publicly_named()
        .prefetch_related("programs")
        .order_by("-live_commitments", "name")
    )
    kind = request.GET.get("kind", "")
    if kind in Collaborator.Kind.values:
        collaborators = collaborators.filter(kind=kind)
    else:
        kind = ""
    program = Program.objects.filter(slug=request.GET.get("program", "")).first()
    if program:
        collaborators = collaborators.filter(programs=program)
    page = Paginator(collaborators, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "collaborators/gallery.html",
        {
            "page": page,
            "kinds": Collaborator.Kind.choices,
            "kind": kind,
            "programs": Program.objects.all(),
            "program": program,
            "computed_at": Program.figures_computed_at(),
        },
    )


def collaborator_detail(request, slug: str):
    collaborator = get_object_or_404(
        Collaborator.objects.verified().publicly_named().prefetch_related("programs"), slug=slug
    )
    return render(
        request,
        "collaborators/detail.html",
        {"collaborator": collaborator, "computed_at": Program.figures_computed_at()},
    )

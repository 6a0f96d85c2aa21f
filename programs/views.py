from django.shortcuts import render

from .models import Program


def home(request):
    programs = Program.objects.prefetch_related("donation_forms")
    return render(request, "programs/home.html", {"programs": programs})

"""Adoptions in the admin: to look at, not to change. An adoption moves only through
commitments.adoption.rules (the lead's decisions, the facilitators' comments, the claims the
partial unique index holds, the notices), and its works through the commitment lifecycle:
an admin form that wrote them would skip all of that. So every page is read-only (staff
see the change page as a view page) and nothing is added or deleted here."""

from django.contrib import admin

from ksbb.admin_site import ReadOnly
from locations.models import area_geometry_deferred

from .models import Adoption, AdoptionArea, AdoptionWork, FacilitatorComment, NeedFirstOffer, Phase


class ReadOnlyInline(ReadOnly, admin.TabularInline):
    extra = 0
    can_delete = False


class PhaseInline(ReadOnlyInline):
    model = Phase
    fields = ["order", "title", "target_on"]


class ClaimInline(ReadOnlyInline):
    model = AdoptionArea
    fields = ["area", "is_chosen", "holds"]
    verbose_name_plural = "areas"

    def get_queryset(self, request):
        areas = super().get_queryset(request).select_related("area")
        return areas.defer(*area_geometry_deferred("area"))


class CommentInline(ReadOnlyInline):
    model = FacilitatorComment
    fields = ["at", "author_title", "area", "text"]


class WorkInline(ReadOnlyInline):
    model = AdoptionWork
    fields = ["phase", "commitment"]


@admin.register(Adoption)
class AdoptionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "collaborator", "program", "status", "starts_on", "ends_on"]
    list_filter = ["status", "program"]
    search_fields = ["name", "collaborator__name"]
    list_select_related = ["collaborator", "program"]
    date_hierarchy = "proposed_at"
    inlines = [ClaimInline, PhaseInline, CommentInline, WorkInline]


@admin.register(NeedFirstOffer)
class NeedFirstOfferAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["need", "adoption", "until", "created_at"]
    search_fields = ["adoption__name", "adoption__collaborator__name"]
    list_select_related = ["need__area", "need__donation_form", "adoption__collaborator"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*area_geometry_deferred("need__area"))

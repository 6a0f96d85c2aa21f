from django.contrib import admin
from django.db import models
from django.utils import timezone

from .models import Collaborator, CollaboratorContact, Membership, ProgramVerification


class ContactInline(admin.StackedInline):
    model = CollaboratorContact
    can_delete = False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class ProgramVerificationInline(admin.TabularInline):
    model = ProgramVerification
    extra = 0
    fields = ["program", "status", "decided_by", "decided_at", "reason"]
    readonly_fields = ["decided_by", "decided_at"]


@admin.register(Collaborator)
class CollaboratorAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "verification_status",
        "is_aggregator",
        "live_commitments",
        "live_value_idr",
        "is_demo",
    ]
    list_filter = ["kind", "verification_status", "is_aggregator", "is_demo"]
    search_fields = ["name", "slug", "contact__email", "contact__contact_name"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["live_commitments", "live_value_idr", "verified_at", "verified_by"]
    inlines = [ContactInline, ProgramVerificationInline, MembershipInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        # The administrators' decision is the global one: record who made it.
        if "verification_status" in form.changed_data:
            obj.verified_by, obj.verified_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "collaborator", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__username", "collaborator__name"]
    autocomplete_fields = ["user", "collaborator"]


@admin.register(ProgramVerification)
class ProgramVerificationAdmin(admin.ModelAdmin):
    """Program leads' decisions, each for one program; the collaborator's own
    verification status is the administrators' decision and overrides these."""

    list_display = ["collaborator", "program", "status", "decided_by", "decided_at"]
    list_filter = ["program", "status"]
    search_fields = ["collaborator__name", "decided_by__email"]
    autocomplete_fields = ["collaborator"]
    readonly_fields = ["decided_by", "decided_at"]
    list_select_related = ["collaborator", "program", "decided_by"]

    def save_model(self, request, obj, form, change):
        obj.decided_by = request.user
        super().save_model(request, obj, form, change)

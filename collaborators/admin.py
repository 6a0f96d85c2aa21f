from django.contrib import admin
from django.db import models

from .models import Collaborator, CollaboratorContact, Membership


class ContactInline(admin.StackedInline):
    model = CollaboratorContact
    can_delete = False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


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
    inlines = [ContactInline, MembershipInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "collaborator", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__username", "collaborator__name"]
    autocomplete_fields = ["user", "collaborator"]

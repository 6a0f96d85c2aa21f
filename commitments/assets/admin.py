"""The register in the admin: lists to inspect, nothing to add, change or delete.

Only the list views are routed (get_urls): assets and their history are written by
commitments.assets.registry alone, and an asset ledger keeps every row for good."""

from django.contrib import admin
from django.urls import path

from ksbb.admin_site import ReadOnly

from .models import Asset, AssetEvent


class ListOnly(ReadOnly, admin.ModelAdmin):
    list_display_links = None

    def get_actions(self, request):
        return {}

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        return [path("", self.admin_site.admin_view(self.changelist_view), name=name)]


@admin.register(Asset)
class AssetAdmin(ListOnly):
    list_display = ["pk", "kind", "serial_number", "owner_kind", "area", "status", "acquired_on"]
    list_filter = ["program", "status", "owner_kind"]
    search_fields = ["serial_number", "kind"]
    list_select_related = ["area"]


@admin.register(AssetEvent)
class AssetEventAdmin(ListOnly):
    list_display = ["at", "asset", "kind", "from_status", "to_status", "actor_role"]
    list_filter = ["kind"]

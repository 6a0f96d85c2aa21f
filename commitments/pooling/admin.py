"""The chain through aggregators in the admin: to look at, not to change. A gift's counter
(`committed`), its shares and the executors' distributions move only through
commitments.pooling.rules (conditional updates, the receipt, the release of shares when a
commitment ends): an admin form that wrote them could commit pooled money twice or leave a
gift's counter disagreeing with its shares. So every page is read-only (staff see the change
page as a view page) and nothing is added or deleted here."""

from django.contrib import admin

from ksbb.admin_site import ReadOnly
from locations.models import area_geometry_deferred

from .models import Allocation, Contribution, Distribution


class AllocationInline(ReadOnly, admin.TabularInline):
    model = Allocation
    fields = ["commitment", "amount", "created_at", "released_at"]
    extra = 0
    can_delete = False


@admin.register(Contribution)
class ContributionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "pk",
        "source",
        "aggregator",
        "kind",
        "amount",
        "committed",
        "status",
        "receipt_number",
        "declared_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["source__name", "aggregator__name", "receipt_number"]
    list_select_related = ["source", "aggregator"]
    date_hierarchy = "declared_at"
    inlines = [AllocationInline]


@admin.register(Allocation)
class AllocationAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["pk", "contribution", "commitment", "amount", "created_at", "released_at"]
    search_fields = ["contribution__source__name", "contribution__aggregator__name"]
    list_select_related = ["contribution", "commitment__collaborator", "commitment__donation_form"]


@admin.register(Distribution)
class DistributionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "pk",
        "delivery",
        "executor_area",
        "executor_site",
        "quantity",
        "distributed_on",
        "recorded_at",
    ]
    search_fields = ["executor_area__name", "executor_site__name", "note"]
    list_select_related = ["delivery", "executor_area", "executor_site"]
    date_hierarchy = "distributed_on"
    # The proof is a private file: its admin link would point at a URL nobody serves.
    exclude = ["proof"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*area_geometry_deferred("executor_area"))

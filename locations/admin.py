from django.contrib import admin

from .models import (
    Area,
    AreaIndicator,
    Facilitator,
    IndicatorImport,
    MapLayer,
    Need,
    Site,
)


class ChildInline(admin.TabularInline):
    model = Area
    fk_name = "parent"
    fields = ["code", "name", "level", "is_residential"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class IndicatorInline(admin.TabularInline):
    model = AreaIndicator
    extra = 0
    fields = ["indicator", "breakdown", "label", "value", "unit", "period", "source"]


class NeedInline(admin.TabularInline):
    model = Need
    extra = 0
    fields = [
        "program",
        "donation_form",
        "quantity_needed",
        "quantity_claimed",
        "priority",
        "valid_until",
        "status",
    ]
    readonly_fields = ["quantity_claimed"]
    show_change_link = True


class FacilitatorInline(admin.TabularInline):
    model = Facilitator
    fk_name = "area"
    extra = 0
    fields = ["user", "title", "assigned_at"]
    autocomplete_fields = ["user"]


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "bps_code", "is_residential", "area_km2"]
    list_filter = ["level", "is_residential"]
    search_fields = ["code", "name", "bps_code"]
    list_select_related = ["parent"]
    raw_id_fields = ["parent"]
    readonly_fields = [
        "path",
        "min_lon",
        "min_lat",
        "max_lon",
        "max_lat",
        "centroid_lon",
        "centroid_lat",
        "area_km2",
        "source",
        "source_properties",
        "updated_at",
    ]
    exclude = ["geometry", "display_geometry"]
    inlines = [FacilitatorInline, ChildInline, NeedInline, IndicatorInline]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "area", "is_demo"]
    list_filter = ["kind", "is_demo"]
    search_fields = ["name", "address", "area__name", "area__code"]
    raw_id_fields = ["area"]
    list_select_related = ["area"]


@admin.register(Need)
class NeedAdmin(admin.ModelAdmin):
    list_display = [
        "area",
        "program",
        "donation_form",
        "quantity_needed",
        "quantity_claimed",
        "quantity_delivered",
        "priority",
        "assessed_at",
        "valid_until",
        "status",
        "is_demo",
    ]
    list_filter = ["program", "priority", "status", "is_demo"]
    search_fields = ["area__name", "area__code", "description"]
    raw_id_fields = ["area", "site", "assessed_by"]
    list_select_related = ["area", "program", "donation_form"]
    readonly_fields = ["quantity_claimed", "quantity_delivered"]
    date_hierarchy = "assessed_at"


@admin.register(AreaIndicator)
class AreaIndicatorAdmin(admin.ModelAdmin):
    list_display = ["area", "indicator", "breakdown", "value", "unit", "period", "source"]
    list_filter = ["indicator", "year"]
    search_fields = ["area__name", "area__code", "indicator", "label"]
    raw_id_fields = ["area"]
    list_select_related = ["area"]


@admin.register(Facilitator)
class FacilitatorAdmin(admin.ModelAdmin):
    """Staff assign facilitators here: a kelurahan head on the kelurahan covers its RW."""

    list_display = ["title", "user", "area", "site", "assigned_at"]
    list_filter = ["area__level"]
    search_fields = ["title", "user__email", "area__name", "area__code", "site__name"]
    autocomplete_fields = ["user"]
    raw_id_fields = ["area", "site"]
    list_select_related = ["user", "area", "site"]


@admin.register(MapLayer)
class MapLayerAdmin(admin.ModelAdmin):
    """Built by the importers; shown for inspection only."""

    list_display = ["level", "version", "feature_count", "size_bytes", "built_at"]
    readonly_fields = ["level", "version", "feature_count", "size_bytes", "built_at"]
    exclude = ["payload_gzip"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IndicatorImport)
class IndicatorImportAdmin(admin.ModelAdmin):
    """Read-only history of indicator uploads: applying goes through the lead's preview ->
    apply flow (locations.indicator_views), never through an admin edit."""

    list_display = ["file_name", "uploaded_by", "status", "matched_count", "unmatched_count"]
    list_filter = ["status", "format"]
    search_fields = ["file_name", "uploaded_by__username"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

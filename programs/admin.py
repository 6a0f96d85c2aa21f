from django.contrib import admin

from .models import DonationForm, Program, ProgramLead, ProgramPause


class DonationFormInline(admin.TabularInline):
    model = DonationForm
    extra = 0
    fields = [
        "sort_order",
        "slug",
        "name_id",
        "name_en",
        "unit",
        "unit_value_idr",
        "reported_commitments",
        "reported_value_idr",
    ]


class ProgramPauseInline(admin.TabularInline):
    model = ProgramPause
    extra = 0


class ProgramLeadInline(admin.TabularInline):
    model = ProgramLead
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "name_id",
        "lead_agency",
        "launched_on",
        "status",
        "reported_collaborators",
        "reported_value_idr",
        "live_commitments",
        "live_value_idr",
    ]
    list_filter = ["status"]
    search_fields = ["slug", "name_id", "name_en", "lead_agency", "lead_agency_id"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [DonationFormInline, ProgramPauseInline, ProgramLeadInline]
    readonly_fields = [
        "live_collaborators",
        "live_commitments",
        "live_value_idr",
        "live_households",
        "live_persons",
        "live_rw_covered",
        "live_updated_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "slug",
                    "name_id",
                    "name_en",
                    "lead_agency",
                    "lead_agency_id",
                    "launched_on",
                    "launch_is_target",
                    "status",
                    "sort_order",
                ]
            },
        ),
        (
            "Description",
            {
                "fields": [
                    ("facilitator", "facilitator_id"),
                    ("beneficiaries", "beneficiaries_id"),
                    ("asset_recording", "asset_recording_id"),
                    ("planning_notes", "planning_notes_id"),
                ]
            },
        ),
        (
            "Lifecycle limits",
            {"fields": ["confirm_within_days", "deliver_within_days", "no_news_days"]},
        ),
        ("Donation assistant", {"fields": ["assistant_weights"]}),
        (
            "Limits for unverified collaborators",
            {
                "fields": [
                    "unverified_max_share_percent",
                    "unverified_max_open_value_idr",
                    "unverified_pledges_per_hour",
                    "unverified_confirm_within_days",
                ]
            },
        ),
        (
            "Reported baseline (2021)",
            {
                "fields": [
                    "reported_collaborators",
                    "reported_commitments",
                    "reported_value_idr",
                    "reported_as_of",
                    "reported_source",
                    ("reported_notes", "reported_notes_id"),
                ]
            },
        ),
        (
            "Live figures",
            {
                "fields": [
                    "live_collaborators",
                    "live_commitments",
                    "live_value_idr",
                    "live_households",
                    "live_persons",
                    "live_rw_covered",
                    "live_updated_at",
                ]
            },
        ),
    ]


@admin.register(DonationForm)
class DonationFormAdmin(admin.ModelAdmin):
    list_display = [
        "name_id",
        "name_en",
        "program",
        "unit",
        "unit_value_idr",
        "reported_commitments",
        "live_commitments",
        "live_quantity",
    ]
    list_filter = ["program", "unit"]
    search_fields = ["name_id", "name_en", "slug"]
    list_select_related = ["program"]
    readonly_fields = ["live_commitments", "live_quantity", "live_value_idr"]


@admin.register(ProgramLead)
class ProgramLeadAdmin(admin.ModelAdmin):
    list_display = ["user", "program", "assigned_at"]
    list_filter = ["program"]
    search_fields = ["user__email", "user__first_name", "program__slug"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "program"]

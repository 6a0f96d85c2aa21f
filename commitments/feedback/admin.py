"""Reports in the admin: to look at, not to change or delete. A report's status moves only
through commitments.feedback.reports (the answer required, the reporter told, the history
kept), on the handlers' pages; and nobody deletes a report, administrators included."""

from django.contrib import admin

from ksbb.admin_site import ReadOnly

from .models import Report, ReportEvent


class ReportEventInline(ReadOnly, admin.TabularInline):
    model = ReportEvent
    fields = ["at", "status", "actor", "note"]
    extra = 0
    can_delete = False


@admin.register(Report)
class ReportAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "code",
        "category",
        "area",
        "program",
        "status",
        "channel",
        "about_facilitator",
        "created_at",
        "due_at",
        "escalated_at",
    ]
    list_filter = ["status", "category", "channel", "about_facilitator", "program"]
    search_fields = ["code"]
    list_select_related = ["area", "program"]
    date_hierarchy = "created_at"
    inlines = [ReportEventInline]
    actions = None  # no "delete selected"


@admin.register(ReportEvent)
class ReportEventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["report", "status", "at"]
    list_select_related = ["report"]

from django.contrib import admin

from locations.models import NeedChange

from .models import (
    Commitment,
    CommitmentEvent,
    CommitmentRollup,
    CommitmentSummary,
    Delivery,
    DeliveryProof,
    NeedImport,
    Notification,
)


class EventInline(admin.TabularInline):
    model = CommitmentEvent
    extra = 0
    can_delete = False
    fields = ["at", "actor", "actor_role", "from_status", "to_status", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    fields = [
        "quantity",
        "delivered_on",
        "recipients_households",
        "recipients_persons",
        "recorded_by",
        "confirmed_by",
        "confirmed_at",
    ]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class FiguresThroughServices:
    """Every change that moves a figure (status, quantity, value, area, program, channel,
    month, collaborator, need, recipients, confirmation) goes through commitments.lifecycle
    (pledges, transitions, offline records), which audits it, keeps the need's claims and
    marks the summaries to recompute: the admin edits only the fields in `editable`, and
    adds or deletes nothing. With nothing editable, for rows only services and jobs write
    (summaries, imports, a need's history), the admin shows them for inspection."""

    editable: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        hidden = (*self.editable, *(self.exclude or ()))
        return [f.name for f in self.model._meta.fields if f.name not in hidden]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Commitment)
class CommitmentAdmin(FiguresThroughServices, admin.ModelAdmin):
    list_display = [
        "pk",
        "collaborator",
        "program",
        "donation_form",
        "area",
        "quantity",
        "value_idr",
        "channel",
        "status",
        "created_at",
        "is_demo",
    ]
    list_filter = ["status", "channel", "program", "is_demo"]
    search_fields = ["collaborator__name", "area__name", "area__code", "idempotency_key"]
    raw_id_fields = ["collaborator", "need", "area", "site", "aggregator", "created_by"]
    list_select_related = ["collaborator", "program", "donation_form", "area"]
    date_hierarchy = "created_at"
    editable = ("planned_delivery_on", "is_anonymous", "note")
    inlines = [DeliveryInline, EventInline]


class ProofInline(admin.TabularInline):
    model = DeliveryProof
    extra = 0
    can_delete = False
    readonly_fields = ["file", "kind", "content_type", "size_bytes", "uploaded_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(FiguresThroughServices, admin.ModelAdmin):
    list_display = [
        "commitment",
        "quantity",
        "delivered_on",
        "recipients_households",
        "confirmed_at",
    ]
    list_select_related = ["commitment", "commitment__collaborator"]
    raw_id_fields = ["commitment", "recorded_by", "confirmed_by"]
    inlines = [ProofInline]
    editable = ("note",)


@admin.register(CommitmentEvent)
class CommitmentEventAdmin(admin.ModelAdmin):
    list_display = ["commitment", "at", "actor", "actor_role", "from_status", "to_status"]
    list_filter = ["to_status", "actor_role"]
    raw_id_fields = ["commitment", "actor"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "subject", "created_at", "read_at", "emailed_at", "email_attempts"]
    list_filter = ["emailed_at", "read_at"]
    search_fields = ["user__email", "subject"]
    raw_id_fields = ["user", "commitment"]
    list_select_related = ["user"]


class SummaryAdmin(FiguresThroughServices, admin.ModelAdmin):
    """Summary rows, written only by commitments.figures.summaries: for inspection (a wrong row is
    repaired by `manage.py rebuild_summaries`, never by hand). `place`: the area column."""

    place = "kecamatan"
    list_filter = ["program", "status", "channel", "month"]
    show_full_result_count = False  # hundreds of thousands of rows at a million commitments

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.list_display = [
            "program", "donation_form", self.place, "month", "channel", "status",
            "count", "quantity", "value_idr", "computed_at",
        ]  # fmt: skip
        self.search_fields = [f"{self.place}__name", f"{self.place}__code"]
        self.list_select_related = ["program", "donation_form", self.place]


@admin.register(CommitmentSummary)
class CommitmentSummaryAdmin(SummaryAdmin):
    place = "area"


@admin.register(CommitmentRollup)
class CommitmentRollupAdmin(SummaryAdmin):
    place = "kecamatan"


@admin.register(NeedChange)
class NeedChangeAdmin(FiguresThroughServices, admin.ModelAdmin):
    """A need's history, written by the services that change needs (commitments.needs.upkeep):
    for inspection."""

    list_display = ["need", "action", "actor", "created_at", "reason"]
    list_filter = ["action"]
    search_fields = ["need__area__name", "need__area__code", "reason"]
    list_select_related = ["need__area", "need__program", "need__donation_form", "actor"]
    date_hierarchy = "created_at"


@admin.register(NeedImport)
class NeedImportAdmin(FiguresThroughServices, admin.ModelAdmin):
    """Needs imports go through the facilitator's preview -> apply flow
    (commitments.web.import_views); here for inspection. The file itself is private."""

    list_display = [
        "file_name", "uploaded_by", "status", "rows_total", "created_count",
        "problem_count", "created_at", "applied_at",
    ]  # fmt: skip
    list_filter = ["status", "format"]
    search_fields = ["file_name", "uploaded_by__username", "uploaded_by__email"]
    list_select_related = ["uploaded_by"]
    exclude = ["file"]

from django.contrib import admin

from .models import Commitment, CommitmentEvent, Delivery, DeliveryProof, Notification


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
    month, collaborator, need, recipients, confirmation) goes through commitments.services
    or commitments.offline, which audit it, keep the need's claims and mark the summaries to
    recompute: the admin edits only the fields in `editable`, and adds or deletes nothing."""

    editable: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name not in self.editable]

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

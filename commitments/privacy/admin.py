from django.contrib import admin

from .models import ErasureRequest


@admin.register(ErasureRequest)
class ErasureRequestAdmin(admin.ModelAdmin):
    list_display = ["pk", "requested_at", "due_by", "done_at", "verified_at", "late_alerted_at"]
    list_filter = ["verified_at"]
    readonly_fields = [
        "user",
        "requested_at",
        "due_by",
        "done_at",
        "verified_at",
        "late_alerted_at",
        "problems",
    ]

    def has_add_permission(self, request) -> bool:
        return False  # a person asks on their privacy page

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Administrators see who holds which token and revoke one; keys are never shown (only
    digests are stored) and tokens are created by their users at /akun/token-api/."""

    list_display = ["name", "prefix", "user", "collaborator", "created_at", "last_used_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username", "user__email", "collaborator__name"]
    readonly_fields = ["user", "collaborator", "name", "prefix", "created_at", "last_used_at"]
    fields = readonly_fields + ["revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        revoked = sum(token.revoke() for token in queryset)
        self.message_user(request, _("%(count)d token(s) revoked.") % {"count": revoked})

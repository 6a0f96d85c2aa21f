"""The Django admin as the portal runs it: the stock admin with two guards against input
that would otherwise be a server error rather than a message, and a name for each half of
its date-and-time fields."""

from __future__ import annotations

from functools import update_wrapper

from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.options import FORMFIELD_FOR_DBFIELD_DEFAULTS
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class ReadOnly:
    """An admin (or inline) that shows rows and changes none: for tables written only by
    their services (adoptions, pooled gifts, the asset register), where an edit in the admin
    would skip their rules."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


ADMIN_SEARCH_MAX = 200  # SQLite refuses LIKE patterns past ~50 KB; nobody searches with more


class PortalAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def guarded(request, *args, **kwargs):
            if len(request.GET.get(SEARCH_VAR, "")) > ADMIN_SEARCH_MAX:
                return HttpResponseBadRequest(
                    _("The search is too long: use at most %(limit)s characters.")
                    % {"limit": ADMIN_SEARCH_MAX},
                    content_type="text/plain; charset=utf-8",
                )
            return inner(request, *args, **kwargs)

        return update_wrapper(guarded, inner)


def _is_key(field, value) -> bool:
    try:
        field.run_validators(field.to_python(value))
    except ValidationError:
        return False
    return True


def _keys_only(optgroups):
    """Django's autocomplete widget looks the submitted value up as a key when it shows the
    form again, so a value that is no key (text, beyond the id range) raised instead of
    showing the field's "select a valid choice" error. Drop such values before the lookup."""

    def wrapper(self, name, value, attr=None):
        remote = self.field.remote_field
        to_field = remote.model._meta.get_field(
            getattr(remote, "field_name", None) or remote.model._meta.pk.name
        )
        return optgroups(self, name, [v for v in value if v and _is_key(to_field, v)], attr)

    return update_wrapper(wrapper, optgroups)


class LabelledSplitDateTime(widgets.AdminSplitDateTime):
    """The admin's date and time inputs: its field label names only the first, so a screen
    reader met an unnamed time input (axe: "label", critical). Each half gets its name."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.widgets[0].attrs["aria-label"] = gettext_lazy("Date")
        self.widgets[1].attrs["aria-label"] = gettext_lazy("Time")


class PortalAdminConfig(AdminConfig):
    default_site = "ksbb.admin_site.PortalAdminSite"

    def ready(self):
        # Before the models are registered: each ModelAdmin copies these defaults when made.
        FORMFIELD_FOR_DBFIELD_DEFAULTS[models.DateTimeField]["widget"] = LabelledSplitDateTime
        super().ready()
        if not hasattr(widgets.AutocompleteMixin.optgroups, "__wrapped__"):
            widgets.AutocompleteMixin.optgroups = _keys_only(widgets.AutocompleteMixin.optgroups)

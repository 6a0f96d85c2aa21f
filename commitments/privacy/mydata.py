"""Everything the portal holds about one person (Law 27/2022 art. 7 and 13), read from the
record of processing (processing.py): every registered model with rows that are the
person's, each row's fields but its secrets, and the log of who viewed their data. The
same table drives erasure, so a field the download lists is a field erasure treats."""

from __future__ import annotations

import datetime
import decimal

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from collaborators.models import PersonalDataView
from collaborators.roles import scopes_for

from .erasure import rows_of
from .processing import holders

# Never shown, not even to their owner: hashes, keys and stored answers.
SECRET_FIELDS = frozenset(
    {
        "password",
        "digest",
        "key_digest",
        "body_digest",
        "code_hash",
        "session_key",
        "session_data",
        "idempotency_key",
        "response_json",
        "session_hash",
        "post_data",
    }
)


def my_data(user) -> dict:
    """{"sections": [{"label", "model", "rows": [{field: value}]}], "viewed_by": [...]}."""
    sections = []
    for model, holder in holders():
        if holder.person == "*session":
            continue
        rows = rows_of(model, holder, user)
        if rows is None:
            continue
        found = [_row(model, row, user) for row in rows.order_by("pk")[:1000]]
        if found:
            sections.append(
                {
                    "label": str(model._meta.verbose_name_plural).capitalize(),
                    "model": holder.label,
                    "rows": found,
                }
            )
    return {"sections": sections, "viewed_by": views_of(user)}


def _row(model, row, user) -> dict:
    values = {}
    for field in model._meta.concrete_fields:
        if field.name in SECRET_FIELDS:
            continue
        if field.is_relation:
            values[field.name] = _related(row, field, user)
            continue
        values[field.name] = _plain(getattr(row, field.attname))
    return values


def _related(row, field, user):
    """Another person stays out of it: a link to an account is "you" or nothing."""
    target_id = getattr(row, field.attname)
    if target_id is None:
        return None
    if field.related_model is get_user_model():
        return _("you") if target_id == user.pk else None
    return str(getattr(row, field.name))


def _plain(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if hasattr(value, "name") and not isinstance(value, str):  # a file
        return value.name or ""
    return value


def views_of(user) -> list[dict]:
    """Who viewed the person's data: the viewer's name and role, what, when."""
    rows = []
    views = PersonalDataView.objects.filter(subject=user).select_related("viewer")
    for view in views.order_by("-viewed_at")[:500]:
        rows.append(
            {
                "viewer": _viewer_name(view.viewer),
                "role": _role(view.viewer),
                "what": str(view.get_what_display()),
                "at": view.viewed_at.isoformat(),
            }
        )
    return rows


def _viewer_name(viewer) -> str:
    if viewer is None:
        return _("(an account since removed)")
    return viewer.get_full_name() or viewer.email or viewer.username


def _role(viewer) -> str:
    if viewer is None:
        return ""
    scopes = scopes_for(viewer)
    if scopes.is_admin:
        return _("administrator")
    if scopes.is_lead:
        return _("program lead")
    if scopes.is_facilitator:
        return _("facilitator")
    return _("collaborator member")

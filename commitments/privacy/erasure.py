"""Erasure of a person (Law 27/2022 art. 16: within 3 x 24 hours), driven by the record of
processing (processing.py) and proven: after erasing, every personal field of every model
is searched for the person's values, and the request is marked verified only when none is
left. The account row stays, anonymised and inactive, so that the commitments it made stay
with their collaborator and every total stays as it was.

The request row is the job: erasure_request() asks for ERASE_PERSONAL_DATA after commit;
the hourly RUN_ERASURES takes up any request not done or not proven, and tells the
administrators, once, of one past its due time.
"""

from __future__ import annotations

import logging
import re

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from collaborators.models import WhatsAppNumber

from ..jobs import ERASE_PERSONAL_DATA, job_after_commit
from ..notify.notifications import notifications_write
from .models import ERASURE_DEADLINE, ErasureRequest
from .processing import Erasure, Holder, holders, personal_fields

logger = logging.getLogger(__name__)

# What replaces the person's name or contacts inside free text.
REMOVED = "[dihapus]"
# Shorter values are not cut out of free text: they would maim other people's words.
SCRUB_MIN_LENGTH = 4


def erasure_request(*, user) -> ErasureRequest:
    """Record the person's request and end their access at once; the erasure itself runs
    as a job after commit (and hourly until done). One open request per person."""
    with transaction.atomic():
        request = ErasureRequest.objects.filter(user=user, done_at__isnull=True).first()
        if request is None:
            now = timezone.now()
            request = ErasureRequest.objects.create(
                user=user, requested_at=now, due_by=now + ERASURE_DEADLINE
            )
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
        _sessions_of(user.pk).delete()
        job_after_commit(ERASE_PERSONAL_DATA, request.pk)
    return request


def person_values(user) -> list[str]:
    """The values that identify the person: what erasure cuts out and the proof looks for."""
    values = {user.email, user.username, user.get_full_name().strip()}
    number = WhatsAppNumber.objects.filter(user=user).values_list("number", flat=True).first()
    if number:
        values |= {number, number.lstrip("+")}
        if number.startswith("+62"):
            values.add("0" + number[3:])
    return sorted(v for v in values if v and len(v) >= SCRUB_MIN_LENGTH)


class _NotProven(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems)
        self.problems = problems


def erasure_run(*, request_id: int) -> bool:
    """Erase the person of one request and prove it, in one transaction; True when proven.
    An erasure the proof finds incomplete is rolled back whole (the person's values are
    still there for the next run to find and cut) and its problems recorded; the hourly
    run tries again and the late alert tells the administrators. Safe to run twice."""
    try:
        with transaction.atomic():
            request = (
                ErasureRequest.objects.select_for_update().select_related("user").get(pk=request_id)
            )
            if request.verified_at is not None:
                return True
            user = request.user
            values = person_values(user)
            person_erase(user=user, values=values)
            problems = erasure_proof(user=user, values=values)
            if problems:
                raise _NotProven(problems)
            now = timezone.now()
            request.done_at = request.done_at or now
            request.problems = ""
            request.verified_at = now
            request.save(update_fields=["done_at", "problems", "verified_at"])
    except _NotProven as failed:
        logger.error("Erasure %s not proven, rolled back: %s", request_id, failed.problems)
        ErasureRequest.objects.filter(pk=request_id).update(
            problems="\n".join(failed.problems)[:10_000]
        )
        return False
    return True


def erasures_run(*, now=None) -> int:
    """The hourly job: run every request not done or not proven, then alert the
    administrators, once, of each past its due time. Returns how many were proven."""
    proven = 0
    for request_id in (
        ErasureRequest.objects.unfinished().order_by("pk").values_list("pk", flat=True)
    ):
        try:
            proven += erasure_run(request_id=request_id)
        except Exception:  # noqa: BLE001 - one failing request must not stop the others
            logger.exception("Erasure %s failed", request_id)
    erasures_alert_late(now=now)
    return proven


def erasures_alert_late(*, now=None) -> int:
    """Tell the administrators of each request past due_by and not proven, once."""
    now = now or timezone.now()
    alerted = 0
    for request in ErasureRequest.objects.late(now).filter(late_alerted_at__isnull=True):
        claimed = ErasureRequest.objects.filter(pk=request.pk, late_alerted_at__isnull=True).update(
            late_alerted_at=now
        )
        if claimed != 1:
            continue
        admins = get_user_model().objects.filter(
            Q(is_staff=True) | Q(is_superuser=True), is_active=True
        )
        with translation.override("id"):
            notifications_write(
                admins,
                subject=_("An erasure request is overdue (#%(id)s)") % {"id": request.pk},
                body=_(
                    "Erasure request #%(id)s was due by %(due)s and is not proven done. "
                    "The law allows 3 x 24 hours. Problems found: %(problems)s"
                )
                % {
                    "id": request.pk,
                    "due": timezone.localtime(request.due_by).strftime("%Y-%m-%d %H:%M"),
                    "problems": request.problems or "-",
                },
                url=reverse("admin:privacy_erasurerequest_change", args=[request.pk]),
            )
        alerted += 1
    return alerted


def person_erase(*, user, values: list[str]) -> None:
    """Apply each registered field's erasure rule to the person's rows, then cut their
    values out of every free-text field and blank every contact field holding them."""
    for model, holder in holders():
        rows = rows_of(model, holder, user)
        names = personal_fields(model, holder)
        if rows is not None and holder.delete_rows:
            rows.delete()
        elif rows is not None:
            changes = {
                name: _neutral(model, name, user)
                for name in names
                if holder.personal[name].erasure in (Erasure.ANONYMISE, Erasure.BLANK)
            }
            if changes:
                rows.update(**changes)
        for name in names:
            rule = holder.personal[name].erasure
            if rule == Erasure.SCRUB:
                _scrub(model, name, values)
            elif rule == Erasure.BLANK and values:
                matching = Q()
                for value in values:
                    matching |= Q(**{f"{name}__iexact": value})
                model.objects.filter(matching).update(**{name: _neutral(model, name, user)})


def rows_of(model: type[models.Model], holder: Holder, user) -> models.QuerySet | None:
    """The person's rows of a registered model, or None when rows are not owned."""
    if not holder.person:
        return None
    if holder.person == "*session":
        return _sessions_of(user.pk)
    if holder.person.startswith("="):
        values = {v for v in (user.email, user.username) if v}
        if not values:
            return model.objects.none()
        matching = Q()
        for value in values:
            matching |= Q(**{f"{holder.person[1:]}__iexact": value})
        return model.objects.filter(matching)
    return model.objects.filter(**{holder.person: user.pk})


def _sessions_of(user_id: int) -> models.QuerySet:
    """Sessions signed in as the user (the database backend keeps them encoded)."""
    keys = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id)
    ]
    return Session.objects.filter(session_key__in=keys)


def _neutral(model, name: str, user):
    if model is get_user_model():
        if name == "username":
            return f"erased-{user.pk}"
        if name == "password":
            return make_password(None)
    field = model._meta.get_field(name)
    return None if field.null else ""


def _scrub(model, name: str, values: list[str]) -> None:
    field = model._meta.get_field(name)
    if isinstance(field, models.SlugField):
        for value in {slugify(v) for v in values if len(slugify(v)) >= SCRUB_MIN_LENGTH}:
            for pk in model.objects.filter(**{f"{name}__icontains": value}).values_list(
                "pk", flat=True
            ):
                model.objects.filter(pk=pk).update(**{name: f"anonim-{pk}"})
        return
    for value in values:
        pattern = re.compile(re.escape(value), re.IGNORECASE)
        rows = model.objects.filter(**{f"{name}__icontains": value})
        for pk, text in rows.values_list("pk", name):
            model.objects.filter(pk=pk).update(**{name: pattern.sub(REMOVED, text)})


def erasure_proof(*, user, values: list[str]) -> list[str]:
    """What still holds the person's data, as "model.field" names (never the values):
    their rows of every registered model hold no personal value, and no personal field of
    any row holds one of `values`."""
    problems = []
    for model, holder in holders():
        rows = rows_of(model, holder, user)
        names = personal_fields(model, holder)
        if rows is not None and holder.delete_rows and rows.exists():
            problems.append(f"{holder.label}: rows left")
        elif rows is not None and not holder.delete_rows:
            for name in names:
                rule = holder.personal[name].erasure
                if rule in (Erasure.ANONYMISE, Erasure.BLANK) and (
                    rows.exclude(**{name: _neutral(model, name, user)}).exists()
                ):
                    if not (model is get_user_model() and name == "password"):
                        problems.append(f"{holder.label}.{name}")
        for name in names:
            field = model._meta.get_field(name)
            if holder.personal[name].erasure == Erasure.KEEP or isinstance(field, models.JSONField):
                continue
            for value in values:
                if model.objects.filter(**{f"{name}__icontains": value}).exists():
                    problems.append(f"{holder.label}.{name}")
                    break
    password = get_user_model().objects.filter(pk=user.pk).values_list("password", flat=True)
    if password and not password[0].startswith("!"):
        problems.append("auth.User.password")
    return sorted(set(problems))

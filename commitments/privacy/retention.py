"""Personal data kept only as long as it is of use (Law 27/2022 art. 43; README "Personal
data"). Run daily by the forget_personal_data job; each rule is one idempotent query, so a
rerun deletes or blanks only what is still past its time.

- accounts never verified UNVERIFIED_ACCOUNT_DAYS after sign-up are deleted, when nothing
  but their sign-up consents hangs on them;
- WhatsApp numbers never verified, and codes never typed back, SIGNUP_CODE_DAYS after the
  code was sent: the number is deleted, a pending code on a verified number cleared;
- a reporter's phone and email REPORT_CONTACT_DAYS after the report was closed;
- logs of who viewed personal data and django-axes' sign-in logs after ACCESS_LOG_DAYS.
"""

from __future__ import annotations

import datetime

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import router, transaction
from django.db.models import ProtectedError
from django.db.models.deletion import Collector
from django.utils import timezone

from collaborators.models import Consent, PersonalDataView, WhatsAppNumber


def personal_data_forget(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Apply every rule; returns how many rows each touched."""
    now = now or timezone.now()
    days = datetime.timedelta
    return {
        "accounts": unverified_accounts_delete(before=now - days(settings.UNVERIFIED_ACCOUNT_DAYS)),
        "codes": signup_codes_clear(before=now - days(settings.SIGNUP_CODE_DAYS)),
        "report_contacts": report_contacts_blank(before=now - days(settings.REPORT_CONTACT_DAYS)),
        "access_logs": access_logs_delete(before=now - days(settings.ACCESS_LOG_DAYS)),
    }


def unverified_accounts_delete(*, before: datetime.datetime) -> int:
    """Accounts that signed up before `before` and never verified their email (never
    active, never signed in), with nothing attached but their sign-up consents."""
    User = get_user_model()
    stale = User.objects.filter(
        is_active=False, last_login__isnull=True, date_joined__lt=before
    ).exclude(erasure_requests__isnull=False)
    deleted = 0
    for user in stale.order_by("pk"):
        if _only_consents_attached(user):
            with transaction.atomic():
                deleted += bool(
                    User.objects.filter(pk=user.pk, last_login__isnull=True).delete()[0]
                )
    return deleted


def _only_consents_attached(user) -> bool:
    collector = Collector(using=router.db_for_write(type(user)))
    try:
        collector.collect([user])
    except ProtectedError:
        return False
    allowed = {type(user), Consent}
    if any(model not in allowed and rows for model, rows in collector.data.items()):
        return False
    return not any(qs.model not in allowed and qs.exists() for qs in collector.fast_deletes)


def signup_codes_clear(*, before: datetime.datetime) -> int:
    unverified = WhatsAppNumber.objects.filter(verified_at__isnull=True, code_sent_at__lt=before)
    deleted = unverified.delete()[0]
    pending = WhatsAppNumber.objects.filter(code_sent_at__lt=before).exclude(code_hash="")
    return deleted + pending.update(code_hash="", code_attempts=0)


def report_contacts_blank(*, before: datetime.datetime) -> int:
    try:
        Report = apps.get_model("feedback", "Report")
    except LookupError:  # the complaints channel is not installed yet
        return 0
    closed = Report.objects.filter(closed_at__lt=before).exclude(contact_phone="", contact_email="")
    return closed.update(contact_phone="", contact_email="")


def access_logs_delete(*, before: datetime.datetime) -> int:
    deleted = PersonalDataView.objects.filter(viewed_at__lt=before).delete()[0]
    for model in (AccessLog, AccessFailureLog, AccessAttempt):
        deleted += model.objects.filter(attempt_time__lt=before).delete()[0]
    return deleted

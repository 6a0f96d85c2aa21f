"""Retention of personal data (README "Personal data"): each rule at its boundary."""

import datetime

import pytest
from axes.models import AccessLog
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from collaborators.models import Consent, PersonalDataView, WhatsAppNumber
from collaborators.privacy import consent_record
from commitments.feedback.models import Report
from commitments.feedback.reports import report_submit
from commitments.models import Notification
from commitments.privacy.retention import personal_data_forget

from .factories import NeedFactory, UserFactory

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
SECOND = datetime.timedelta(seconds=1)


def _signed_up(days_ago, *, now, **fields):
    user = UserFactory(is_active=False, date_joined=now - days_ago, **fields)
    consent_record(user=user, purpose=Consent.Purpose.ACCOUNT, given=True)
    return user


@override_settings(UNVERIFIED_ACCOUNT_DAYS=30)
def test_unverified_accounts_go_after_n_days_when_nothing_hangs_on_them():
    now = timezone.now()
    stale = _signed_up(30 * DAY + SECOND, now=now)
    fresh = _signed_up(30 * DAY - SECOND, now=now)
    with_notification = _signed_up(31 * DAY, now=now)
    Notification.objects.create(user=with_notification, subject="s", body="b")
    signed_in_once = _signed_up(31 * DAY, now=now, last_login=now - 40 * DAY)
    assert personal_data_forget(now=now)["accounts"] == 1
    left = set(get_user_model().objects.values_list("pk", flat=True))
    assert stale.pk not in left
    assert {fresh.pk, with_notification.pk, signed_in_once.pk} <= left
    assert not Consent.objects.filter(user_id=stale.pk).exists()


@override_settings(SIGNUP_CODE_DAYS=7)
def test_stale_whatsapp_codes_and_unverified_numbers_are_cleared():
    now = timezone.now()
    old, recent = now - 7 * DAY - SECOND, now - 7 * DAY + SECOND
    unverified = WhatsAppNumber.objects.create(
        user=UserFactory(), number="+628111", code_sent_at=old
    )
    waiting = WhatsAppNumber.objects.create(
        user=UserFactory(), number="+628222", code_sent_at=recent
    )
    verified = WhatsAppNumber.objects.create(
        user=UserFactory(), number="+628333", verified_at=now, code_sent_at=old, code_hash="x" * 64
    )
    personal_data_forget(now=now)
    assert not WhatsAppNumber.objects.filter(pk=unverified.pk).exists()
    assert WhatsAppNumber.objects.filter(pk=waiting.pk).exists()
    verified.refresh_from_db()
    assert verified.code_hash == "" and verified.number == "+628333"


@override_settings(REPORT_CONTACT_DAYS=90)
def test_a_reporters_contact_is_blanked_n_days_after_the_report_closed():
    now = timezone.now()
    area = NeedFactory().area
    reports = [
        report_submit(
            fields={
                "category": "thanks",
                "text": "t",
                "area": area,
                "contact_phone": "0812",
                "contact_email": "a@contoh.id",
            }
        )
        for _ in range(3)
    ]
    Report.objects.filter(pk=reports[0].pk).update(
        status="resolved", answer="ok", closed_at=now - 90 * DAY - SECOND
    )
    Report.objects.filter(pk=reports[1].pk).update(
        status="resolved", answer="ok", closed_at=now - 90 * DAY + SECOND
    )
    assert personal_data_forget(now=now)["report_contacts"] == 1
    contacts = dict(Report.objects.values_list("pk", "contact_email"))
    assert contacts == {
        reports[0].pk: "",
        reports[1].pk: "a@contoh.id",
        reports[2].pk: "a@contoh.id",
    }
    assert Report.objects.get(pk=reports[0].pk).text == "t"  # the content stays


@override_settings(ACCESS_LOG_DAYS=365)
def test_access_logs_go_after_access_log_days():
    now = timezone.now()
    user = UserFactory()
    old = PersonalDataView.objects.create(
        subject=user, what="contact", viewed_at=now - 365 * DAY - SECOND
    )
    kept = PersonalDataView.objects.create(
        subject=user, what="contact", viewed_at=now - 365 * DAY + SECOND
    )
    log = AccessLog.objects.create(username="x@contoh.id", ip_address="10.0.0.1", user_agent="t")
    AccessLog.objects.filter(pk=log.pk).update(attempt_time=now - 366 * DAY)
    personal_data_forget(now=now)
    assert list(PersonalDataView.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not AccessLog.objects.exists() and old.pk != kept.pk

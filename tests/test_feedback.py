"""Recipients' reports: sent without an account, routed to those who handle them (never to
the facilitator they are about), answered in time or escalated once, never deleted, never
shown in public beyond counts; rate limits and the spam check refuse and write nothing."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from collaborators.models import PersonalDataView
from commitments.feedback.escalation import escalate_overdue
from commitments.feedback.models import CODE_ALPHABET, Report, ReportEvent, normalise_code
from commitments.feedback.reports import ReportRefused, report_set_status
from commitments.feedback.rules import handlers_of, visible_reports
from commitments.models import Notification

from .factories import jpeg_with_location
from .feedback_world import (
    feedback_world,
    form_data,
    make_overdue,
    shown_seconds_ago,
    submit,
)
from .world import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    settings.FEEDBACK_WHATSAPP_NUMBER = ""
    return feedback_world()


def client_of(world, role) -> Client:
    user = world.users[role]
    return signed_in(user) if user else Client()


# --- sending --------------------------------------------------------------------------------


def test_a_recipient_without_account_reports_on_a_delivery_and_gets_a_code(world):
    client = Client()
    page = client.get(reverse("feedback-new"), {"delivery": world.delivery.pk})
    assert page.status_code == 200
    assert "Paket" in page.content.decode() or world.delivery.commitment.donation_form.name
    photo = SimpleUploadedFile("foto.jpg", jpeg_with_location(), content_type="image/jpeg")
    before = Report.objects.count()
    response = client.post(reverse("feedback-new"), {**form_data(world), "photo": photo})
    assert response.status_code == 302, response.content.decode()[:2000]
    report = Report.objects.order_by("-pk").first()
    assert Report.objects.count() == before + 1
    assert len(report.code) == 10 and set(report.code) <= set(CODE_ALPHABET)
    assert report.program == world.delivery.commitment.program
    assert report.collaborator == world.delivery.commitment.collaborator
    assert report.contact_phone == "+6281234567890"
    assert report.reporter is None and report.channel == "web"
    assert (report.due_at - report.created_at).days == report.program.report_answer_days
    # The photo is re-encoded: a JPEG with no EXIF (no GPS position of the reporter's home).
    with Image.open(report.photo.open("rb")) as image:
        assert not image.getexif()
    sent = client.get(response["Location"])
    assert report.code_display in sent.content.decode()
    assert ReportEvent.objects.filter(report=report, status="received").count() == 1


def test_tracking_shows_status_and_answer_but_never_who(world):
    report = world.ordinary
    lead = world.users["lead"]
    report_set_status(
        report_id=report.pk, actor=lead, status="resolved", answer="Kekurangan 4 paket dikirim."
    )
    client = Client()
    found = client.get(reverse("feedback-track"), {"code": report.code_display.lower()})
    assert found.status_code == 302
    page = client.get(found["Location"]).content.decode()
    assert "Kekurangan 4 paket dikirim." in page
    for secret in (report.contact_phone, report.contact_email, report.text, lead.email):
        assert secret not in page
    missing = client.get(reverse("feedback-track"), {"code": "AAAAA-AAAAA"})
    assert missing.status_code == 200 and "errorlist" in missing.content.decode()
    assert client.get(reverse("feedback-track-code", args=["ZZZZZZZZZZ"])).status_code == 404


def test_codes_are_read_back_however_they_are_typed():
    assert normalise_code(" abcde-fghjk ") == "ABCDEFGHJK"
    assert normalise_code("ABCDE0GHJK") == ""  # 0 is not in the alphabet
    assert normalise_code("x" * 100) == ""


# --- routing ----------------------------------------------------------------------------------


def test_a_report_about_the_facilitator_never_reaches_them(world):
    about, ordinary = world.about, world.ordinary
    users = world.users
    notified = set(
        Notification.objects.filter(url=about.get_absolute_url()).values_list("user", flat=True)
    )
    assert users["facilitator"].pk not in notified and users["subject"].pk not in notified
    assert users["lead"].pk in notified and users["admin"].pk in notified
    for role in ("facilitator", "subject"):
        client = client_of(world, role)
        listing = client.get(reverse("feedback-list")).content.decode()
        assert about.code_display not in listing and ordinary.code_display in listing
        assert client.get(about.get_absolute_url()).status_code == 404
        workspace = client.get(reverse("workspace")).content.decode()
        assert "1 open" in workspace or "1 terbuka" in workspace  # the ordinary report only
    ordinary_notified = set(
        Notification.objects.filter(url=ordinary.get_absolute_url()).values_list("user", flat=True)
    )
    assert users["subject"].pk in ordinary_notified and users["facilitator"].pk in ordinary_notified
    assert users["other_facilitator"].pk not in ordinary_notified
    assert users["other_lead"].pk not in ordinary_notified


def test_handlers_are_exactly_those_who_see_it(world):
    for report in (world.ordinary, world.about):
        handlers = {u.pk for u in handlers_of(report)}
        for role, user in world.users.items():
            if user is None:
                continue
            sees = visible_reports(user).filter(pk=report.pk).exists()
            if user.pk in handlers:
                assert sees, (role, report.about_facilitator)
            if role != "admin":  # administrators see all; told of the sensitive ones
                assert sees == (user.pk in handlers), (role, report.about_facilitator)


def test_a_facilitator_who_also_leads_the_program_still_never_sees_a_report_about_them(world):
    from programs.models import ProgramLead

    subject = world.users["subject"]
    ProgramLead.objects.create(user=subject, program=world.about.program)
    subject = get_user_model().objects.get(pk=subject.pk)
    assert not visible_reports(subject).filter(pk=world.about.pk).exists()
    assert subject.pk not in {u.pk for u in handlers_of(world.about)}


# --- answering ------------------------------------------------------------------------------


def test_the_lead_answers_and_the_reporter_is_told_by_email_after_commit(
    world, django_capture_on_commit_callbacks
):
    client = client_of(world, "lead")
    url = world.ordinary.get_absolute_url()
    page = client.get(url)
    assert page.status_code == 200 and world.ordinary.contact_phone in page.content.decode()
    assert PersonalDataView.objects.filter(subject_ref=world.ordinary.code).exists()
    refused = client.post(url, {"status": "resolved", "answer": ""})
    assert refused.status_code == 400
    assert Report.objects.get(pk=world.ordinary.pk).status == "received"
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"status": "resolved", "answer": "Dikirim 4 paket lagi."})
    assert done.status_code == 302
    report = Report.objects.get(pk=world.ordinary.pk)
    assert report.status == "resolved" and report.closed_at is not None
    assert [m.to for m in mail.outbox] == [["warga@example.org"]]
    assert report.code in mail.outbox[0].body
    assert list(report.events.values_list("status", flat=True)) == ["received", "resolved"]
    again = client.post(url, {"status": "not_upheld", "answer": "Berubah pikiran."})
    assert again.status_code == 400
    assert Report.objects.get(pk=report.pk).status == "resolved"


def test_a_reporter_with_an_account_gets_a_notification(world):
    reporter = world.users["member"]
    client = signed_in(reporter)
    client.post(reverse("feedback-new"), form_data(world))
    report = Report.objects.get(reporter=reporter)
    report_set_status(
        report_id=report.pk,
        actor=world.users["lead"],
        status="not_upheld",
        answer="Jumlahnya sesuai catatan penerimaan.",
    )
    assert Notification.objects.filter(user=reporter, url=report.get_tracking_url()).exists()


def test_a_closed_report_stays_closed_and_the_database_wants_an_answer(world):
    report = world.ordinary
    report_set_status(report_id=report.pk, actor=None, status="not_upheld", answer="Sesuai.")
    with pytest.raises(ReportRefused):
        report_set_status(report_id=report.pk, actor=None, status="looking_into")
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.filter(pk=world.about.pk).update(
            status="resolved", answer="", closed_at=timezone.now()
        )


# --- escalation ------------------------------------------------------------------------------


def test_an_overdue_report_escalates_once(world):
    make_overdue(world.ordinary)
    assert escalate_overdue() == 1
    assert escalate_overdue() == 0
    report = Report.objects.get(pk=world.ordinary.pk)
    assert report.escalated_at is not None
    told = Notification.objects.filter(subject__icontains="report", url=report.get_absolute_url())
    admins = told.filter(user=world.users["admin"])
    assert (
        admins.count() == 1
        or Notification.objects.filter(
            user=world.users["admin"], url=report.get_absolute_url()
        ).count()
        == 1
    )
    listing = client_of(world, "lead").get(reverse("feedback-list"), {"overdue": "1"})
    assert report.code_display in listing.content.decode()
    assert world.about.code_display not in listing.content.decode()


# --- never deleted, never public -----------------------------------------------------------------


def test_nobody_deletes_a_report(world):
    with pytest.raises((PermissionError, ProtectedError)):
        world.ordinary.delete()
    with pytest.raises((PermissionError, ProtectedError)):
        Report.objects.all().delete()
    admin = client_of(world, "admin")
    url = reverse("admin:feedback_report_delete", args=[world.ordinary.pk])
    assert admin.get(url).status_code == 403
    assert admin.post(url, {"post": "yes"}).status_code == 403
    changelist = admin.post(
        reverse("admin:feedback_report_changelist"),
        {"action": "delete_selected", "_selected_action": [world.ordinary.pk]},
    )
    assert changelist.status_code in (200, 302)
    assert Report.objects.filter(pk=world.ordinary.pk).exists()


def test_public_pages_show_counts_never_contents(world):
    make_overdue(world.about)
    report_set_status(report_id=world.ordinary.pk, actor=None, status="resolved", answer="Beres.")
    client = Client()
    program = world.ordinary.program
    collaborator = world.ordinary.collaborator
    pages = [
        reverse("area-detail", args=[world.area.code]),
        reverse("area-detail", args=[world.area.parent.code]),
        program.get_absolute_url(),
        collaborator.get_absolute_url(),
    ]
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        assert reverse("feedback-new") in html, url
        for report in (world.ordinary, world.about):
            for secret in (report.text, report.contact_phone, report.contact_email, report.code):
                assert secret not in html, (url, secret)
        assert "Beres." not in html
    area_page = client.get(pages[0]).content.decode()
    assert "2 reports received" in area_page or "2 laporan diterima" in area_page


def test_a_lead_sees_a_collaborator_flagged_for_upheld_complaints(world):
    report_set_status(report_id=world.ordinary.pk, actor=None, status="resolved", answer="Ya.")
    collaborator = world.ordinary.collaborator
    lead_page = client_of(world, "lead").get(collaborator.get_absolute_url()).content.decode()
    assert "feedback-flag" in lead_page
    public = Client().get(collaborator.get_absolute_url()).content.decode()
    assert "feedback-flag" not in public
    dashboard = client_of(world, "lead").get(reverse("dashboard"), follow=True)
    assert collaborator.name in dashboard.content.decode()
    assert "feedback-flagged" in dashboard.content.decode()


# --- abuse ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"website": "http://spam.example"}, "could not be accepted"),
        ({"shown": "forged"}, "out of date"),
        ({"text": "http://a.example http://b.example http://c.example beli"}, "links"),
    ],
)
def test_the_spam_check_refuses_and_writes_nothing(world, overrides, message, settings):
    settings.LANGUAGE_CODE = "en"
    before = Report.objects.count()
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        reverse("feedback-new"), form_data(world, **overrides)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Report.objects.count() == before


def test_a_form_sent_faster_than_a_person_types_is_refused(world, settings):
    settings.FEEDBACK_MIN_FILL_SECONDS = 5
    before = Report.objects.count()
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        reverse("feedback-new"), form_data(world, shown=shown_seconds_ago(1))
    )
    assert response.status_code == 400 and "quicker" in response.content.decode()
    assert Report.objects.count() == before


def test_the_rate_limit_refuses_with_a_clear_message_and_writes_nothing(world, settings):
    settings.FEEDBACK_RATE = "2/h"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(2):
        assert client.post(reverse("feedback-new"), form_data(world)).status_code == 302
    before = Report.objects.count()
    refused = client.post(reverse("feedback-new"), form_data(world))
    assert refused.status_code == 400 and "Too many reports" in refused.content.decode()
    assert Report.objects.count() == before
    # Another address is not held back by this one.
    other = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="10.9.8.7")
    assert other.post(reverse("feedback-new"), form_data(world)).status_code == 302


def test_bad_input_gets_a_message_not_a_500(world):
    client = Client()
    cases = [
        {"delivery": "99999999999999999999"},
        {"delivery": "", "area": "nope"},
        {"delivery": "", "area": ""},
        {"category": "bogus"},
        {"text": "x" * 5000},
        {"contact_phone": "12"},
        {"contact_email": "not-an-email"},
        {"program": "nope"},
    ]
    before = Report.objects.count()
    for case in cases:
        response = client.post(reverse("feedback-new"), form_data(world, **case))
        assert response.status_code == 400, case
    bad_photo = SimpleUploadedFile("x.jpg", b"not a photo", content_type="image/jpeg")
    response = client.post(reverse("feedback-new"), {**form_data(world), "photo": bad_photo})
    assert response.status_code == 400
    assert Report.objects.count() == before


def test_a_lead_records_a_report_received_on_whatsapp(world):
    client = client_of(world, "lead")
    response = client.post(reverse("feedback-new"), form_data(world, channel="whatsapp"))
    assert response.status_code == 302
    assert Report.objects.order_by("-pk").first().channel == "whatsapp"


def test_the_whatsapp_link_opens_a_chat_to_the_portal_number(world, settings):
    settings.FEEDBACK_WHATSAPP_NUMBER = "+62 811 0000 1111"
    page = Client().get(reverse("feedback-new"), {"area": world.area.code}).content.decode()
    assert (
        "https://wa.me/62811000011111?text=" in page or "https://wa.me/6281100001111?text=" in page
    )
    settings.FEEDBACK_WHATSAPP_NUMBER = ""
    assert "wa.me" not in Client().get(reverse("feedback-new")).content.decode()


def test_photo_is_seen_only_by_handlers_and_the_view_is_logged(world, settings):
    report = submit(
        world.delivery,
        text="Foto",
    )
    from commitments.lifecycle.uploads import clean_upload

    upload = SimpleUploadedFile("f.png", _png(), content_type="image/png")
    report.photo.save("p.jpg", clean_upload(upload, pdf=False).as_file(), save=False)
    Report.objects.filter(pk=report.pk).update(photo=report.photo.name)
    url = reverse("feedback-photo", args=[report.pk])
    assert client_of(world, "lead").get(url).status_code == 200
    assert client_of(world, "other_lead").get(url).status_code == 404
    assert PersonalDataView.objects.filter(subject_ref=report.code, path=url).exists()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(out, format="PNG")
    return out.getvalue()

"""Commitments made outside the portal: recorded by the program lead (their programs, any
area) or the facilitator (their areas, any program), already confirmed; never over-committing
a need; then the ordinary lifecycle, with the lead or facilitator recording deliveries the
collaborator cannot; counted in the program's live figures."""

import datetime
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from collaborators.models import Collaborator, Membership
from commitments.lifecycle.offline import commitment_record_offline
from commitments.models import Commitment, CommitmentEvent, Delivery, Notification
from commitments.workflow import TransitionRefused
from locations.models import Area, Need
from programs.models import DonationForm, Program, ProgramLead

from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    commitment_in,
    facilitator_of,
    lead_of,
    member_of,
    pangan_groceries,
)
from .world import run_in_threads, signed_in, small_world

KALI_ANYAR = "31.73.04.1002"
RW_001 = "31.73.04.1002.001"
NEW = reverse("offline-commitment-create")
LIST = reverse("offline-commitments")


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


def other_kelurahan() -> Area:
    return Area.objects.filter(level="kelurahan").exclude(code=KALI_ANYAR).order_by("code")[0]


def form_data(collaborator, /, **overrides) -> dict:
    data = {
        "key": uuid.uuid4().hex,
        "collaborator": collaborator.pk,
        "area": RW_001,
        "donation_form": pangan_groceries().pk,
        "quantity": 5,
        "value_idr": "",
        "made_on": (timezone.localdate() - datetime.timedelta(days=3)).isoformat(),
        "note": "Diserahkan di kantor kelurahan",
    }
    data.update(overrides)
    return data


def pdf():
    return SimpleUploadedFile("bukti.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")


# --- who may record ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_facilitator_records_for_an_rw_of_their_kelurahan(django_capture_on_commit_callbacks):
    collaborator = CollaboratorFactory()
    member = member_of(collaborator)
    facilitator = facilitator_of(KALI_ANYAR, title="Lurah")
    client = signed_in(facilitator)
    assert client.get(NEW).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW, form_data(collaborator))

    commitment = Commitment.objects.get(collaborator=collaborator)
    assert response.status_code == 302 and response["Location"] == commitment.get_absolute_url()
    assert commitment.channel == Commitment.Channel.OFFLINE
    assert commitment.status == "committed"
    assert commitment.area.code == RW_001 and commitment.need is None
    assert commitment.created_by == facilitator
    assert commitment.created_at.date() == timezone.localdate() - datetime.timedelta(days=3)
    # The value defaults to the donation form's estimate.
    assert commitment.value_idr == pangan_groceries().estimate_value_idr(5)
    # The collaborator's members hear of it; whoever recorded it does not.
    assert Notification.objects.filter(user=member, commitment=commitment).exists()
    assert not Notification.objects.filter(user=facilitator).exists()
    page = client.get(commitment.get_absolute_url())
    assert "Diserahkan di kantor kelurahan" in page.content.decode()


@pytest.mark.django_db
def test_a_facilitator_cannot_record_for_another_kelurahan():
    other = other_kelurahan()
    need_elsewhere = NeedFactory(area=other)
    collaborator = CollaboratorFactory()
    client = signed_in(facilitator_of(KALI_ANYAR))

    response = client.post(NEW, form_data(collaborator, area=other.code))
    assert response.status_code == 403
    assert "fasilitasi" in response.content.decode()  # says why, in Indonesian
    assert client.get(NEW, {"need": need_elsewhere.pk}).status_code == 404
    assert (
        client.post(f"{NEW}?need={need_elsewhere.pk}", form_data(collaborator)).status_code == 404
    )
    assert not Commitment.objects.filter(collaborator=collaborator).exists()
    need_elsewhere.refresh_from_db()
    assert need_elsewhere.quantity_claimed == 0


@pytest.mark.django_db
def test_a_lead_records_in_any_area_but_only_for_their_program():
    collaborator = CollaboratorFactory()
    lead = lead_of("pangan")
    client = signed_in(lead)
    other = other_kelurahan()
    assert client.post(NEW, form_data(collaborator, area=other.code)).status_code == 302
    assert Commitment.objects.get(collaborator=collaborator).area == other

    # Another program's donation form is not among the choices, nor its needs in the URL.
    education = DonationForm.objects.exclude(program__slug="pangan").first()
    response = client.post(NEW, form_data(collaborator, donation_form=education.pk))
    assert response.status_code == 400
    education_need = NeedFactory(donation_form=education, program=education.program)
    assert client.get(NEW, {"need": education_need.pk}).status_code == 404
    assert Commitment.objects.filter(collaborator=collaborator).count() == 1
    # And the service itself refuses, whatever a form would have offered.
    with pytest.raises(TransitionRefused) as refused:
        commitment_record_offline(
            actor=lead,
            collaborator=collaborator,
            area=Area.objects.get(code=RW_001),
            donation_form=education,
            quantity=1,
            value_idr=None,
            made_on=timezone.localdate(),
            note="",
            idempotency_key=uuid.uuid4().hex,
        )
    assert refused.value.forbidden


@pytest.mark.django_db
@pytest.mark.parametrize("url", [NEW, LIST])
def test_collaborator_members_and_visitors_cannot_record(client, url):
    collaborator = CollaboratorFactory()
    member = member_of(collaborator)
    assert client.get(url).status_code == 302  # to the sign-in page
    client.force_login(member)
    assert client.get(url).status_code == 403
    assert client.post(url, form_data(collaborator)).status_code == 403
    assert not Commitment.objects.exists()


@pytest.mark.django_db
def test_the_list_shows_offline_commitments_in_scope_only():
    collaborator = CollaboratorFactory(name="Toko Sembako Bu Ani")
    lead = lead_of("pangan")
    signed_in(lead).post(NEW, form_data(collaborator))
    commitment_in("committed", need=NeedFactory(), collaborator=collaborator, quantity=2)

    page = signed_in(facilitator_of(KALI_ANYAR)).get(LIST).content.decode()
    assert page.count("Toko Sembako Bu Ani") == 1  # the offline one, not the platform one
    assert "Toko Sembako Bu Ani" in signed_in(lead).get(LIST).content.decode()
    elsewhere = signed_in(facilitator_of(other_kelurahan().code)).get(LIST)
    assert elsewhere.status_code == 200
    assert "Toko Sembako Bu Ani" not in elsewhere.content.decode()


# --- a need's quantity ---------------------------------------------------------------------


@pytest.mark.django_db
def test_recording_against_a_need_claims_it_and_never_beyond_what_remains():
    need = NeedFactory(quantity_needed=10, unit_value_idr=250_000)
    commitment_in("pledged", need=need, collaborator=CollaboratorFactory(), quantity=6)
    collaborator = CollaboratorFactory()
    client = signed_in(facilitator_of(RW_001))
    url = f"{NEW}?need={need.pk}"
    assert client.get(url).status_code == 200

    too_many = client.post(url, form_data(collaborator, quantity=5))
    assert too_many.status_code == 400
    assert client.post(url, form_data(collaborator, quantity=4)).status_code == 302

    need.refresh_from_db()
    assert need.quantity_claimed == 10
    commitment = Commitment.objects.get(collaborator=collaborator)
    assert (commitment.need, commitment.quantity, commitment.value_idr) == (need, 4, 1_000_000)
    # Nothing is left: the service refuses even what the form would not catch.
    with pytest.raises(TransitionRefused):
        commitment_record_offline(
            actor=lead_of("pangan"),
            collaborator=CollaboratorFactory(),
            need=need,
            donation_form=need.donation_form,
            quantity=1,
            value_idr=None,
            made_on=timezone.localdate(),
            note="",
            idempotency_key=uuid.uuid4().hex,
        )
    need.refresh_from_db()
    assert need.quantity_claimed == 10


@pytest.mark.django_db
def test_the_area_preset_lists_its_open_needs_to_record_against():
    need = NeedFactory(quantity_needed=7)
    page = signed_in(lead_of("pangan")).get(NEW, {"area": KALI_ANYAR}).content.decode()
    assert f"?need={need.pk}" in page
    assert f'value="{KALI_ANYAR}"' in page


# --- lifecycle and audit trail ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_lead_records_the_delivery_and_the_facilitator_completes_it():
    collaborator = CollaboratorFactory()
    lead = lead_of("pangan")
    facilitator = facilitator_of(RW_001)
    need = NeedFactory(quantity_needed=10)
    lead_client = signed_in(lead)
    lead_client.post(f"{NEW}?need={need.pk}", form_data(collaborator, quantity=4))
    commitment = Commitment.objects.get(collaborator=collaborator)

    page = lead_client.get(commitment.get_absolute_url()).content.decode()
    assert reverse("delivery-create", args=[commitment.pk]) in page
    delivered = lead_client.post(
        reverse("delivery-create", args=[commitment.pk]),
        {
            "quantity": 4,
            "delivered_on": timezone.localdate().isoformat(),
            "recipients_households": 4,
            "recipients_persons": 13,
            "proofs": [pdf()],
        },
    )
    assert delivered.status_code == 302
    commitment.refresh_from_db()
    assert commitment.status == "delivered"

    delivery = Delivery.objects.get(commitment=commitment)
    confirmed = signed_in(facilitator).post(
        reverse("delivery-confirm", args=[commitment.pk, delivery.pk])
    )
    assert confirmed.status_code == 302
    commitment.refresh_from_db()
    need.refresh_from_db()
    assert commitment.status == "completed" and need.quantity_delivered == 4

    events = list(CommitmentEvent.objects.filter(commitment=commitment))
    assert [(e.from_status, e.to_status, e.actor, e.actor_role) for e in events] == [
        ("", "committed", lead, "lead"),
        ("committed", "delivered", lead, "lead"),
        ("delivered", "completed", facilitator, "facilitator"),
    ]
    assert "luring" in events[0].reason.lower()  # "recorded offline", in the portal's language
    timeline = lead_client.get(commitment.get_absolute_url()).content.decode()
    assert lead.email in timeline and facilitator.email in timeline


@pytest.mark.django_db
def test_a_lead_still_cannot_record_deliveries_of_platform_commitments():
    commitment = commitment_in(
        "committed", need=NeedFactory(), collaborator=CollaboratorFactory(), quantity=3
    )
    client = signed_in(lead_of("pangan"))
    url = reverse("delivery-create", args=[commitment.pk])
    assert url not in client.get(commitment.get_absolute_url()).content.decode()
    response = client.post(
        url, {"quantity": 1, "delivered_on": timezone.localdate().isoformat(), "proofs": [pdf()]}
    )
    assert response.status_code == 403
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_the_area_and_commitment_pages_say_it_was_recorded_offline(client):
    collaborator = CollaboratorFactory(name="Arisan Ibu RW 01")
    lead = lead_of("pangan")
    signed_in(lead).post(NEW, form_data(collaborator))
    commitment = Commitment.objects.get(collaborator=collaborator)

    area_page = client.get(reverse("area-detail", args=[RW_001])).content.decode()
    assert "Arisan Ibu RW 01" in area_page and "dicatat luring" in area_page
    detail = signed_in(lead).get(commitment.get_absolute_url()).content.decode()
    assert "luring" in detail


# --- idempotency, verification, totals --------------------------------------------------------


@pytest.mark.django_db
def test_resubmitting_the_same_form_records_one_commitment():
    collaborator = CollaboratorFactory()
    client = signed_in(lead_of("pangan"))
    data = form_data(collaborator)
    first = client.post(NEW, data)
    second = client.post(NEW, data, follow=True)
    assert second.redirect_chain[-1][0] == first["Location"]
    assert "sudah dicatat" in second.content.decode()
    assert Commitment.objects.filter(collaborator=collaborator).count() == 1


@pytest.mark.django_db
def test_an_unverified_collaborator_is_refused_with_the_reason():
    unverified = CollaboratorFactory(verification_status=Collaborator.Verification.UNVERIFIED)
    # Not offered in the list, and refused by the service if posted anyway.
    response = signed_in(lead_of("pangan")).post(NEW, form_data(unverified))
    assert response.status_code == 400
    with pytest.raises(TransitionRefused, match="verif"):
        commitment_record_offline(
            actor=lead_of("pangan"),
            collaborator=unverified,
            area=Area.objects.get(code=RW_001),
            donation_form=pangan_groceries(),
            quantity=1,
            value_idr=None,
            made_on=timezone.localdate(),
            note="",
            idempotency_key=uuid.uuid4().hex,
        )
    assert not Commitment.objects.exists()


@pytest.mark.django_db
def test_offline_commitments_count_in_the_program_figures(
    client, django_capture_on_commit_callbacks
):
    pangan = Program.objects.get(slug="pangan")
    before = pangan.live_commitments
    collaborator = CollaboratorFactory()
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(lead_of("pangan")).post(
            NEW, form_data(collaborator, quantity=3, value_idr="123456789")
        )
    pangan.refresh_from_db()
    assert pangan.live_commitments == before + 1
    assert pangan.live_value_idr == 123_456_789
    page = client.get(reverse("program-detail", args=["pangan"]))
    assert page.status_code == 200
    assert client.get(reverse("home")).status_code == 200
    collaborator.refresh_from_db()
    assert collaborator.live_commitments == 1 and collaborator.live_value_idr == 123_456_789


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value",
    [
        ("quantity", "abc"),
        ("quantity", "0"),
        ("quantity", "2147483648"),
        ("value_idr", "-5"),
        ("value_idr", "9" * 40),
        ("value_idr", "1e400"),
        ("made_on", "2999-01-01"),
        ("made_on", "1999-01-01"),
        ("made_on", "31/02/2026"),
        ("area", "31.73.04"),  # a kecamatan: needs are for RW and kelurahan
        ("area", "99.99"),
        ("area", "x" * 5000),
        ("donation_form", "9" * 30),
        ("collaborator", "-1"),
        ("key", "not-a-key"),
        ("note", "x" * 1001),
    ],
)
def test_junk_is_a_400_and_writes_nothing(field, value):
    collaborator = CollaboratorFactory()
    client = signed_in(facilitator_of(KALI_ANYAR))
    response = client.post(NEW, form_data(collaborator, **{field: value}))
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert not Commitment.objects.exists()
    assert not CommitmentEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("need", ["abc", "-1", "9" * 30, "0"])
def test_a_junk_need_in_the_url_is_a_404(need):
    client = signed_in(lead_of("pangan"))
    assert client.get(NEW, {"need": need}).status_code == 404
    assert client.get(NEW, {"area": "x" * 500}).status_code == 200


# --- concurrency -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_offline_records_and_pledges_racing_for_a_need_never_over_commit():
    need = small_world(quantity_needed=10)
    lead = UserFactory()
    ProgramLead.objects.create(user=lead, program=need.program)
    jobs = []
    for n in range(24):
        collaborator = Collaborator.objects.create(
            name=f"Race {n}",
            slug=f"race-{n}-{uuid.uuid4().hex[:6]}",
            kind="company",
            verification_status="verified",
        )
        if n % 2:  # half record offline as the lead, half pledge on the portal
            client = signed_in(lead)
            url = f"{NEW}?need={need.pk}"
            # A transactional test before this one may have flushed the programs: only
            # what a need's form asks for.
            data = {
                "key": uuid.uuid4().hex,
                "collaborator": collaborator.pk,
                "quantity": 1,
                "made_on": timezone.localdate().isoformat(),
            }
        else:
            member = UserFactory()
            Membership.objects.create(user=member, collaborator=collaborator, role="owner")
            client = signed_in(member)
            url = reverse("pledge-create", args=[need.pk])
            data = {
                "key": uuid.uuid4().hex,
                "collaborator": collaborator.pk,
                "quantity": 1,
                "planned_delivery_on": (
                    timezone.localdate() + datetime.timedelta(days=5)
                ).isoformat(),
            }
        jobs.append(lambda client=client, url=url, data=data: client.post(url, data))

    results = run_in_threads(jobs)

    assert [r for r in results if isinstance(r, Exception)] == []
    codes = [r.status_code for r in results]
    # Refused (409, or 400 once the form sees nothing left), never a 500.
    assert all(code in (302, 400, 409) for code in codes), codes
    assert codes.count(302) == 10
    need = Need.objects.get(pk=need.pk)
    assert need.quantity_claimed == 10
    assert sum(Commitment.objects.filter(need=need).values_list("quantity", flat=True)) == 10

"""Area adoption (issue 21, part 1): a verified collaborator proposes to adopt an RW, a
kelurahan or a kampung drawn as several RW; the area's facilitators comment; the program
lead agrees, asks for changes or declines; at most one open adoption per area and program;
the adopter adds works (commitments with the normal lifecycle) and the value grows; needs
posted in the adopted area are offered to the adopter first. Through real HTTP requests."""

import datetime
import re
import uuid

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from collaborators.models import Collaborator, ProgramVerification
from commitments.adoption.demo import TANAH_MERAH_RW
from commitments.adoption.first_offer import needs_first_offer_start
from commitments.adoption.models import Adoption, AdoptionArea, NeedFirstOffer
from commitments.housekeeping.demo import seed_demo
from commitments.models import Commitment, NeedImport, Notification
from commitments.needs.import_files import COLUMNS
from locations.models import Area, Need
from programs.models import DonationForm, Program

from .api_world import pledge_by_api
from .factories import (
    CollaboratorFactory,
    collaborator_and_member,
    facilitator_of,
    lead_of,
    member_of,
)
from .world import in_days, pledge_by_form, signed_in

pytestmark = pytest.mark.django_db

KELURAHAN = "31.73.04.1002"  # Kali Anyar
RW1 = "31.73.04.1002.001"
RW2 = "31.73.04.1002.002"
RW3 = "31.73.04.1002.003"
PROGRAM = "penataan-pemukiman"
PROPOSE = reverse("adoption-propose")


def program() -> Program:
    return Program.objects.get(slug=PROGRAM)


def works_form() -> DonationForm:
    return DonationForm.objects.filter(program__slug=PROGRAM).order_by("sort_order", "pk")[0]


def proposal_data(collaborator, **overrides) -> dict:
    data = {
        "collaborator": collaborator.pk,
        "name": "Kampung Uji",
        "rw": [RW1, RW2],
        "more_rw": "",
        "starts_on": in_days(0),
        "ends_on": in_days(365),
        "description": "Penataan kampung bersama warga",
        "phase1_title": "Saluran air",
        "phase1_target_on": in_days(90),
        "phase1_item1_form": works_form().pk,
        "phase1_item1_quantity": 10,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def propose(client, collaborator, area=KELURAHAN, **overrides):
    url = f"{PROPOSE}?area={area}&program={PROGRAM}"
    return client.post(url, proposal_data(collaborator, **overrides))


@pytest.fixture
def people():
    adopter, owner = collaborator_and_member(name="Young Presidents Uji")
    other, other_owner = collaborator_and_member(name="PT Pesaing Uji")
    return {
        "adopter": adopter,
        "owner": owner,
        "other": other,
        "other_owner": other_owner,
        "facilitator": facilitator_of(RW1, title="Ketua RW 01"),
        "lead": lead_of(PROGRAM),
    }


def proposed(people) -> Adoption:
    response = propose(signed_in(people["owner"]), people["adopter"])
    assert response.status_code == 302, response.content.decode()[:3000]
    return Adoption.objects.get(collaborator=people["adopter"])


def agreed(people) -> Adoption:
    adoption = proposed(people)
    signed_in(people["facilitator"]).post(
        reverse("adoption-comment", args=[adoption.pk]), {"text": "Warga setuju."}
    )
    response = decide(people["lead"], adoption, "agree")
    assert response.status_code == 302
    adoption.refresh_from_db()
    assert adoption.status == "active"
    return adoption


def decide(user, adoption, decision, note=""):
    return signed_in(user).post(
        reverse("adoption-decide", args=[adoption.pk]), {"decision": decision, "note": note}
    )


def test_a_verified_collaborator_proposes_a_kampung_and_the_lead_and_facilitator_are_told(
    people,
):
    client = signed_in(people["owner"])
    page = client.get(reverse("area-detail", args=[RW1]))
    assert f'href="{PROPOSE}?area={RW1}"' in page.content.decode()  # "adopt this area"
    form = client.get(f"{PROPOSE}?area={RW1}&program={PROGRAM}")
    assert form.status_code == 200 and "Kali Anyar" in form.content.decode()

    adoption = proposed(people)
    assert adoption.status == "proposed" and adoption.proposed_by == people["owner"]
    claims = AdoptionArea.objects.filter(adoption=adoption)
    assert sorted(claims.values_list("area__code", "holds")) == [(RW1, True), (RW2, True)]
    assert adoption.phases.get().items.get().quantity == 10
    told = set(
        Notification.objects.filter(url=adoption.get_absolute_url()).values_list("user", flat=True)
    )
    assert {people["lead"].pk, people["facilitator"].pk} <= told

    page = client.get(adoption.get_absolute_url())
    assert page.status_code == 200 and "Kampung Uji" in page.content.decode()
    # Not public until agreed: anyone else does not even learn it exists.
    assert signed_in(people["other_owner"]).get(adoption.get_absolute_url()).status_code == 404


def test_a_kelurahan_claims_itself_and_all_its_rw(people):
    response = propose(signed_in(people["owner"]), people["adopter"], whole_kelurahan="on", rw=[])
    assert response.status_code == 302
    codes = set(AdoptionArea.objects.values_list("area__code", flat=True))
    rw = set(Area.objects.filter(parent__code=KELURAHAN).values_list("code", flat=True))
    assert codes == {KELURAHAN} | rw


def test_unverified_collaborators_cannot_propose(people):
    unverified = CollaboratorFactory(verification_status=Collaborator.Verification.UNVERIFIED)
    client = signed_in(member_of(unverified))
    response = client.get(f"{PROPOSE}?area={RW1}&program={PROGRAM}")
    assert response.status_code == 403
    assert "verified collaborator" in response.content.decode() or "terverifikasi" in (
        response.content.decode()
    )
    assert "Adopt this area" not in client.get(reverse("area-detail", args=[RW1])).content.decode()

    # Verified by the lead of another program only: refused for this one.
    ProgramVerification.objects.create(
        collaborator=unverified, program=Program.objects.get(slug="pangan"), status="verified"
    )
    response = propose(client, unverified)
    assert response.status_code == 403
    assert not Adoption.objects.exists()


def test_an_overlapping_proposal_is_refused_with_the_name_of_the_holder(people):
    proposed(people)
    client = signed_in(people["other_owner"])
    response = propose(client, people["other"], whole_kelurahan="on", rw=[])
    assert response.status_code == 409
    assert "Young Presidents Uji" in response.content.decode()
    assert Adoption.objects.count() == 1
    # Another RW of the same kelurahan is free, and so is the same RW in another program.
    assert propose(client, people["other"], rw=[RW3]).status_code == 302


def test_the_lead_agrees_only_after_a_facilitator_of_the_area_has_commented(people):
    adoption = proposed(people)
    response = decide(people["lead"], adoption, "agree")
    assert response.status_code == 409
    assert "facilitator" in response.content.decode() or "fasilitator" in response.content.decode()
    adoption.refresh_from_db()
    assert adoption.status == "proposed"

    # Only a facilitator of an adopted area may comment.
    elsewhere = Area.objects.filter(level="kelurahan").exclude(code=KELURAHAN).order_by("code")[0]
    stranger = facilitator_of(elsewhere.code)
    url = reverse("adoption-comment", args=[adoption.pk])
    assert signed_in(stranger).post(url, {"text": "Saya juga"}).status_code in (403, 404)
    response = signed_in(people["facilitator"]).post(url, {"text": "Warga RW 01 setuju."})
    assert response.status_code == 302
    assert adoption.comments.get().author_title == "Ketua RW 01"

    # Only the program's lead (or an administrator) decides.
    assert decide(people["owner"], adoption, "agree").status_code == 403
    assert decide(lead_of("pangan"), adoption, "agree").status_code in (403, 404)
    assert decide(people["lead"], adoption, "agree", "Selamat bekerja").status_code == 302
    adoption.refresh_from_db()
    assert adoption.status == "active" and adoption.agreed_at is not None
    assert adoption.decided_by == people["lead"]

    # Public now, and the area page says who adopted it since when.
    public = signed_in(people["other_owner"]).get(adoption.get_absolute_url())
    assert public.status_code == 200
    area_page = signed_in(people["other_owner"]).get(reverse("area-detail", args=[RW1]))
    assert "Young Presidents Uji" in area_page.content.decode()
    assert adoption.get_absolute_url() in area_page.content.decode()


def test_an_area_without_facilitator_is_agreed_with_a_note_saying_so(people):
    kelurahan = (
        Area.objects.filter(level="kelurahan", children__isnull=False)
        .exclude(code=KELURAHAN)
        .order_by("code")
        .first()
    )
    rw = kelurahan.children.order_by("code").first()
    response = propose(signed_in(people["owner"]), people["adopter"], area=rw.code, rw=[rw.code])
    assert response.status_code == 302
    adoption = Adoption.objects.get()
    assert decide(people["lead"], adoption, "agree").status_code == 302
    adoption.refresh_from_db()
    assert adoption.status == "active"
    # Written in the lead's language (Indonesian by default).
    assert "Tidak ada fasilitator" in adoption.decision_note


def test_changes_requested_then_the_adopter_edits_and_resubmits(people):
    adoption = proposed(people)
    assert decide(people["lead"], adoption, "changes").status_code == 409  # a note is needed
    assert decide(people["lead"], adoption, "changes", "Tambah tahap kedua").status_code == 302
    adoption.refresh_from_db()
    assert adoption.status == "changes_requested"

    edit = reverse("adoption-edit", args=[adoption.pk])
    assert signed_in(people["other_owner"]).get(edit).status_code == 404
    client = signed_in(people["owner"])
    page = client.get(edit)
    assert page.status_code == 200 and "Tambah tahap kedua" in page.content.decode()
    data = proposal_data(
        people["adopter"],
        rw=[RW1],
        phase2_title="Jalan lingkungan",
        phase2_target_on=in_days(200),
        phase2_item1_form=works_form().pk,
        phase2_item1_value="150000000",
    )
    assert client.post(edit, data).status_code == 302
    adoption.refresh_from_db()
    assert adoption.status == "proposed"
    assert list(adoption.claims.values_list("area__code", flat=True)) == [RW1]
    assert adoption.phases.count() == 2
    # RW2 is free again for someone else.
    assert propose(signed_in(people["other_owner"]), people["other"], rw=[RW2]).status_code == 302


def test_a_declined_or_withdrawn_proposal_frees_its_areas(people):
    adoption = proposed(people)
    assert decide(people["lead"], adoption, "decline").status_code == 409  # a reason is needed
    assert decide(people["lead"], adoption, "decline", "Sudah ada program lain").status_code == 302
    adoption.refresh_from_db()
    assert adoption.status == "declined" and adoption.decision_note == "Sudah ada program lain"
    assert not AdoptionArea.objects.filter(holds=True).exists()

    other = signed_in(people["other_owner"])
    assert propose(other, people["other"]).status_code == 302
    second = Adoption.objects.get(collaborator=people["other"])
    withdraw = reverse("adoption-withdraw", args=[second.pk])
    assert signed_in(people["owner"]).post(withdraw).status_code in (403, 404)
    assert other.post(withdraw).status_code == 302
    second.refresh_from_db()
    assert second.status == "withdrawn"
    assert propose(signed_in(people["owner"]), people["adopter"], name="Lagi").status_code == 302


def test_the_lead_ends_an_active_adoption(people):
    adoption = agreed(people)
    assert decide(people["owner"], adoption, "end").status_code == 403
    assert decide(people["lead"], adoption, "end", "Periode selesai").status_code == 302
    adoption.refresh_from_db()
    assert adoption.status == "ended" and adoption.ended_at is not None
    assert not adoption.claims.filter(holds=True).exists()


def work_data(adoption, **overrides) -> dict:
    data = {
        "key": uuid.uuid4().hex,
        "phase": adoption.phases.get(order=1).pk,
        "donation_form": works_form().pk,
        "area": RW1,
        "quantity": 2,
        "value_idr": "20000000",
        "planned_delivery_on": in_days(30),
        "note": "",
    }
    data.update(overrides)
    return data


def test_works_are_commitments_with_the_normal_lifecycle_and_the_value_grows(people):
    adoption = agreed(people)
    add = reverse("adoption-work-add", args=[adoption.pk])
    assert signed_in(people["other_owner"]).get(add).status_code == 404
    client = signed_in(people["owner"])
    assert client.get(add).status_code == 200

    other_kelurahan_rw = Area.objects.filter(level="rw").exclude(parent__code=KELURAHAN)[0]
    response = client.post(add, work_data(adoption, area=other_kelurahan_rw.code))
    assert response.status_code == 400  # not an adopted area
    response = client.post(add, work_data(adoption))
    assert response.status_code == 302
    first = Commitment.objects.get(adoption_work__adoption=adoption)
    assert (first.collaborator, first.area.code, first.status, first.need) == (
        people["adopter"],
        RW1,
        "pledged",
        None,
    )
    value = first.value_idr
    page = client.get(adoption.get_absolute_url()).content.decode()
    assert first.get_absolute_url() in page

    response = client.post(add, work_data(adoption, area=RW2, quantity=3))
    assert response.status_code == 302
    progress_value = sum(
        c.value_idr or 0 for c in Commitment.objects.filter(adoption_work__adoption=adoption)
    )
    assert progress_value > value
    # The facilitator confirms it through the ordinary lifecycle.
    response = signed_in(people["facilitator"]).post(
        reverse("commitment-status", args=[first.pk]), {"target": "committed", "reason": ""}
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == "committed"


def post_need(facilitator, area_code=RW1) -> Need:
    form = works_form()
    response = signed_in(facilitator).post(
        reverse("need-add"),
        {
            "area": area_code,
            "program": form.program_id,
            "donation_form": form.pk,
            "quantity_needed": 20,
            "priority": 1,
            "households": 20,
            "persons": 80,
            "valid_until": in_days(60),
            "description": "Perbaikan saluran",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Need.objects.filter(area__code=area_code).latest("pk")


def test_a_need_in_an_adopted_area_is_offered_to_the_adopter_first(people):
    adoption = agreed(people)
    need = post_need(people["facilitator"])
    offer = NeedFirstOffer.objects.get(need=need)
    assert offer.adoption == adoption
    days = (offer.until - timezone.now()).days
    assert days in (13, 14)
    # Notifications are written in the portal's language, Indonesian.
    assert Notification.objects.filter(
        user=people["owner"], subject__icontains="lebih dulu"
    ).exists()
    area_page = signed_in(people["other_owner"]).get(reverse("area-detail", args=[RW1]))
    assert "Young Presidents Uji" in area_page.content.decode()

    refused = pledge_by_form(signed_in(people["other_owner"]), need, people["other"], quantity=2)
    assert refused.status_code in (409, 400, 200)
    assert "Young Presidents Uji" in refused.content.decode()
    assert not Commitment.objects.filter(collaborator=people["other"]).exists()

    taken = pledge_by_form(signed_in(people["owner"]), need, people["adopter"], quantity=2)
    assert taken.status_code == 302
    # After the window anyone may pledge.
    NeedFirstOffer.objects.filter(pk=offer.pk).update(
        until=timezone.now() - datetime.timedelta(seconds=1)
    )
    later = pledge_by_form(signed_in(people["other_owner"]), need, people["other"], quantity=2)
    assert later.status_code == 302
    assert Commitment.objects.filter(collaborator=people["other"], need=need).exists()


def test_needs_outside_the_adopted_area_or_program_are_open_to_all(people):
    agreed(people)
    head = facilitator_of(KELURAHAN)
    need = post_need(head, RW3)
    assert not NeedFirstOffer.objects.filter(need=need).exists()


def test_a_proposal_of_more_than_bounds_or_bad_dates_is_refused_without_writing(people):
    client = signed_in(people["owner"])
    response = propose(client, people["adopter"], ends_on=in_days(-5), starts_on=in_days(-10))
    assert response.status_code == 409
    response = propose(client, people["adopter"], phase1_item1_quantity="2147483648")
    assert response.status_code == 400
    response = propose(
        client, people["adopter"], phase1_item1_form=None, phase1_item1_quantity=None
    )
    assert response.status_code == 409  # no phase with a donation form
    response = propose(client, people["adopter"], more_rw="31.73.04.1002, 99.99.99")
    assert response.status_code == 400
    response = propose(client, people["adopter"], name="x\x00y")
    assert response.status_code == 400
    assert not Adoption.objects.exists()


def test_the_demo_shows_ypos_adoption_of_kampung_tanah_merah(client):
    seed_demo(force=True)
    adoption = Adoption.objects.get(name="Kampung Tanah Merah")
    assert adoption.status == "active" and "YPO" in adoption.collaborator.name
    page = client.get(adoption.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert "YPO" in body and "Sanitasi" in body
    assert adoption.works.count() == 3
    area_page = client.get(reverse("area-detail", args=[TANAH_MERAH_RW[0]])).content.decode()
    assert "YPO" in area_page and adoption.get_absolute_url() in area_page
    assert "Kampung Tanah Merah" in client.get(reverse("adoption-list")).content.decode()


def test_imported_needs_are_offered_first_and_the_api_refuses_other_collaborators(
    people, settings, tmp_path
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    adoption = agreed(people)
    form = works_form().slug
    table = tablib.Dataset(headers=[column.header("id") for column in COLUMNS])
    for code in (RW1, RW3):
        cells = {
            "area_code": code,
            "program": PROGRAM,
            "donation_form": form,
            "quantity": 10,
            "valid_until": in_days(60),
        }
        table.append([cells.get(column.key, "") for column in COLUMNS])
    upload = SimpleUploadedFile("kebutuhan.csv", table.export("csv").encode(), "text/csv")
    client = signed_in(facilitator_of(KELURAHAN))
    client.post(reverse("need-import"), {"file": upload}, follow=True)
    client.post(reverse("need-import-apply", args=[NeedImport.objects.get().pk]), follow=True)
    in_rw1, in_rw3 = Need.objects.get(area__code=RW1), Need.objects.get(area__code=RW3)
    assert NeedFirstOffer.objects.get(need=in_rw1).adoption == adoption
    assert not NeedFirstOffer.objects.filter(need=in_rw3).exists()

    api = signed_in(people["other_owner"], APIClient)
    refused = pledge_by_api(api, in_rw1, people["other"])
    assert refused.status_code == 422  # the API's answer to a refused pledge
    assert "Young Presidents Uji" in refused.content.decode()
    assert pledge_by_api(api, in_rw3, people["other"], key="key-2").status_code == 201


def test_a_work_is_refused_once_the_adopter_is_no_longer_verified(people):
    adoption = agreed(people)
    Collaborator.objects.filter(pk=people["adopter"].pk).update(
        verification_status=Collaborator.Verification.REJECTED
    )
    response = signed_in(people["owner"]).post(
        reverse("adoption-work-add", args=[adoption.pk]), work_data(adoption)
    )
    assert response.status_code == 409
    assert not Commitment.objects.filter(collaborator=people["adopter"]).exists()


def test_the_adopter_may_not_decide_and_a_stranger_may_not_see_a_proposal(people, client):
    adoption = proposed(people)
    for url in (
        adoption.get_absolute_url(),
        reverse("adoption-edit", args=[adoption.pk]),
        reverse("adoption-work-add", args=[adoption.pk]),
    ):
        assert signed_in(people["other_owner"]).get(url).status_code == 404
    assert client.get(adoption.get_absolute_url()).status_code == 404
    assert client.post(reverse("adoption-decide", args=[adoption.pk])).status_code == 302  # login
    assert decide(people["owner"], adoption, "agree").status_code == 403
    assert decide(people["facilitator"], adoption, "decline", "Tidak").status_code == 403
    adoption.refresh_from_db()
    assert adoption.status == "proposed"


JUNK = [
    "ü漢字🙂" * 2500,
    "2147483648",
    "-99999999999999999999",
    "9" * 5000,
    "31/02/2026",
    "0000-00-00",
    "nul\x00byte",
    "",
]


def test_junk_in_every_adoption_form_is_refused_without_a_server_error(people):
    adoption = agreed(people)
    owner = signed_in(people["owner"])
    form_page = owner.get(f"{PROPOSE}?area={KELURAHAN}&program={PROGRAM}").content.decode()
    fields = set(re.findall(r'name="([a-z0-9_]+)"', form_page)) - {"csrfmiddlewaretoken"}
    assert {"name", "rw", "phase4_item3_value"} <= fields
    before = (Adoption.objects.count(), Commitment.objects.count())
    for turn, junk in enumerate(JUNK):
        data = {name: JUNK[(turn + i) % len(JUNK)] for i, name in enumerate(sorted(fields))}
        response = owner.post(f"{PROPOSE}?area={KELURAHAN}&program={PROGRAM}", data)
        assert response.status_code in (400, 403, 409), response.status_code
        work = dict.fromkeys(work_data(adoption), junk)
        response = owner.post(reverse("adoption-work-add", args=[adoption.pk]), work)
        assert response.status_code == 400
        for name, user in (("comment", "facilitator"), ("decide", "lead")):
            data = {"text": junk, "decision": junk, "note": junk}
            response = signed_in(people[user]).post(
                reverse(f"adoption-{name}", args=[adoption.pk]), data
            )
            assert response.status_code < 500
    assert (Adoption.objects.count(), Commitment.objects.count()) == before


def test_many_needs_posted_at_once_make_one_notification_per_member(people):
    """An import of many needs in an adopted area tells each of the adopter's members once,
    not once per need."""
    adoption = agreed(people)
    form = works_form()
    area = Area.objects.get(code=RW1)
    needs = [
        Need.objects.create(
            area=area,
            program=form.program,
            donation_form=form,
            quantity_needed=5 + i,
            valid_until=in_days(60),
        )
        for i in range(4)
    ]
    before = Notification.objects.filter(user=people["owner"]).count()
    offers = needs_first_offer_start(needs=needs)
    assert len(offers) == 4 and {o.adoption_id for o in offers} == {adoption.pk}
    written = Notification.objects.filter(user=people["owner"]).order_by("-pk")
    assert written.count() == before + 1
    assert written.first().subject.startswith("4 kebutuhan baru")
    assert written.first().url == adoption.get_absolute_url()

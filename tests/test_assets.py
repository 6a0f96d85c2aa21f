"""The donated-asset register: a laptop delivery's receipt is confirmed together with its
assets (as many as delivered, each with an allowed owner and a serial number), nothing is
written for a bad row, the keepers record their history, and the registers and their XLSX
export show them with private owners' names only to those entitled."""

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import ProtectedError
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from openpyxl import load_workbook

from commitments.assets.models import Asset, AssetEvent
from commitments.assets.registry import AssetEntry
from commitments.lifecycle.transitions import delivery_confirm, delivery_record
from commitments.models import Delivery
from commitments.workflow import TransitionRefused
from locations.models import Area, Site
from programs.models import DonationForm

from .asset_world import (  # noqa: F401  (private_files: a fixture, autouse below)
    GADGET,
    OTHER_RW,
    RW,
    groups,
    laptop_world,
    nothing_written,
    private_files,
    register_url,
    rows,
)
from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    commitment_in,
    facilitator_of,
    jpeg_with_location,
    lead_of,
    member_of,
)
from .world import PROOF, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_files")]


def two_for_school_three_private(world, tag="") -> dict:
    tag = tag or uuid.uuid4().hex[:6]
    return rows(
        [
            ("school", world.school, f"SN-{tag}-1"),
            ("school", world.school, f"SN-{tag}-2"),
            ("private", "Siti Rahmawati", f"SN-{tag}-3"),
            ("private", "Budi Santoso", f"SN-{tag}-4"),
            ("private", "Dewi Lestari", f"SN-{tag}-5"),
        ]
    )


def entries(world, count=5, **changes):
    return [
        AssetEntry(
            owner_kind=changes.get("owner_kind", "school"),
            owner_site_id=changes.get("owner_site_id", world.school.pk),
            owner_name=changes.get("owner_name", ""),
            serial_number=f"E-{uuid.uuid4().hex[:8]}",
        )
        for _ in range(count)
    ]


# --- registration at receipt ----------------------------------------------------------------


def test_the_facilitator_registers_five_laptops_and_receipt_is_confirmed():
    world = laptop_world()
    client = signed_in(world.facilitator)
    detail = client.get(world.commitment.get_absolute_url()).content.decode()
    assert register_url(world) in detail  # the confirm action leads to the registration

    page = client.get(register_url(world))
    assert page.status_code == 200
    assert page.content.decode().count('class="asset-group"') == 2  # one, and the template

    response = client.post(register_url(world), two_for_school_three_private(world, "ok"))
    assert response.status_code == 302
    world.delivery.refresh_from_db()
    world.commitment.refresh_from_db()
    assert world.delivery.confirmed_at is not None
    assert world.commitment.status == "completed"
    assets = Asset.objects.filter(delivery=world.delivery).order_by("serial_number")
    assert [(a.owner_kind, a.serial_number) for a in assets] == [
        ("school", "SN-ok-1"),
        ("school", "SN-ok-2"),
        ("private", "SN-ok-3"),
        ("private", "SN-ok-4"),
        ("private", "SN-ok-5"),
    ]
    first = assets[0]
    assert first.owner_site == world.school and first.area == world.area
    assert first.value_idr == 4_500_000 and first.acquired_on == world.delivery.delivered_on
    assert first.kind == world.form.name_id and first.status == "in_use"
    assert AssetEvent.objects.filter(asset__delivery=world.delivery, kind="registered").count() == 5


def test_confirming_without_the_assets_is_refused():
    world = laptop_world(quantity=3)
    client = signed_in(world.facilitator)
    confirm = reverse("delivery-confirm", args=[world.commitment.pk, world.delivery.pk])
    page = client.post(confirm, follow=True).content.decode()
    assert "aset" in page.lower() and "3" in page
    assert nothing_written(world)
    with pytest.raises(TransitionRefused, match="3"):
        delivery_confirm(delivery_id=world.delivery.pk, actor=world.facilitator)
    assert nothing_written(world)


def test_the_api_refuses_to_confirm_an_asset_delivery_without_assets():
    from rest_framework.test import APIClient

    world = laptop_world(quantity=2)
    api = signed_in(world.facilitator, APIClient)
    url = f"/api/v1/commitments/{world.commitment.pk}/deliveries/{world.delivery.pk}/confirm/"
    response = api.post(url)
    assert response.status_code == 409, response.content
    assert register_url(world) in response.json()["detail"]
    assert nothing_written(world)
    # Someone who may not confirm it hears that first.
    assert signed_in(world.donor, APIClient).post(url).status_code == 403


def test_the_number_of_assets_must_equal_the_delivery():
    world = laptop_world(quantity=5)
    for count in (4, 6):
        with pytest.raises(TransitionRefused, match="5"):
            delivery_confirm(
                delivery_id=world.delivery.pk, actor=world.facilitator, assets=entries(world, count)
            )
        assert nothing_written(world)
    data = rows([("school", world.school, f"SN-four-{n}") for n in range(4)])
    response = signed_in(world.facilitator).post(register_url(world), data)
    assert response.status_code == 400
    assert "Jumlah semua grup 4 aset" in response.content.decode()
    assert nothing_written(world)


def test_an_owner_the_program_does_not_allow_is_refused():
    world = laptop_world(quantity=2)
    with pytest.raises(TransitionRefused):
        delivery_confirm(
            delivery_id=world.delivery.pk,
            actor=world.facilitator,
            assets=entries(world, 2, owner_kind="rw", owner_site_id=None),
        )
    assert nothing_written(world)
    # A school elsewhere, or a site that is not a school, is no owner here either.
    elsewhere = Site.objects.create(
        area=Area.objects.get(code=OTHER_RW), kind="school", name="SD Lain", lon=106.8, lat=-6.1
    )
    clinic = Site.objects.create(area=world.area, kind="orphanage", name="Panti", lon=1, lat=1)
    for site in (elsewhere, clinic):
        with pytest.raises(TransitionRefused):
            delivery_confirm(
                delivery_id=world.delivery.pk,
                actor=world.facilitator,
                assets=entries(world, 2, owner_site_id=site.pk),
            )
    # And on the page, the RW owner is not even offered.
    page = signed_in(world.facilitator).get(register_url(world)).content.decode()
    assert 'value="rw"' not in page and 'value="school"' in page and 'value="private"' in page
    response = signed_in(world.facilitator).post(
        register_url(world), rows([("rw", None, "A"), ("city", None, "B")])
    )
    assert response.status_code == 400
    assert nothing_written(world)


def test_a_private_owner_needs_a_name():
    world = laptop_world(quantity=1)
    response = signed_in(world.facilitator).post(
        register_url(world), rows([("private", "", "SN-noname")])
    )
    assert response.status_code == 400
    assert nothing_written(world)


def test_serial_numbers_are_required_and_unique_per_form():
    world = laptop_world(quantity=2)
    client = signed_in(world.facilitator)
    missing = rows([("school", world.school, "SN-1"), ("school", world.school, "")])
    response = client.post(register_url(world), missing)
    assert response.status_code == 400
    assert nothing_written(world)

    twice = rows([("school", world.school, "SN-same"), ("school", world.school, "SN-same")])
    response = client.post(register_url(world), twice)
    assert response.status_code == 400 and "SN-same" in response.content.decode()
    assert nothing_written(world)

    assert (
        client.post(
            register_url(world),
            rows([("school", world.school, "SN-a")] + [("school", world.school, "SN-b")]),
        ).status_code
        == 302
    )
    # Another delivery cannot register a laptop with a serial number already taken.
    other = laptop_world(quantity=1, facilitator=world.facilitator)
    response = client.post(register_url(other), rows([("school", other.school, "SN-b")]))
    assert response.status_code == 400 and "SN-b" in response.content.decode()
    assert "already registered" in response.content.decode() or "sudah" in (
        response.content.decode()
    )
    assert nothing_written(other)


def test_one_bad_row_writes_nothing(private_files):  # noqa: F811
    world = laptop_world(quantity=3)
    data = rows(
        [
            ("school", world.school, "SN-x1"),
            ("private", "Ani", "SN-x2"),
            ("private", "Ani", "x" * 101),  # too long a serial
        ]
    )
    data["g1-photo"] = SimpleUploadedFile("laptop.jpg", jpeg_with_location(), "image/jpeg")
    response = signed_in(world.facilitator).post(register_url(world), data)
    assert response.status_code == 400
    assert nothing_written(world)
    assert not [p for p in private_files.rglob("*") if p.is_file() and "assets" in str(p)]
    # A NUL byte and a file that is not a photo are refused the same way.
    data = rows([("school", world.school, "SN-y1"), ("private", "A\x00", "SN-y2")])
    data["g1-photo"] = SimpleUploadedFile("laptop.jpg", b"not an image", "image/jpeg")
    assert signed_in(world.facilitator).post(register_url(world), data).status_code == 400
    assert nothing_written(world)


def test_a_photo_is_stored_privately_without_its_location(private_files):  # noqa: F811
    world = laptop_world(quantity=1)
    data = rows([("school", world.school, "SN-photo")])
    data["g1-photo"] = SimpleUploadedFile("laptop.jpg", jpeg_with_location(), "image/jpeg")
    assert signed_in(world.facilitator).post(register_url(world), data).status_code == 302
    asset = Asset.objects.get(delivery=world.delivery)
    assert asset.photo.name.endswith(".jpg")
    url = reverse("asset-photo", args=[asset.pk])
    photo = signed_in(world.facilitator).get(url)
    assert photo.status_code == 200
    assert b"KameraHP" not in b"".join(photo.streaming_content)
    assert signed_in(UserFactory()).get(url).status_code == 404
    assert url not in signed_in(UserFactory()).get(asset.get_absolute_url()).content.decode()


def test_forms_that_create_no_assets_keep_the_one_click_confirm(client):
    need = NeedFactory(area=Area.objects.get(code=RW))
    collaborator = CollaboratorFactory()
    commitment = commitment_in("committed", need=need, collaborator=collaborator, quantity=2)
    delivery = delivery_record(
        commitment_id=commitment.pk,
        actor=member_of(collaborator),
        quantity=2,
        delivered_on=timezone.localdate(),
        recipients_households=1,
        recipients_persons=2,
        proofs=[PROOF],
    )
    facilitator = signed_in(facilitator_of(RW))
    response = facilitator.post(reverse("delivery-confirm", args=[commitment.pk, delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.confirmed_at is not None
    assert not Asset.objects.filter(delivery=delivery).exists()
    # Its registration page just leads back to the commitment.
    assert (
        facilitator.get(reverse("asset-register", args=[commitment.pk, delivery.pk])).status_code
        == 302
    )


def test_others_cannot_register_or_see_the_registration_page():
    world = laptop_world(quantity=2)
    data = two_for_school_three_private(world)
    outsider = signed_in(facilitator_of(OTHER_RW))
    assert outsider.get(register_url(world)).status_code == 404
    assert outsider.post(register_url(world), data).status_code == 404
    other_lead = signed_in(lead_of("pangan"))
    assert other_lead.post(register_url(world), data).status_code == 404
    # The donor sees the commitment, but receipt is not theirs to confirm.
    assert signed_in(world.donor).post(register_url(world), data).status_code == 403
    anonymous = signed_in(UserFactory())
    assert anonymous.get(register_url(world)).status_code == 404
    assert nothing_written(world)
    # The program's lead may.
    lead = signed_in(lead_of("pendidikan"))
    ok = lead.post(register_url(world), rows([("school", world.school, f"L-{n}") for n in "12"]))
    assert ok.status_code == 302


# --- history ---------------------------------------------------------------------------------


def registered(world, tag=None) -> list[Asset]:
    response = signed_in(world.facilitator).post(
        register_url(world), two_for_school_three_private(world, tag)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return list(Asset.objects.filter(delivery=world.delivery).order_by("serial_number"))


def event(client, asset, **data):
    return client.post(reverse("asset-event", args=[asset.pk]), data)


def test_the_facilitator_marks_a_laptop_lost_and_it_shows_in_its_history():
    world = laptop_world()
    laptop = registered(world)[2]
    client = signed_in(world.facilitator)
    response = event(client, laptop, kind="lost", note="Hilang saat banjir")
    assert response.status_code == 302
    laptop.refresh_from_db()
    assert laptop.status == "lost"
    history = list(
        laptop.events.order_by("at", "pk").values_list("kind", "from_status", "to_status")
    )
    assert history == [("registered", "", "in_use"), ("lost", "in_use", "lost")]
    page = client.get(laptop.get_absolute_url()).content.decode()
    assert "Hilang saat banjir" in page
    # The same again is refused; a lost laptop cannot be handed over, but may be found.
    assert event(client, laptop, kind="lost").status_code == 409
    assert (
        event(
            client, laptop, kind="handed_over", owner_kind="school", owner_site=world.school.pk
        ).status_code
        == 409
    )
    assert event(client, laptop, kind="in_use", note="Ditemukan").status_code == 302
    assert laptop.events.count() == 3


def test_a_handover_to_another_allowed_owner():
    world = laptop_world()
    laptop = registered(world)[2]  # a private owner's
    client = signed_in(world.facilitator)
    response = event(
        client,
        laptop,
        kind="handed_over",
        owner_kind="school",
        owner_site=world.school.pk,
        note="Lulus, dikembalikan ke sekolah",
    )
    assert response.status_code == 302
    laptop.refresh_from_db()
    assert (laptop.owner_kind, laptop.owner_site, laptop.owner_name) == (
        "school",
        world.school,
        "",
    )
    assert laptop.status == "handed_over"
    last = laptop.events.order_by("-pk").first()
    assert (last.kind, last.owner_kind, last.owner_site) == ("handed_over", "school", world.school)
    # To an owner the program does not allow, or a private person without a name: refused.
    assert event(client, laptop, kind="handed_over", owner_kind="city").status_code == 400
    assert event(client, laptop, kind="handed_over", owner_kind="private").status_code == 400
    assert laptop.events.count() == 2


def test_only_the_keepers_record_history():
    world = laptop_world()
    laptop = registered(world)[0]
    for user in (facilitator_of(OTHER_RW), lead_of("pangan"), world.donor, UserFactory()):
        client = signed_in(user)
        assert event(client, laptop, kind="broken").status_code == 403
        assert "asset-event-form" not in client.get(laptop.get_absolute_url()).content.decode()
    from django.test import Client

    assert event(Client(), laptop, kind="broken").status_code == 302  # to sign in
    laptop.refresh_from_db()
    assert laptop.status == "in_use" and laptop.events.count() == 1
    for keeper in (lead_of("pendidikan"), UserFactory(is_staff=True), world.facilitator):
        kind = ["broken", "repaired", "in_use"][laptop.events.count() - 1]
        assert event(signed_in(keeper), laptop, kind=kind).status_code == 302
        laptop.refresh_from_db()
        assert laptop.status == kind


def test_nothing_is_deleted():
    world = laptop_world(quantity=5)
    registered(world)
    for name in ("admin:assets_asset_delete", "admin:assets_asset_change"):
        with pytest.raises(NoReverseMatch):
            reverse(name, args=[1])
    admin = signed_in(UserFactory(is_staff=True, is_superuser=True))
    listing = admin.get(reverse("admin:assets_asset_changelist"))
    assert listing.status_code == 200 and "SN-" in listing.content.decode()
    assert admin.get(reverse("admin:assets_assetevent_changelist")).status_code == 200
    with pytest.raises(ProtectedError):
        Delivery.objects.filter(pk=world.delivery.pk).delete()
    with pytest.raises(ProtectedError):
        Asset.objects.filter(delivery=world.delivery).delete()  # its history protects it
    assert Asset.objects.filter(delivery=world.delivery).count() == 5


# --- registers and their export ------------------------------------------------------------


def test_registers_per_area_school_and_program_hide_private_names_from_the_public(client):
    world = laptop_world()
    assets = registered(world)
    event(signed_in(world.facilitator), assets[3], kind="broken")
    kelurahan = world.area.parent
    pages = [
        reverse("asset-register-area", args=[world.area.code]),
        reverse("asset-register-area", args=[kelurahan.code]),  # descendants included
        reverse("asset-register-school", args=[world.school.pk]),
        reverse("asset-register-program", args=["pendidikan"]),
    ]
    for url in pages:
        public = client.get(url).content.decode()
        assert public.count("SN-") >= 5, url
        assert "Siti Rahmawati" not in public and world.school.name in public
        entitled = signed_in(world.facilitator).get(url).content.decode()
        assert "Siti Rahmawati" in entitled
        broken = client.get(url, {"status": "broken"}).content.decode()
        assert assets[3].serial_number in broken and assets[0].serial_number not in broken
    public_asset = client.get(assets[2].get_absolute_url()).content.decode()
    assert "Siti Rahmawati" not in public_asset
    assert (
        client.get(reverse("asset-register-area", args=[OTHER_RW])).content.decode().count("SN-")
        == 0
    )
    assert client.get(reverse("asset-register-area", args=["99.99"])).status_code == 404
    assert client.get(pages[0], {"status": "junk", "page": "-3"}).status_code == 200


def ledger(response) -> list[list]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_xlsx_ledger_reads_back_with_the_ledger_columns(client):
    world = laptop_world()
    registered(world, "xl")
    url = reverse("asset-register-area", args=[world.area.code])
    header, *body = ledger(client.get(url, {"format": "xlsx"}))
    assert [h.split(" / ")[-1] for h in header[1:12]] == [
        "Owner",
        "Owner type",
        "Kind",
        "Serial number",
        "Acquisition date",
        "Value",
        "Source collaborator",
        "Location",
        "Area code",
        "Condition",
        "Status",
    ]
    mine = [row for row in body if str(row[4]).startswith("SN-xl-")]
    assert len(mine) == 5
    assert {row[1] for row in mine} == {world.school.name, "orang pribadi"}  # no names
    assert mine[0][5] == timezone.localdate().isoformat() and mine[0][6] == 4_500_000
    assert mine[0][7] == world.commitment.collaborator.name and mine[0][9] == world.area.code
    entitled = ledger(signed_in(world.facilitator).get(url, {"format": "xlsx"}))
    assert "Siti Rahmawati" in {row[1] for row in entitled}
    filtered = ledger(client.get(url, {"format": "xlsx", "status": "lost"}))
    assert len(filtered) == 1  # the header alone


def test_where_are_the_laptops_now_year_by_year(client):
    world = laptop_world()
    assets = registered(world)
    event(signed_in(world.facilitator), assets[4], kind="lost")
    page = client.get(reverse("asset-program-years", args=["pendidikan"])).content.decode()
    year = str(timezone.localdate().year)
    assert year in page and "sekolah" in page and "orang pribadi" in page
    program_page = client.get(reverse("asset-register-program", args=["pendidikan"]))
    assert reverse("asset-program-years", args=["pendidikan"]) in program_page.content.decode()


def test_the_area_page_links_to_its_register(client):
    page = client.get(reverse("area-detail", args=[RW])).content.decode()
    assert reverse("asset-register-area", args=[RW]) in page


def test_the_programs_carry_the_decks_asset_rules():
    from programs.models import Program

    owners = dict(Program.objects.values_list("slug", "asset_owners"))
    assert owners["pendidikan"] == ["school", "private"]
    assert owners["penataan-pemukiman"] == ["rw", "city"]
    assert owners["pengelolaan-sampah"] == ["rw", "kelurahan", "city"]
    assert owners["pangan"] == []
    gadget = DonationForm.objects.get(program__slug="pendidikan", slug=GADGET)
    sim = DonationForm.objects.get(program__slug="pendidikan", slug="sim-card")
    assert (gadget.creates_assets, gadget.asks_serials) == (True, True)
    assert (sim.creates_assets, sim.asks_serials) == (False, False)
    assert (
        DonationForm.objects.filter(program__slug="penataan-pemukiman", creates_assets=True).count()
        == 4
    )


def test_a_delivery_too_large_for_one_page_says_so():
    world = laptop_world(quantity=5001)
    response = signed_in(world.facilitator).get(register_url(world))
    assert response.status_code == 409
    page = response.content.decode()
    assert "5.000" in page or "5000" in page
    assert "asset-group" not in page
    assert nothing_written(world)


def test_a_register_page_takes_as_many_queries_for_ten_assets_as_for_five():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    world = laptop_world()
    registered(world)
    client = signed_in(world.facilitator)
    url = reverse("asset-register-area", args=[world.area.code])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
            assert client.get(url, {"format": "xlsx"}).status_code == 200
        return len(captured)

    five = queries()
    registered(laptop_world(facilitator=world.facilitator))
    assert queries() == five


def test_the_program_page_links_to_its_register_when_its_forms_create_assets(client):
    def links(slug: str) -> tuple[bool, bool]:
        page = client.get(reverse("program-detail", args=[slug])).content.decode()
        return (
            reverse("asset-register-program", args=[slug]) in page,
            reverse("asset-program-years", args=[slug]) in page,
        )

    assert links("pendidikan") == (True, True)  # laptops, followed year by year
    assert links("penataan-pemukiman") == (True, False)  # benches and the like: counted
    assert links("pangan") == (False, False)  # food creates no assets

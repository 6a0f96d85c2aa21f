"""The donated-asset register's test world (tests/test_assets*.py): a laptop delivery waiting
for its receipt, and the registration page's form data."""

import types
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from commitments.assets.models import Asset, AssetEvent
from commitments.lifecycle.transitions import delivery_record
from locations.models import Area, Site
from programs.models import DonationForm

from .factories import CollaboratorFactory, NeedFactory, commitment_in, facilitator_of, member_of
from .world import PROOF

RW = "31.73.04.1002.001"
OTHER_RW = "31.73.04.1002.002"
GADGET = "student-gadget-pc-laptop-handphone"


@pytest.fixture
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return tmp_path


def laptop_world(quantity: int = 5, area_code: str = RW, facilitator=None):
    """A committed laptop commitment for an RW with a school, its delivery of `quantity`
    recorded by the donor, and the RW's facilitator."""
    area = Area.objects.get(code=area_code)
    gadget = DonationForm.objects.get(program__slug="pendidikan", slug=GADGET)
    school = Site.objects.create(
        area=area, kind="school", name=f"SD Swasta {uuid.uuid4().hex[:4]}", lon=106.8, lat=-6.1
    )
    need = NeedFactory(
        area=area,
        site=school,
        donation_form=gadget,
        program=gadget.program,
        quantity_needed=quantity + 5,
        unit_value_idr=4_500_000,
    )
    collaborator = CollaboratorFactory(name=f"PT Laptop {uuid.uuid4().hex[:4]}")
    donor = member_of(collaborator)
    commitment = commitment_in("committed", need=need, collaborator=collaborator, quantity=quantity)
    commitment.site = school  # given to the school's pupils and teachers
    commitment.save(update_fields=["site"])
    delivery = delivery_record(
        commitment_id=commitment.pk,
        actor=donor,
        quantity=quantity,
        delivered_on=timezone.localdate(),
        recipients_households=None,
        recipients_persons=quantity,
        proofs=[PROOF],
    )
    return types.SimpleNamespace(
        area=area,
        school=school,
        form=gadget,
        commitment=commitment,
        delivery=delivery,
        donor=donor,
        facilitator=facilitator or facilitator_of(area_code),
    )


def groups(*specs: dict) -> dict:
    """Form data for the registration page: one dict a group (owner_kind, owner_site, lines,
    count, condition)."""
    data = {"groups": str(len(specs))}
    for number, spec in enumerate(specs, start=1):
        prefix = f"g{number}-"
        data[prefix + "owner_kind"] = spec.get("owner_kind", "school")
        site = spec.get("owner_site")
        data[prefix + "owner_site"] = getattr(site, "pk", site) or ""
        data[prefix + "lines"] = "\n".join(spec.get("lines", []))
        if "count" in spec:
            data[prefix + "count"] = spec["count"]
        data[prefix + "condition"] = spec.get("condition", "new")
    return data


def rows(owners) -> dict:
    """Form data for the registration page from (owner kind, school or name, serial) per
    asset: consecutive assets of the same owner kind and school make one group."""
    specs: list[dict] = []
    for kind, who, serial in owners:
        site = who if kind == "school" else None
        line = f"{serial}; {who}" if kind == "private" and who else serial
        if specs and (specs[-1]["owner_kind"], specs[-1]["owner_site"]) == (kind, site):
            specs[-1]["lines"].append(line)
        else:
            specs.append({"owner_kind": kind, "owner_site": site, "lines": [line]})
    return groups(*specs)


def register_url(world) -> str:
    return reverse("asset-register", args=[world.commitment.pk, world.delivery.pk])


def nothing_written(world) -> bool:
    world.delivery.refresh_from_db()
    return (
        world.delivery.confirmed_at is None
        and not Asset.objects.filter(delivery=world.delivery).exists()
        and not AssetEvent.objects.filter(asset__delivery=world.delivery).exists()
    )

"""The world the feedback tests build: a delivery in an RW of the Pangan program, the people
around it (every role of the permission matrix), two reports about it (one ordinary, one
about the area's facilitator), and how a recipient sends a report through the form."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.core import signing
from django.utils import timezone

from collaborators.models import Membership
from commitments.feedback.models import Report
from commitments.feedback.reports import report_submit
from commitments.models import Delivery
from commitments.web.feedback_forms import _SIGNER_SALT
from locations.models import Area

from .factories import (
    NeedFactory,
    UserFactory,
    collaborator_and_member,
    commitment_in,
    facilitator_of,
    lead_of,
)

RW_CODE = "31.73.04.1002.001"
KELURAHAN_CODE = "31.73.04.1002"
OTHER_RW_CODE = "31.71.01.1001.001"
ROLES = (
    "anonymous",
    "member",
    "facilitator",
    "subject",
    "other_facilitator",
    "lead",
    "other_lead",
    "admin",
)


@dataclass
class FeedbackWorld:
    area: Area
    delivery: Delivery
    users: dict[str, object] = field(default_factory=dict)
    ordinary: Report | None = None
    about: Report | None = None


def feedback_world(*, reports: bool = True) -> FeedbackWorld:
    area = Area.objects.get(code=RW_CODE)
    need = NeedFactory(area=area, quantity_needed=50)
    collaborator, owner = collaborator_and_member()
    member = UserFactory()
    Membership.objects.create(user=member, collaborator=collaborator, role=Membership.Role.MEMBER)
    commitment = commitment_in("delivered", need=need, collaborator=collaborator, quantity=10)
    delivery = Delivery.objects.create(
        commitment=commitment,
        quantity=10,
        delivered_on=timezone.localdate(),
        recorded_by=owner,
    )
    world = FeedbackWorld(area=area, delivery=delivery)
    world.users = {
        "anonymous": None,
        "member": member,
        "facilitator": facilitator_of(KELURAHAN_CODE, "Lurah"),
        "subject": facilitator_of(RW_CODE, "Ketua RW 01"),
        "other_facilitator": facilitator_of(OTHER_RW_CODE),
        "lead": lead_of(need.program.slug),
        "other_lead": lead_of("umkm" if need.program.slug != "umkm" else "pangan"),
        "admin": UserFactory(is_staff=True, is_superuser=True),
    }
    if reports:
        world.ordinary = submit(delivery, category=Report.Category.LESS)
        world.about = submit(
            delivery, category=Report.Category.ASKED_TO_PAY, about_facilitator=True
        )
    return world


def submit(delivery: Delivery, *, photo=None, **fields) -> Report:
    """A report about `delivery` (with `photo`, a checked upload, if given)."""
    commitment = delivery.commitment
    values = {
        "category": Report.Category.NOT_RECEIVED,
        "text": "Paket yang sampai hanya 6, bukan 10.",
        "area": commitment.area,
        "site": commitment.site,
        "delivery": delivery,
        "program": commitment.program,
        "collaborator": commitment.collaborator,
        "contact_phone": "+6281234567890",
        "contact_email": "warga@example.org",
        **fields,
    }
    return report_submit(fields=values, photo=photo)


def make_overdue(report: Report) -> None:
    """As if `report` had been sent long enough ago to be an hour past its due time."""
    due = timezone.now() - timedelta(hours=1)
    Report.objects.filter(pk=report.pk).update(created_at=due - timedelta(days=7), due_at=due)


def shown_seconds_ago(seconds: float) -> str:
    """The form's signed "shown at" token, as if the form had been shown `seconds` ago."""
    signer = signing.TimestampSigner(salt=_SIGNER_SALT)
    signer.timestamp = lambda: signing.b62_encode(int(time.time() - seconds))
    return signer.sign("1")


def form_data(world: FeedbackWorld, **overrides) -> dict:
    """What a person fills in the public form for the world's delivery."""
    return {
        "category": Report.Category.LESS,
        "text": "Yang sampai 6 paket, tertulis 10.",
        "area": world.area.code,
        "delivery": world.delivery.pk,
        "contact_phone": "0812 3456 7890",
        "contact_email": "",
        "website": "",
        "shown": shown_seconds_ago(60),
        **overrides,
    }

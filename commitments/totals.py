"""The figures other apps display, rebuilt from commitments: the live totals on program,
donation form and collaborator pages, and the claimed / delivered counters of needs.
Each function recomputes from scratch, so running it twice or concurrently does no harm.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from collaborators.models import Collaborator
from locations.models import Area, Need
from programs.models import DonationForm, Program

from .models import ACTIVE_STATUSES, CONFIRMED_STATUSES, Commitment, Delivery


def needs_recount(*, need_ids: Iterable[int] | None = None) -> int:
    """Recompute quantity_claimed / quantity_delivered of needs from their commitments.

    Idempotent repair: the pledge path keeps these counters with conditional UPDATEs; this
    rebuilds them from scratch. Runs in its own transaction; concurrent pledges on the same
    needs should not run at the same time (use it from maintenance tasks and loaders).
    Returns the number of needs whose counters changed.
    """
    needs = Need.objects.all()
    if need_ids is not None:
        needs = needs.filter(pk__in=list(need_ids))
    claimed = dict(
        Commitment.objects.filter(need__in=needs, status__in=ACTIVE_STATUSES)
        .values("need")
        .annotate(total=Sum("quantity"))
        .values_list("need", "total")
    )
    delivered = dict(
        Delivery.objects.filter(
            commitment__need__in=needs,
            commitment__status__in=ACTIVE_STATUSES,
            confirmed_at__isnull=False,
        )
        .values("commitment__need")
        .annotate(total=Sum("quantity"))
        .values_list("commitment__need", "total")
    )
    changed = []
    with transaction.atomic():
        for need in needs.select_for_update().only("pk", "quantity_claimed", "quantity_delivered"):
            new = (claimed.get(need.pk, 0), delivered.get(need.pk, 0))
            if (need.quantity_claimed, need.quantity_delivered) != new:
                need.quantity_claimed, need.quantity_delivered = new
                changed.append(need)
        Need.objects.bulk_update(
            changed, ["quantity_claimed", "quantity_delivered"], batch_size=500
        )
    return len(changed)


def totals_refresh() -> None:
    """Recompute the live figures shown on program, donation form and collaborator pages:
    confirmed commitments (committed, delivered, completed) and confirmed deliveries.

    From scratch and idempotent, so running it twice or concurrently does no harm; the
    last writer wins with a complete, consistent set of numbers.
    """
    now = timezone.now()
    counted = Commitment.objects.filter(status__in=CONFIRMED_STATUSES)
    by_program = {
        row["program"]: row
        for row in counted.values("program").annotate(
            collaborators=Count("collaborator", distinct=True),
            commitments=Count("pk"),
            value=Sum("value_idr"),
            rw=Count("area", filter=Q(area__level=Area.Level.RW), distinct=True),
        )
    }
    beneficiaries = {
        row["commitment__program"]: row
        for row in Delivery.objects.filter(
            commitment__status__in=CONFIRMED_STATUSES, confirmed_at__isnull=False
        )
        .values("commitment__program")
        .annotate(households=Sum("recipients_households"), persons=Sum("recipients_persons"))
    }
    with transaction.atomic():
        programs = list(Program.objects.all())
        for program in programs:
            row = by_program.get(program.pk, {})
            reached = beneficiaries.get(program.pk, {})
            program.live_collaborators = row.get("collaborators", 0)
            program.live_commitments = row.get("commitments", 0)
            program.live_value_idr = row.get("value") or Decimal(0)
            program.live_rw_covered = row.get("rw", 0)
            program.live_households = reached.get("households") or 0
            program.live_persons = reached.get("persons") or 0
            program.live_updated_at = now
        Program.objects.bulk_update(
            programs,
            [
                "live_collaborators",
                "live_commitments",
                "live_value_idr",
                "live_rw_covered",
                "live_households",
                "live_persons",
                "live_updated_at",
            ],
        )

        by_form = {
            row["donation_form"]: row
            for row in counted.values("donation_form").annotate(
                commitments=Count("pk"), quantity=Sum("quantity"), value=Sum("value_idr")
            )
        }
        forms = list(DonationForm.objects.all())
        for form in forms:
            row = by_form.get(form.pk, {})
            form.live_commitments = row.get("commitments", 0)
            form.live_quantity = row.get("quantity") or 0
            form.live_value_idr = row.get("value") or Decimal(0)
        DonationForm.objects.bulk_update(
            forms, ["live_commitments", "live_quantity", "live_value_idr"]
        )

        by_collaborator = {
            row["collaborator"]: row
            for row in counted.values("collaborator").annotate(
                commitments=Count("pk"), value=Sum("value_idr")
            )
        }
        collaborators = list(Collaborator.objects.all())
        for collaborator in collaborators:
            row = by_collaborator.get(collaborator.pk, {})
            collaborator.live_commitments = row.get("commitments", 0)
            collaborator.live_value_idr = row.get("value") or Decimal(0)
        Collaborator.objects.bulk_update(collaborators, ["live_commitments", "live_value_idr"])

        program_links = set(counted.values_list("collaborator", "program").distinct())
        Through = Collaborator.programs.through
        current = set(Through.objects.values_list("collaborator_id", "program_id"))
        stale = current - program_links
        if stale:
            Through.objects.filter(
                Q(*[Q(collaborator_id=c, program_id=p) for c, p in stale], _connector=Q.OR)
            ).delete()
        Through.objects.bulk_create(
            [Through(collaborator_id=c, program_id=p) for c, p in program_links - current]
        )

import io

import pytest
from django.core.management import CommandError, call_command

from collaborators.models import Collaborator
from commitments.models import Commitment, CommitmentEvent, Status
from locations.models import Need
from programs.models import DonationForm, Program

from .factories import CollaboratorFactory

pytestmark = pytest.mark.django_db


def test_six_programs_with_their_forms_and_reported_baseline():
    programs = {p.slug: p for p in Program.objects.all()}
    assert list(programs) == [
        "pangan",
        "umkm",
        "pendidikan",
        "penataan-pemukiman",
        "pengelolaan-sampah",
        "tenaga-kerja",
    ]
    pangan = programs["pangan"]
    assert pangan.lead_agency == "KSD Bureau & Social Services Division"
    assert pangan.launched_on.isoformat() == "2020-04-01"
    assert pangan.reported_collaborators == 144
    assert pangan.reported_value_idr == 100_000_000_000
    pause = pangan.pauses.get()
    assert (pause.starts_on.isoformat(), pause.ends_on.isoformat()) == ("2021-01-01", "2021-03-31")
    groceries = DonationForm.objects.get(program=pangan, slug="groceries")
    assert (groceries.name_id, groceries.unit, groceries.reported_commitments) == (
        "Sembako",
        "package",
        460_000,
    )
    assert programs["tenaga-kerja"].launch_is_target
    assert DonationForm.objects.count() == 20


def test_seed_demo_fills_every_state_and_runs_once():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo data:" in out.getvalue()
    statuses = set(Commitment.objects.values_list("status", flat=True))
    assert statuses == {s.value for s in Status}
    assert Need.objects.filter(is_demo=True).values("area").distinct().count() >= 600
    assert not Need.objects.filter(is_demo=False).exists()
    assert Collaborator.objects.filter(is_demo=True).count() >= 20
    # Every commitment's history ends in its status; counters match the commitments.
    for commitment in Commitment.objects.all()[:50]:
        assert commitment.events.last().to_status == commitment.status
    for need in Need.objects.filter(commitments__isnull=False).distinct()[:50]:
        active = sum(
            c.quantity
            for c in need.commitments.all()
            if c.status in ("pledged", "committed", "delivered", "completed")
        )
        assert need.quantity_claimed == active
    pangan = Program.objects.get(slug="pangan")
    assert pangan.live_commitments > 0 and pangan.live_value_idr > 0
    count = CommitmentEvent.objects.count()

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "already present" in out.getvalue()
    assert CommitmentEvent.objects.count() == count


def test_seed_demo_refuses_a_database_with_real_data():
    CollaboratorFactory(name="Real Foundation")
    with pytest.raises(CommandError, match="non-demo data \\(1 collaborators\\).*--force"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not Need.objects.exists()
    call_command("seed_demo", "--force", stdout=io.StringIO())
    assert Need.objects.filter(is_demo=True).exists()

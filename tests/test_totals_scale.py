"""Figures read the summaries, and no page or status change does work that grows with the
commitments of the whole database: each page and a confirm issue the same queries with N
and with 3N commitments; the figures on the pages equal a direct count after pledges and
transitions made through the real services, and say when they were computed."""

import datetime
import itertools
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Q, Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from collaborators.models import Collaborator, CollaboratorContact
from commitments.figures.summaries import summaries_rebuild
from commitments.figures.totals import (
    collaborator_totals_refresh,
    program_totals_from_summaries,
    totals_refresh,
)
from commitments.lifecycle.transitions import (
    commitment_transition,
    delivery_confirm,
    delivery_record,
)
from commitments.lifecycle.uploads import CleanUpload
from commitments.models import CONFIRMED_STATUSES, Commitment, Delivery, Status
from locations.models import Area
from programs.models import DonationForm, Program

from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    facilitator_of,
    lead_of,
    member_of,
)
from .world import pledge_directly

pytestmark = pytest.mark.django_db

RW = "31.73.04.1002.001"
KELURAHAN = "31.73.04.1002"
KOTA = "31.73"
N = 150
STATUSES = ["pledged", "committed", "delivered", "completed", "cancelled", "expired"]
_serial = itertools.count()
PROOF = CleanUpload(
    name="bukti.pdf", content=b"%PDF-1.4\n%%EOF\n", content_type="application/pdf", kind="document"
)


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


class Scale:
    """Collaborators, the people who look at them, and a way to add commitments in bulk
    (spread over RW in and out of the test kelurahan, every donation form and status),
    with summaries and totals rebuilt as the periodic jobs would."""

    def __init__(self):
        self.collaborators = [CollaboratorFactory() for _ in range(8)]
        self.collaborators += [CollaboratorFactory(verification_status="unverified")]
        for collaborator in self.collaborators:
            CollaboratorContact.objects.create(collaborator=collaborator, email="x@example.org")
        self.member = member_of(self.collaborators[0])
        self.lead = lead_of("pangan")
        self.facilitator = facilitator_of(KELURAHAN, title="Lurah")
        self.admin = UserFactory(is_staff=True)
        nearby = list(
            Area.objects.filter(level=Area.Level.RW, parent__code=KELURAHAN)
            .exclude(code=RW)
            .order_by("code")
        )
        elsewhere = list(
            Area.objects.filter(level=Area.Level.RW, path__startswith=KOTA + "/")
            .exclude(parent__code=KELURAHAN)
            .order_by("code")[:20]
        )
        other_kota = list(
            Area.objects.filter(level=Area.Level.RW).exclude(path__startswith=KOTA + "/")[:20]
        )
        # The test RW itself stays empty: "an area with none" must not pay for the others.
        self.areas = nearby + elsewhere + other_kota
        self.forms = list(DonationForm.objects.select_related("program").order_by("pk"))

    def add(self, count: int) -> None:
        now = timezone.now()
        made = []
        for i in range(count):
            n = next(_serial)
            form = self.forms[n % len(self.forms)]
            made.append(
                Commitment(
                    collaborator=self.collaborators[n % len(self.collaborators)],
                    area=self.areas[(n * 7) % len(self.areas)],
                    program=form.program,
                    donation_form=form,
                    quantity=1 + n % 5,
                    value_idr=Decimal(100_000 * (1 + n % 3)),
                    status=STATUSES[n % len(STATUSES)],
                    channel="offline" if n % 10 == 0 else "platform",
                    idempotency_key=uuid.uuid4().hex,
                    created_at=now - datetime.timedelta(days=n % 400, minutes=i),
                )
            )
        Commitment.objects.bulk_create(made)
        Delivery.objects.bulk_create(
            Delivery(
                commitment=c,
                quantity=1,
                delivered_on=timezone.localdate(),
                recipients_households=2,
                recipients_persons=7,
                recorded_at=now,
                confirmed_at=now if c.pk % 2 else None,
            )
            for c in made
            if c.status in ("delivered", "completed")
        )
        summaries_rebuild()
        totals_refresh()


@pytest.fixture
def scale():
    return Scale()


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


PAGES = [
    ("anonymous", lambda s: "/"),
    ("anonymous", lambda s: reverse("program-detail", args=["pangan"])),
    ("anonymous", lambda s: reverse("area-detail", args=[RW])),
    ("anonymous", lambda s: reverse("area-detail", args=[KELURAHAN])),
    ("anonymous", lambda s: reverse("area-detail", args=[KOTA])),
    ("anonymous", lambda s: reverse("area-panel", args=[RW])),
    ("anonymous", lambda s: reverse("area-panel", args=[KELURAHAN])),
    ("anonymous", lambda s: reverse("collaborator-gallery")),
    ("anonymous", lambda s: reverse("collaborator-detail", args=[s.collaborators[0].slug])),
    ("member", lambda s: reverse("workspace")),
    ("member", lambda s: reverse("my-commitments")),
    ("facilitator", lambda s: reverse("workspace")),
    ("facilitator", lambda s: reverse("facilitator-inbox")),
    ("lead", lambda s: reverse("facilitator-inbox")),
    ("lead", lambda s: reverse("verification-queue")),
    ("admin", lambda s: reverse("verification-queue")),
]


@pytest.mark.parametrize(("who", "url"), PAGES, ids=[f"{w}-{i}" for i, (w, _) in enumerate(PAGES)])
def test_pages_keep_their_query_count_as_commitments_triple(client, scale, who, url):
    if who != "anonymous":
        client.force_login(getattr(scale, who))
    scale.add(N)
    path = url(scale)
    client.get(path)  # warm per-process caches (translations, content types)
    with_n = _queries(client, path)
    scale.add(2 * N)
    assert _queries(client, path) == with_n


def test_a_confirm_issues_the_same_queries_with_3n_commitments(
    client, scale, django_capture_on_commit_callbacks
):
    """The confirm, its summary job and the totals that follow it (eager Celery, as under
    `make run`) do not read all commitments: the same statements with N and 3N."""
    client.force_login(scale.lead)
    need = NeedFactory(quantity_needed=1000)
    counts = []
    for extra in (N, 2 * N):
        scale.add(extra)
        pledger = CollaboratorFactory()  # a new one each time: the same link to add
        commitment = Commitment.objects.create(
            collaborator=pledger,
            need=need,
            area=need.area,
            program=need.program,
            donation_form=need.donation_form,
            quantity=1,
            value_idr=300_000,
            idempotency_key=uuid.uuid4().hex,
        )
        url = reverse("commitment-status", args=[commitment.pk])
        with (
            CaptureQueriesContext(connection) as captured,
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = client.post(url, {"target": "committed", "reason": "ok"})
        assert response.status_code == 302
        commitment.refresh_from_db()
        assert commitment.status == Status.COMMITTED
        pledger.refresh_from_db()
        assert pledger.live_commitments == 1
        assert list(pledger.programs.values_list("slug", flat=True)) == ["pangan"]
        counts.append(len(captured))
    assert counts[0] == counts[1]


def _direct(program: Program) -> dict:
    confirmed = Commitment.objects.filter(program=program, status__in=CONFIRMED_STATUSES)
    figures = confirmed.aggregate(n=Count("pk"), value=Sum("value_idr"))
    reached = Delivery.objects.filter(
        commitment__in=confirmed, confirmed_at__isnull=False
    ).aggregate(households=Sum("recipients_households"), persons=Sum("recipients_persons"))
    return {
        "live_commitments": figures["n"],
        "live_value_idr": figures["value"] or 0,
        "live_collaborators": confirmed.values("collaborator").distinct().count(),
        "live_rw_covered": confirmed.filter(area__level=Area.Level.RW)
        .values("area")
        .distinct()
        .count(),
        "live_households": reached["households"] or 0,
        "live_persons": reached["persons"] or 0,
    }


def _stored(program: Program) -> dict:
    program.refresh_from_db()
    return {name: getattr(program, name) for name in _direct(program)}


def test_figures_equal_a_direct_count_after_pledges_and_transitions(
    client, scale, django_capture_on_commit_callbacks
):
    scale.add(N)
    pangan = Program.objects.get(slug="pangan")
    assert _stored(pangan) == _direct(pangan)
    need = NeedFactory(quantity_needed=100)
    giver = scale.collaborators[1]
    actor = member_of(giver)
    made = []
    with django_capture_on_commit_callbacks(execute=True):
        for quantity in (3, 4, 5):
            made.append(pledge_directly(need, giver, actor, quantity).commitment)
    with django_capture_on_commit_callbacks(execute=True):
        for commitment in made:
            commitment_transition(
                commitment_id=commitment.pk, target="committed", actor=scale.lead, reason=""
            )
    with django_capture_on_commit_callbacks(execute=True):
        commitment_transition(
            commitment_id=made[0].pk, target="cancelled", actor=actor, reason="no"
        )
    with django_capture_on_commit_callbacks(execute=True):
        delivery = delivery_record(
            commitment_id=made[1].pk,
            actor=actor,
            quantity=4,
            delivered_on=timezone.localdate(),
            recipients_households=3,
            recipients_persons=11,
            proofs=[PROOF],
        )
    with django_capture_on_commit_callbacks(execute=True):
        delivery_confirm(delivery_id=delivery.pk, actor=scale.admin)
    assert Commitment.objects.get(pk=made[1].pk).status == Status.COMPLETED
    assert _stored(pangan) == _direct(pangan)
    giver.refresh_from_db()
    confirmed = Commitment.objects.filter(collaborator=giver, status__in=CONFIRMED_STATUSES)
    assert giver.live_commitments == confirmed.count()
    assert giver.live_value_idr == (confirmed.aggregate(v=Sum("value_idr"))["v"] or 0)

    html = client.get(reverse("program-detail", args=["pangan"])).content.decode()
    assert "Figures computed at" in html or "Angka dihitung pada" in html
    rw_area = Area.objects.get(code=RW)
    direct = Commitment.objects.filter(area=rw_area, status__in=CONFIRMED_STATUSES).count()
    assert direct == 2
    panel = client.get(reverse("area-panel", args=[RW])).content.decode()
    assert "Figures computed at" in panel or "Angka dihitung pada" in panel
    for path in ("/", reverse("collaborator-gallery"), reverse("area-detail", args=[KOTA])):
        page = client.get(path).content.decode()
        assert "Figures computed at" in page or "Angka dihitung pada" in page, path


def test_area_figures_roll_up_by_level(scale):
    from commitments.figures.totals import area_figures

    scale.add(N)
    for code in (RW, KELURAHAN, KOTA, "31.73.04"):
        area = Area.objects.get(code=code)
        here = Commitment.objects.filter(
            Q(area=area) | Q(area__path__startswith=area.path + "/"),
            status__in=CONFIRMED_STATUSES,
        )
        figures = area_figures(area=area)
        assert figures["commitments"] == here.count(), code
        assert figures["value"] == (here.aggregate(v=Sum("value_idr"))["v"] or 0), code
        reached = Delivery.objects.filter(commitment__in=here, confirmed_at__isnull=False)
        assert figures["households"] == (
            reached.aggregate(h=Sum("recipients_households"))["h"] or 0
        ), code


def test_recent_commitments_of_an_area_are_its_own_newest(client, scale):
    scale.add(N)
    kelurahan = Area.objects.get(code=KELURAHAN)
    newest = list(
        Commitment.objects.filter(area__parent=kelurahan)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)[:20]
    )
    response = client.get(reverse("area-detail", args=[KELURAHAN]))
    assert [c.pk for c in response.context["commitments"]] == newest
    assert list(client.get(reverse("area-panel", args=[RW])).context["commitments"]) == []


def test_collaborator_totals_refresh_drops_links_when_nothing_is_confirmed(scale):
    giver = CollaboratorFactory()
    need = NeedFactory()
    commitment = Commitment.objects.create(
        collaborator=giver,
        need=need,
        area=need.area,
        program=need.program,
        donation_form=need.donation_form,
        quantity=2,
        value_idr=600_000,
        status="committed",
        idempotency_key=uuid.uuid4().hex,
    )
    collaborator_totals_refresh(collaborator_ids=[giver.pk])
    collaborator_totals_refresh(collaborator_ids=[giver.pk])  # twice: no harm
    giver.refresh_from_db()
    assert (giver.live_commitments, giver.live_value_idr) == (1, 600_000)
    assert list(giver.programs.all()) == [need.program]
    Commitment.objects.filter(pk=commitment.pk).update(status="cancelled")
    collaborator_totals_refresh(collaborator_ids=[giver.pk])
    giver.refresh_from_db()
    assert (giver.live_commitments, giver.live_value_idr, giver.programs.count()) == (0, 0, 0)


def test_full_repair_and_summaries_agree(scale):
    scale.add(N)
    Collaborator.objects.update(live_commitments=0, live_value_idr=0)
    Collaborator.programs.through.objects.all().delete()
    Program.objects.update(live_commitments=0, live_collaborators=0)
    totals_refresh()
    for program in Program.objects.all():
        assert _stored(program) == _direct(program), program.slug
    for form in DonationForm.objects.all():
        confirmed = Commitment.objects.filter(donation_form=form, status__in=CONFIRMED_STATUSES)
        assert form.live_commitments == confirmed.count()
        assert form.live_quantity == (confirmed.aggregate(q=Sum("quantity"))["q"] or 0)
    for collaborator in Collaborator.objects.all():
        confirmed = Commitment.objects.filter(
            collaborator=collaborator, status__in=CONFIRMED_STATUSES
        )
        assert collaborator.live_commitments == confirmed.count()
        assert set(collaborator.programs.values_list("pk", flat=True)) == set(
            confirmed.values_list("program", flat=True)
        )
    before = Program.objects.get(slug="pangan").live_updated_at
    program_totals_from_summaries()
    assert Program.objects.get(slug="pangan").live_updated_at >= before

"""Nobody left without news: each week every collaborator's members get one digest of their
commitments' state, the quiet ones (no news for the program's N days) first; the
collaborator's own list flags them too."""

import datetime
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from collaborators.models import Membership
from commitments.models import CollaboratorDigest, Commitment, Notification
from commitments.notify.digest import digests_send
from commitments.tasks import send_weekly_digests
from commitments.workflow import waiting_on
from programs.models import DonationForm, Program

from .factories import CollaboratorFactory, NeedFactory, UserFactory, commitment_in, member_of

# A Monday morning in Jakarta, when the beat job runs.
MONDAY = datetime.datetime(
    2026, 11, 23, 7, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=7))
)


def need_in(slug: str):
    return NeedFactory(donation_form=DonationForm.objects.filter(program__slug=slug).first())


def made(
    status: str, *, collaborator, slug="pangan", news_days_ago=0, now=MONDAY, **fields
) -> Commitment:
    """A commitment in `status` whose last event (and status change) was `news_days_ago`
    days before `now`."""
    commitment = commitment_in(
        status, need=need_in(slug), collaborator=collaborator, quantity=fields.pop("quantity", 5)
    )
    at = now - datetime.timedelta(days=news_days_ago, hours=1)
    Commitment.objects.filter(pk=commitment.pk).update(
        last_event_at=at, status_changed_at=at, **fields
    )
    commitment.refresh_from_db()
    return commitment


def listed_ids(body: str) -> list[int]:
    """The commitment numbers a digest lists, in order."""
    return [int(n) for n in re.findall(r"^- (?:\[[^\]]*\] )?#(\d+) ", body, re.MULTILINE)]


def line_of(body: str, commitment) -> str:
    return next(
        line for line in body.splitlines() if re.match(rf"^- (\[[^\]]*\] )?#{commitment.pk} ", line)
    )


def no_news(days: int) -> str:
    with translation.override("id"):
        return ngettext("no news for %(days)s day", "no news for %(days)s days", days) % {
            "days": days
        }


def waits_on(commitment) -> str:
    with translation.override("id"):
        return waiting_on(commitment)


@pytest.fixture
def programs_n(db):
    """Food asks for news every 14 days, waste management every 30."""
    Program.objects.filter(slug="pangan").update(no_news_days=14)
    Program.objects.filter(slug="pengelolaan-sampah").update(no_news_days=30)


@pytest.fixture
def donor_team(db):
    """A collaborator with its owner, a colleague, and someone asking to join."""
    collaborator = CollaboratorFactory(name="PT Sampah Bersih")
    owner = member_of(collaborator)
    colleague = UserFactory()
    Membership.objects.create(user=colleague, collaborator=collaborator, role="member")
    asking = UserFactory()
    Membership.objects.create(user=asking, collaborator=collaborator, role="pending")
    return {"collaborator": collaborator, "owner": owner, "colleague": colleague, "asking": asking}


def send(now=MONDAY, capture=None) -> int:
    with capture(execute=True):
        return digests_send(now=now)


@pytest.mark.django_db
def test_each_member_gets_one_digest_quiet_commitments_first(
    donor_team, programs_n, django_capture_on_commit_callbacks
):
    c = donor_team["collaborator"]
    fresh = made("delivered", collaborator=c, news_days_ago=2, quantity_delivered=2)
    quiet_food = made("pledged", collaborator=c, news_days_ago=20)
    waste_20 = made("committed", collaborator=c, slug="pengelolaan-sampah", news_days_ago=20)
    quiet_waste = made("committed", collaborator=c, slug="pengelolaan-sampah", news_days_ago=40)
    done_lately = made("completed", collaborator=c, news_days_ago=3)
    done_long_ago = made("completed", collaborator=c, news_days_ago=30)
    cancelled_long_ago = made("cancelled", collaborator=c, news_days_ago=10)
    other = CollaboratorFactory()
    member_of(other)
    theirs = made("committed", collaborator=other, news_days_ago=50)

    assert send(capture=django_capture_on_commit_callbacks) == 2  # ours and the other's

    ours = Notification.objects.filter(user__in=[donor_team["owner"], donor_team["colleague"]])
    assert ours.count() == 2
    assert not Notification.objects.filter(user=donor_team["asking"]).exists()
    body = ours.first().body
    assert {n.body for n in ours} == {body}
    # Quiet ones first (the longest silent first), then the rest by age of their news.
    assert listed_ids(body) == [
        quiet_waste.pk,
        quiet_food.pk,
        waste_20.pk,
        done_lately.pk,
        fresh.pk,
    ]
    assert theirs.pk not in listed_ids(body)
    assert done_long_ago.pk not in listed_ids(body) and cancelled_long_ago.pk not in listed_ids(
        body
    )
    assert no_news(40) in line_of(body, quiet_waste).lower()
    assert no_news(20) in line_of(body, quiet_food).lower()
    assert no_news(20) not in line_of(body, waste_20).lower()  # its program waits 30 days
    assert waits_on(quiet_food) in line_of(body, quiet_food)
    assert waits_on(waste_20) in line_of(body, waste_20)
    assert waits_on(fresh) in line_of(body, fresh)  # delivered, with some left to deliver
    assert quiet_food.donation_form.name_id in line_of(body, quiet_food)
    assert quiet_food.area.display_name in line_of(body, quiet_food)
    assert "5 paket" in line_of(body, quiet_food)
    assert "PT Sampah Bersih" in body

    sent_to = sorted(m.to[0] for m in mail.outbox)
    assert sent_to == sorted(
        [donor_team["owner"].email, donor_team["colleague"].email, other.members.get().email]
    )
    digest = CollaboratorDigest.objects.get(collaborator=c)
    assert (digest.week, digest.commitments) == (datetime.date(2026, 11, 23), 5)


@pytest.mark.django_db
def test_once_a_week_then_again_the_next_week(donor_team, django_capture_on_commit_callbacks):
    made("committed", collaborator=donor_team["collaborator"], news_days_ago=1)
    assert send(capture=django_capture_on_commit_callbacks) == 1
    assert len(mail.outbox) == 2

    for later in (datetime.timedelta(hours=1), datetime.timedelta(days=6, hours=16)):
        assert send(MONDAY + later, capture=django_capture_on_commit_callbacks) == 0
    assert Notification.objects.count() == 2 and len(mail.outbox) == 2

    assert (
        send(MONDAY + datetime.timedelta(days=7), capture=django_capture_on_commit_callbacks) == 1
    )
    assert Notification.objects.count() == 4 and len(mail.outbox) == 4
    assert CollaboratorDigest.objects.filter(collaborator=donor_team["collaborator"]).count() == 2


@pytest.mark.django_db
def test_nobody_hears_when_there_is_nothing_to_say_or_nobody_to_tell(
    donor_team, django_capture_on_commit_callbacks
):
    made("completed", collaborator=donor_team["collaborator"], news_days_ago=8)
    made("expired", collaborator=donor_team["collaborator"], news_days_ago=20)
    only_asking = CollaboratorFactory()
    Membership.objects.create(user=UserFactory(), collaborator=only_asking, role="pending")
    made("committed", collaborator=only_asking, news_days_ago=30)
    nobody = CollaboratorFactory()  # recorded offline, no one uses the portal
    made("pledged", collaborator=nobody, news_days_ago=30)

    assert send(capture=django_capture_on_commit_callbacks) == 0
    assert not Notification.objects.exists() and mail.outbox == []
    assert not CollaboratorDigest.objects.exists()


@pytest.mark.django_db
def test_a_long_list_is_cut_and_counted(donor_team, django_capture_on_commit_callbacks):
    from commitments.notify.digest import LINES_PER_DIGEST

    for days in range(LINES_PER_DIGEST + 3):
        made("committed", collaborator=donor_team["collaborator"], news_days_ago=days)
    send(capture=django_capture_on_commit_callbacks)
    body = Notification.objects.filter(user=donor_team["owner"]).get().body
    assert len(listed_ids(body)) == LINES_PER_DIGEST
    assert "3" in body.splitlines()[-1]
    assert CollaboratorDigest.objects.get().commitments == LINES_PER_DIGEST + 3


@pytest.mark.django_db
def test_the_weekly_task_emails_through_the_outbox(donor_team, django_capture_on_commit_callbacks):
    made("pledged", collaborator=donor_team["collaborator"], news_days_ago=20)
    with django_capture_on_commit_callbacks(execute=True):
        send_weekly_digests.delay()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [donor_team["owner"].email, donor_team["colleague"].email]
    )
    message = mail.outbox[0]
    assert message.subject == "Komitmen Anda minggu ini"
    assert reverse("my-commitments") in message.body
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_quiet_respects_each_programs_days(programs_n, donor_team):
    c = donor_team["collaborator"]
    food_13 = made("committed", collaborator=c, news_days_ago=13)
    food_15 = made("committed", collaborator=c, news_days_ago=15)
    waste_15 = made("committed", collaborator=c, slug="pengelolaan-sampah", news_days_ago=15)
    waste_31 = made("delivered", collaborator=c, slug="pengelolaan-sampah", news_days_ago=31)
    made("completed", collaborator=c, news_days_ago=60)
    made("cancelled", collaborator=c, news_days_ago=60)

    quiet = Commitment.objects.quiet(Program.objects.all(), now=MONDAY)
    assert set(quiet) == {food_15, waste_31}
    flagged = Commitment.objects.with_quiet(Program.objects.all(), now=MONDAY)
    assert {x.pk for x in flagged if x.is_quiet} == {food_15.pk, waste_31.pk}
    assert food_13 not in quiet and waste_15 not in quiet
    Program.objects.filter(slug="pengelolaan-sampah").update(no_news_days=10)
    assert waste_15 in Commitment.objects.quiet(Program.objects.all(), now=MONDAY)


@pytest.mark.django_db
def test_my_commitments_marks_the_quiet_ones_in_constant_queries(client, donor_team):
    c = donor_team["collaborator"]
    client.force_login(donor_team["owner"])
    now = timezone.now()
    made("committed", collaborator=c, now=now)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("my-commitments"))

    made("pledged", collaborator=c, news_days_ago=23, now=now)
    for days in range(4):
        made("committed", collaborator=c, news_days_ago=days, now=now)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("my-commitments")).content.decode()
    assert len(many) == len(one)
    assert page.count('class="badge no-news"') == 1
    assert no_news(23) in page

    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "no news for 23 days" in client.get(reverse("my-commitments")).content.decode()


# --- concurrency -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_digest_once():
    from .world import run_in_threads, small_world

    need = small_world()
    donors = [CollaboratorFactory() for _ in range(3)]
    for collaborator in donors:
        member_of(collaborator)
        member_of(collaborator)
        commitment_in("committed", need=need, collaborator=collaborator, quantity=1)
    now = timezone.now()

    results = run_in_threads([lambda: digests_send(now=now) for _ in range(6)])

    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(results) == 3
    assert CollaboratorDigest.objects.count() == 3
    assert Notification.objects.count() == 6
    assert Notification.objects.values("user").distinct().count() == 6

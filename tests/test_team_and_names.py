"""An organisation's team keeps an owner and each action does only what it says; nobody
registers under a verified collaborator's name; unverified names are marked in public."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from collaborators.models import Collaborator, Membership
from collaborators.team import TeamChangeRefused, membership_change

from .factories import (
    CollaboratorFactory,
    MembershipFactory,
    NeedFactory,
    UserFactory,
    commitment_in,
    member_of,
)


def team_post(client, collaborator, membership, action):
    return client.post(
        reverse("team", args=[collaborator.slug]),
        {"membership": membership.pk, "action": action},
        follow=True,
    )


def role(membership) -> str | None:
    row = Membership.objects.filter(pk=membership.pk).first()
    return row.role if row else None


@pytest.mark.django_db
def test_team_actions_do_only_what_they_say(client):
    organisation = CollaboratorFactory(name="Yayasan Cahaya")
    first = member_of(organisation)
    co_owner = Membership.objects.create(
        user=UserFactory(), collaborator=organisation, role="owner"
    )
    member = Membership.objects.create(user=UserFactory(), collaborator=organisation, role="member")
    pending = Membership.objects.create(
        user=UserFactory(), collaborator=organisation, role="pending"
    )
    client.force_login(first)

    # "Approving" a co-owner used to demote them to member; removing them was allowed.
    for action in ("approve", "remove", "decline", "promote"):
        response = team_post(client, organisation, co_owner, action)
        assert response.status_code == 200
        assert role(co_owner) == "owner", action
    assert "errorlist" in response.content.decode() or "error" in response.content.decode()

    assert team_post(client, organisation, member, "approve").status_code == 200
    assert role(member) == "member"
    team_post(client, organisation, pending, "remove")
    assert role(pending) == "pending"  # removing is for members; a request is declined
    team_post(client, organisation, pending, "approve")
    assert role(pending) == "member"
    team_post(client, organisation, member, "promote")
    assert role(member) == "owner"
    # Nobody acts on another's behalf through "step down" or "leave".
    team_post(client, organisation, co_owner, "step_down")
    team_post(client, organisation, co_owner, "leave")
    assert role(co_owner) == "owner"

    # The page offers only what each row allows.
    page = client.get(reverse("team", args=[organisation.slug])).content.decode()
    assert 'value="remove"' in page and 'value="step_down"' in page


@pytest.mark.django_db
def test_the_last_owner_cannot_go(client):
    organisation = CollaboratorFactory()
    owner = member_of(organisation)
    mine = Membership.objects.get(user=owner)
    client.force_login(owner)
    for action in ("step_down", "leave"):
        response = team_post(client, organisation, mine, action)
        assert response.status_code == 200
        assert role(mine) == "owner"
    assert "owner" in response.content.decode() or "pemilik" in response.content.decode()

    other = Membership.objects.create(user=UserFactory(), collaborator=organisation, role="member")
    team_post(client, organisation, other, "promote")
    response = team_post(client, organisation, mine, "step_down")
    assert role(mine) == "member"
    assert response.redirect_chain[-1][0] == reverse("workspace")


@pytest.mark.django_db(transaction=True)
def test_two_owners_stepping_down_at_once_leave_one_owner():
    # PostgreSQL: the team's rows are locked; SQLite: IMMEDIATE transactions serialise.
    organisation = CollaboratorFactory()
    owners = [
        MembershipFactory(collaborator=organisation, role="owner", user=UserFactory())
        for _ in range(2)
    ]
    barrier = threading.Barrier(2)
    outcomes = []

    def step_down(membership):
        try:
            barrier.wait()
            membership_change(
                actor=membership.user,
                collaborator=organisation,
                membership_id=membership.pk,
                action="step_down",
            )
            outcomes.append("done")
        except TeamChangeRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=step_down, args=(m,)) for m in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["done", "refused"]
    assert Membership.objects.filter(collaborator=organisation, role="owner").count() == 1


@pytest.mark.django_db
def test_nobody_registers_under_a_verified_collaborators_name(client):
    CollaboratorFactory(name="PT Bank Maju Sejahtera Tbk", kind="company")
    user = UserFactory()
    client.force_login(user)
    for name, kind in [
        ("PT Bank Maju Sejahtera Tbk", "individual"),
        ("bank  maju sejahtera", "individual"),
        ("PT. BANK MAJU SEJAHTERA, Tbk.", "company"),
        ("Bank Maju Sejahtéra", "foundation"),
    ]:
        response = client.post(
            reverse("onboarding"), {"action": "create", "name": name, "kind": kind}
        )
        assert response.status_code == 400, name
        assert "name" in response.context["create_form"].errors
    assert Collaborator.objects.count() == 1
    ok = client.post(
        reverse("onboarding"), {"action": "create", "name": "Bank Sampah Maju", "kind": "community"}
    )
    assert ok.status_code == 302


@pytest.mark.django_db
def test_unverified_collaborators_are_marked_on_public_pages(client):
    need = NeedFactory()
    unverified = CollaboratorFactory(name="Toko Serupa", verification_status="unverified")
    verified = CollaboratorFactory(name="Toko Terverifikasi")
    commitment_in("pledged", need=need, collaborator=unverified, quantity=1)
    commitment_in("pledged", need=need, collaborator=verified, quantity=1)
    page = client.get(reverse("area-detail", args=[need.area.code])).content.decode()
    row = page[page.index("Toko Serupa") :][:200]
    assert (
        "unverified" in row and reverse("collaborator-detail", args=[unverified.slug]) not in page
    )
    assert reverse("collaborator-detail", args=[verified.slug]) in page

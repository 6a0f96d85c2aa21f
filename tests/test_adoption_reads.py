"""Adoptions where people already look (issue 21, part 1's remainder): the map's area panel
says who adopted the area and since when; the workspace links "My adoptions" for those who
have something there; the program dashboard lists the program's active adoptions with
their adopter, areas, start, value so far and works, in a fixed number of queries.
Through real requests."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commitments.adoption.models import Adoption, NeedFirstOffer
from locations.models import Area

from .adoption_world import KELURAHAN, PROGRAM, RW1, RW2, RW3, UNIT_VALUE, make_adoption
from .factories import (
    CollaboratorFactory,
    NeedFactory,
    UserFactory,
    collaborator_and_member,
    facilitator_of,
    lead_of,
    member_of,
)
from .world import signed_in

pytestmark = pytest.mark.django_db

WORKSPACE = reverse("workspace")
MY_ADOPTIONS = reverse("my-adoptions")


@pytest.fixture
def ypo():
    return collaborator_and_member(name="Young Presidents Uji")


def panel(client, code: str) -> str:
    response = client.get(reverse("area-panel", args=[code]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_map_panel_says_who_adopted_the_area_and_since_when(client, ypo):
    adoption = make_adoption(ypo[0], codes=(RW1,), name="Kampung Tanah Uji")
    proposal = make_adoption(CollaboratorFactory(), status="proposed", codes=(RW2,))
    client.cookies["django_language"] = "en"
    html = panel(client, RW1)
    line = re.search(r'<p class="adopted-by">(.*?)</p>', html, re.S).group(1)
    assert "Adopted by Young Presidents Uji since" in line
    assert adoption.agreed_at.strftime("%Y") in line
    assert f'href="{adoption.get_absolute_url()}"' in line
    # The kelurahan's panel names its adopted RW's adopter too; a proposal is no adoption.
    assert "Young Presidents Uji" in panel(client, KELURAHAN)
    assert 'class="adopted-by"' not in panel(client, RW2)
    assert proposal.get_absolute_url() not in panel(client, KELURAHAN)


def test_the_workspace_links_my_adoptions_to_those_who_have_something_there(ypo):
    adopter, owner = ypo
    make_adoption(adopter, codes=(RW1,))
    make_adoption(CollaboratorFactory(), status="proposed", codes=(RW3,))
    with_something = {
        "the adopter's member": owner,
        "the program's lead (a proposal to decide)": lead_of(PROGRAM),
        "RW 3's facilitator (a proposal to comment on)": facilitator_of(RW3),
        "an administrator": UserFactory(is_staff=True),
    }
    for who, user in with_something.items():
        html = signed_in(user).get(WORKSPACE).content.decode()
        assert f'href="{MY_ADOPTIONS}"' in html, who
    nothing = {
        "a member of another collaborator": member_of(CollaboratorFactory()),
        "another program's lead": lead_of("pangan"),
        "RW 2's facilitator": facilitator_of(RW2),
    }
    for who, user in nothing.items():
        html = signed_in(user).get(WORKSPACE).content.decode()
        assert f'href="{MY_ADOPTIONS}"' not in html, who


def dashboard_url() -> str:
    return reverse("program-dashboard", kwargs={"slug": PROGRAM})


def adoption_rows(html: str) -> list[str]:
    table = re.search(r'<table class="data-table" id="adoptions-table">(.*?)</table>', html, re.S)
    return re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", table.group(1), re.S)


def test_the_program_dashboard_lists_its_active_adoptions(ypo):
    adopter = ypo[0]
    first = make_adoption(
        adopter,
        codes=(RW1, RW2),
        name="Kampung Tanah Uji",
        works=(("committed", 4), ("pledged", 2), ("cancelled", 5)),
        agreed_days_ago=60,
    )
    pusat_rw = Area.objects.filter(level="rw", code__startswith="31.71.").order_by("code")[0]
    second = make_adoption(
        CollaboratorFactory(name="PT Kedua Uji"), codes=(pusat_rw.code,), name="Dua"
    )
    make_adoption(CollaboratorFactory(), status="proposed", codes=("31.73.04.1002.004",))
    make_adoption(CollaboratorFactory(), status="active", program_slug="pangan", codes=(RW1,))
    client = signed_in(lead_of(PROGRAM))
    response = client.get(dashboard_url())
    assert response.status_code == 200
    rows = response.context["adoptions"]
    assert [r.adoption.pk for r in rows] == [first.pk, second.pk]  # the longest-running first
    assert rows[0].value_idr == 6 * UNIT_VALUE and rows[0].works == 3
    assert [a.code for a in rows[0].areas] == [RW1, RW2]
    assert rows[1].value_idr == 0 and rows[1].works == 0
    html = response.content.decode()
    shown = adoption_rows(html)
    assert len(shown) == 2
    assert f'href="{first.get_absolute_url()}"' in shown[0] and "Young Presidents Uji" in shown[0]
    rw1 = Area.objects.get(code=RW1)
    assert f'href="{rw1.get_absolute_url()}"' in shown[0]
    assert "PT Kedua Uji" in shown[1]
    # Narrowed to an area, only the adoptions there.
    narrowed = client.get(dashboard_url(), {"area": "31.71"}).context["adoptions"]
    assert [r.adoption.pk for r in narrowed] == [second.pk]
    # Another program's dashboard does not list them.
    other = signed_in(lead_of("pangan")).get(
        reverse("program-dashboard", kwargs={"slug": "pangan"})
    )
    assert first.pk not in [r.adoption.pk for r in other.context["adoptions"]]


def _queries(client, url) -> int:
    cache.clear()  # the uncached path: figures read from the summary tables
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_dashboards_adoptions_cost_no_query_per_row(ypo):
    client = signed_in(UserFactory(is_staff=True))
    urls = [dashboard_url(), reverse("dashboard")]
    make_adoption(ypo[0], codes=(RW1,), works=(("committed", 1),))
    for url in urls:
        _queries(client, url)  # warm: session, caches
    before = [_queries(client, url) for url in urls]
    rws = Area.objects.filter(level="rw").exclude(code=RW1).order_by("code")
    for code in rws.values_list("code", flat=True)[:6]:
        make_adoption(CollaboratorFactory(), codes=(code,), works=(("committed", 1),))
    after = [_queries(client, url) for url in urls]
    assert after == before
    assert len(adoption_rows(client.get(urls[0]).content.decode())) == 7


def test_the_admin_shows_adoptions_and_first_offers_read_only(ypo):
    adoption = make_adoption(ypo[0], codes=(RW1, RW2), works=(("committed", 2),))
    offer = NeedFirstOffer.objects.create(
        need=NeedFactory(), adoption=adoption, until=adoption.agreed_at
    )
    client = signed_in(UserFactory(is_staff=True, is_superuser=True))
    for name, obj in (("adoption", adoption), ("needfirstoffer", offer)):
        listing = client.get(reverse(f"admin:adoption_{name}_changelist"), {"q": "Young"})
        assert listing.status_code == 200 and str(obj.pk) in listing.text
        page = client.get(reverse(f"admin:adoption_{name}_change", args=[obj.pk]))
        assert page.status_code == 200 and 'name="_save"' not in page.text
        assert client.get(reverse(f"admin:adoption_{name}_add")).status_code == 403
        delete = reverse(f"admin:adoption_{name}_delete", args=[obj.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
    page = client.get(reverse("admin:adoption_adoption_change", args=[adoption.pk])).text
    assert RW1 in page and "Saluran air" in page
    changed = client.post(
        reverse("admin:adoption_adoption_change", args=[adoption.pk]), {"name": "Diubah"}
    )
    assert changed.status_code == 403
    assert Adoption.objects.get(pk=adoption.pk).name == "Kampung Uji"
    assert NeedFirstOffer.objects.filter(pk=offer.pk).exists()

"""A donor's phone (390x844): a plan some lines of which were taken meanwhile comes back as
the list of what changed, readable without sideways scrolling, and the adjusted plan is
pledged with one tap. The plan is posted as the assistant page posts it (PlanForm)."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from collaborators.models import Membership
from commitments.housekeeping.demo import DEMO_USERS
from commitments.models import Commitment
from locations.models import Area, Need

from .browser import assert_fits_a_thumb, phone_context, sign_in_as_demo_user, watch_errors
from .factories import CollaboratorFactory, NeedFactory, commitment_in

pytestmark = pytest.mark.browser

# The changed-lines page answers 409 (nothing was saved), which Chromium logs as a failed
# resource; any other error fails the test.
CONFLICT = "status of 409 (Conflict) {'url': '%s/asisten/ikrar/'"


@pytest.fixture
def phone_expecting_a_conflict(chromium, django_db_blocker, live_portal):
    """Like the `phone` fixture, where the changed-lines page's 409 is no error."""
    context = phone_context(chromium)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = watch_errors(page)
    with django_db_blocker.unblock():
        yield page
    context.close()
    assert [e for e in errors if CONFLICT % live_portal not in e] == [], errors


POST_PLAN = """([lines, collaborator, date]) => {
  const form = document.createElement("form");
  form.method = "post";
  form.action = "/asisten/ikrar/";
  const add = (name, value) => {
    const input = document.createElement("input");
    input.type = "hidden"; input.name = name; input.value = value; form.appendChild(input);
  };
  add("csrfmiddlewaretoken", document.querySelector("[name=csrfmiddlewaretoken]").value);
  add("key", crypto.randomUUID().replaceAll("-", ""));
  add("collaborator", collaborator);
  add("planned_delivery_on", date);
  for (const [need, quantity] of lines) { add("need", need); add("quantity", quantity); }
  document.body.appendChild(form);
  form.submit();
}"""


def test_a_changed_plan_on_a_phone_then_the_adjusted_plan_in_one_tap(
    phone_expecting_a_conflict, live_portal
):
    page = phone_expecting_a_conflict
    donor = get_user_model().objects.get(email=DEMO_USERS["donor"])
    collaborator = Membership.objects.filter(user=donor).first().collaborator
    rw = Area.objects.get(code="31.73.04.1002.003")
    needs = [NeedFactory(area=rw, quantity_needed=n) for n in (30, 40, 25)]
    commitment_in("pledged", need=needs[1], collaborator=CollaboratorFactory(), quantity=36)
    Need.objects.filter(pk=needs[2].pk).update(status=Need.Status.CLOSED)
    before = Commitment.objects.filter(collaborator=collaborator).count()

    sign_in_as_demo_user(page, live_portal, DEMO_USERS["donor"])
    page.goto(f"{live_portal}/ruang-kerja/")
    date = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    lines = [[needs[0].pk, 10], [needs[1].pk, 8], [needs[2].pk, 5]]
    with page.expect_navigation():
        page.evaluate(POST_PLAN, [lines, collaborator.pk, date])
    page.locator(".plan-changes").wait_for()
    main = page.locator("main").inner_text()
    assert "Rencana Anda berubah" in main
    assert page.locator(".plan-changes .keep-item").count() == 2
    assert "8 paket → 4 paket" in main and "5 paket → 0 paket" in main
    assert Commitment.objects.filter(collaborator=collaborator).count() == before
    accept = page.get_by_role("button", name="Janjikan rencana yang disesuaikan")
    assert accept.bounding_box()["height"] >= 44
    assert_fits_a_thumb(page, "donor-plan-changed")

    accept.tap()
    page.wait_for_url(re.compile(r"/ruang-kerja/komitmen/$"))
    assert "2 komitmen dibuat" in page.locator(".messages").inner_text()
    made = Commitment.objects.filter(collaborator=collaborator, need__in=needs)
    assert sorted(made.values_list("need_id", "quantity")) == [(needs[0].pk, 10), (needs[1].pk, 4)]
    assert_fits_a_thumb(page, "donor-plan-pledged")

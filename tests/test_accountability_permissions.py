"""The permission matrix of the public accountability pages (what was delivered, the
monthly reports, the Atom feeds, the HXL figures): every URL pattern of accountability_urls
(read from the resolver, so a new page without an expectation fails) x every role x every
method. They are public and read-only: the same answer for everyone, anonymous included, and
no page shows more to a signed-in person than to the public (a private photo, a document or
an anonymous giver's name appear for no role)."""

import pytest
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from commitments.web import accountability_urls

from .accountability_world import HIDDEN, RW, make_world
from .factories import UserFactory
from .world import signed_in

pytestmark = pytest.mark.django_db

READ = {"get": 200, "head": 200}
WRITE = {"options": 405, "post": 405, "put": 405, "patch": 405, "delete": 405}


def _kwargs(pattern: URLPattern, world) -> dict:
    fill = {
        "code": RW,
        "slug": world.named.program.slug,
        "month": timezone.localdate().strftime("%Y-%m"),
    }
    converters = pattern.pattern.converters
    if pattern.name == "collaborator-deliveries":
        fill["slug"] = world.named.collaborator.slug
    return {name: fill[name] for name in converters}


def test_every_accountability_url_answers_every_role_alike():
    world = make_world()
    roles = {
        "anonymous": None,
        "member": world.hidden_member,
        "facilitator": world.facilitator,
        "lead": world.lead,
        "admin": UserFactory(is_staff=True, is_superuser=True),
    }
    patterns = [p for p in accountability_urls.urlpatterns if isinstance(p, URLPattern)]
    expected = {p.name: {**READ, **WRITE} for p in patterns}
    failures = []
    for pattern in patterns:
        url = reverse(pattern.name, kwargs=_kwargs(pattern, world))
        for role, user in roles.items():
            client = signed_in(user) if user else Client()
            for method, want in expected[pattern.name].items():
                response = getattr(client, method)(url)
                if response.status_code != want:
                    failures.append(f"{pattern.name} {role} {method}: {response.status_code}")
                elif method == "get" and HIDDEN.encode() in response.content:
                    failures.append(f"{pattern.name} {role}: shows the anonymous giver")
    assert not failures, "\n".join(failures)

"""Every URL pattern of the project, as every role, with junk query strings and fuzzed
values in every field of every form the page shows: no answer is a server error, and the
rows that a form could write are unchanged afterwards.

The URLs come from Django's resolver (the admin's and i18n's included), so a page is covered
the day it is added; a pattern whose arguments this file cannot fill fails the test by name
rather than being skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from .url_world import World, build_world, every_pattern, fill, route_of

pytestmark = pytest.mark.django_db

# Sampled per field: each form is posted once per value, with the values rotated across its
# fields, so every field sees every value without trying every combination.
FUZZ = [
    "ü漢字🙂" * 2500,  # 10,000 characters, astral plane included
    "x" * 1_000_000,
    "2147483648",
    "-99999999999999999999",
    "9" * 5000,  # more digits than int() accepts by default
    "31/02/2026",
    "0000-00-00",
    "a" * 190 + "@example.org",  # a valid but very long email
    "",
]
NUL = "nul\x00byte"
JUNK_QUERY = {
    "q": "ü漢字🙂" * 2500,
    "page": "-7",
    "program": "9" * 40,
    "form": "-1",
    "priority": "2147483648",
    "fresh": "800000",
    "open": "maybe",
    "kind": "<script>",
    "status": "lost",
    "o": "99.-5",
    "p": "x",
    "all": "",
    "e": "1",
    "next": "//evil.example/",
    "_changelist_filters": "a=b&c",
    "date__gte": "0000-00-00",
}
# Sent to every URL besides GET: HEAD, OPTIONS, a bare POST, and these with a JSON body.
BODY_METHODS = ("put", "patch", "delete")
JUNK_POST = {
    "decision": "perhaps",
    "action": "teleport",
    "target": "teleported",
    "reason": "x" * 5000,
    "membership": "9" * 30,
    "email": "not-an-email",
    "language": "xx",
}


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> input type


class FormParser(HTMLParser):
    """The forms of a page and their field names; fields outside any form are kept in a
    form of their own, posted to the page itself."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.loose = Form(action="", method="post")
        self.current: Form | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.current = Form(attrs.get("action") or "", (attrs.get("method") or "get").lower())
            self.forms.append(self.current)
        elif tag in ("input", "select", "textarea", "button") and attrs.get("name"):
            form = self.current or self.loose
            form.fields[attrs["name"]] = attrs.get("type", tag).lower()

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def forms_in(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms + ([parser.loose] if parser.loose.fields else [])


# --- URLs from the resolver, filled from the world (tests/url_world.py) ------------------

# Routes not walked, each with the reason. Keep it short: a route missing from the world
# fails the test instead.
NOT_WALKED: dict[str, str] = {}


def fuzzed(fields: dict[str, str], turn: int) -> dict:
    data = {}
    for index, (name, kind) in enumerate(sorted(fields.items())):
        value = FUZZ[(turn + index) % len(FUZZ)]
        if kind == "file" and turn % 2:
            value = SimpleUploadedFile("junk.png", b"\x89PNG\r\n\x1a\n" + value.encode()[:5000])
        data[name] = value
    return data


# --- the walk -----------------------------------------------------------------------------


class Walk:
    def __init__(self, client: Client, world: World) -> None:
        self.client, self.world = client, world
        self.errors: list[str] = []
        self.requests = 0
        self.posted: set[tuple] = set()
        self.signed_in_as: tuple | None = None  # (the session cookie given,); None: not yet

    def sign_in(self, user) -> None:
        """Signs `user` in (None: out), unless the session given to it still stands: after a
        request that signed out, changed the session or ended it on the server (a password
        change, an erasure), a fresh one."""
        cookie = self.session_cookie()
        session_user = self.client.session.get("_auth_user_id") if cookie else None
        if self.signed_in_as == (cookie,) and session_user == (user and str(user.pk)):
            return
        self.client.logout()
        if user is not None:
            self.client.force_login(user)
        self.signed_in_as = (self.session_cookie(),)

    def request(self, role: str, method: str, url: str, data: dict, *, keep: bool = True, **extra):
        """One request in a savepoint, so that a database error in one view leaves the
        test's transaction usable; `keep=False` rolls back what the request wrote."""
        self.requests += 1
        try:
            with transaction.atomic():
                response = getattr(self.client, method)(url, data, **extra)
                if not keep:
                    transaction.set_rollback(True)
        except Exception as exc:  # a server error: the test client re-raises the view's
            self.errors.append(f"{role} {method.upper()} {url} {describe(data)}: {exc!r}")
            return None
        if response.status_code >= 500:
            self.errors.append(
                f"{role} {method.upper()} {url} {describe(data)}: {response.status_code}"
            )
        return response

    def other_methods(self, role: str, user, url: str) -> None:
        """Every other HTTP method to the URL itself, without a body (PUT, PATCH and DELETE
        with an empty JSON object); what they write is rolled back."""
        for method in ("head", "options", "post", "put", "patch", "delete"):
            body = {"content_type": "application/json"} if method in BODY_METHODS else {}
            self.request(role, method, url, {}, keep=False, **body)
            self.sign_in(user)  # again, if that request signed out or changed the session

    def session_cookie(self) -> str | None:
        return getattr(self.client.cookies.get(django_settings.SESSION_COOKIE_NAME), "value", None)

    def visit(self, role: str, user, url: str, *, is_admin: bool) -> None:
        self.sign_in(user)
        self.other_methods(role, user, url)
        page = self.request(role, "get", url, {})
        self.request(role, "get", url, JUNK_QUERY)
        forms = []
        if page is not None and "html" in page.get("Content-Type", ""):
            forms = forms_in(page.content.decode(errors="replace"))
        if not forms:
            self.sign_in(user)
            self.request(role, "post", url, {**JUNK_QUERY, **JUNK_POST}, keep=not is_admin)
            return
        for form in forms:
            action = urlsplit(urljoin(url, form.action)).path
            seen = (role, form.method, action, tuple(sorted(form.fields)))
            if seen in self.posted:
                continue
            self.posted.add(seen)
            method = "post" if form.method == "post" else "get"
            # Deleting in the admin is what its form is for: roll it back for the next URLs.
            keep = not action.endswith("/delete/")
            turns = range(2) if is_admin else range(len(FUZZ))
            self.sign_in(user)
            for turn in turns:
                self.request(role, method, action, fuzzed(form.fields, turn), keep=keep)
            self.request(role, method, action, dict.fromkeys(form.fields, NUL), keep=keep)


def describe(data: dict) -> str:
    def short(value) -> str:
        text = getattr(value, "name", value)
        return repr(text) if len(text) <= 24 else f"{text[:12]!r}...({len(text)} chars)"

    return "{" + ", ".join(f"{key}={short(value)}" for key, value in data.items()) + "}"


# One test per role, each in its own world: make test runs them on both cores.
@pytest.mark.parametrize("role", ["anonymous", "member", "owner", "facilitator", "lead", "admin"])
def test_every_form_as_every_role_takes_fuzz_without_a_server_error(settings, tmp_path, role):
    world = build_world(tmp_path, settings)
    before = world.key_rows()
    urls, unfilled = [], []
    for chain in every_pattern():
        if route_of(chain) in NOT_WALKED:
            continue
        url = fill(chain, world)
        if url is None:
            unfilled.append(route_of(chain))
        else:
            urls.append((url, route_of(chain).startswith("admin/")))
    assert not unfilled, f"patterns this test cannot fill (add their arguments): {unfilled}"
    assert len(urls) > 100  # the admin's patterns are walked too

    started = time.monotonic()
    walk = Walk(Client(enforce_csrf_checks=False), world)
    # The admin's delete pages come last: their POST really deletes (then rolled back).
    for url, is_admin in sorted(urls, key=lambda item: item[0].endswith("/delete/")):
        walk.visit(role, world.users[role], url, is_admin=is_admin)
    elapsed = time.monotonic() - started

    assert not walk.errors, f"{len(walk.errors)} server errors:\n" + "\n".join(walk.errors)
    assert world.key_rows() == before
    assert walk.requests > 2000, walk.requests
    print(f"{walk.requests} requests in {elapsed:.0f} s")  # noqa: T201


def test_the_walk_finds_the_forms_of_a_page(client):
    """The parser sees hidden fields, selects, textareas and named buttons."""
    html = """
      <form method="post" action="/x/"><input type="hidden" name="csrfmiddlewaretoken" value="t">
        <select name="collaborator"><option>1</option></select><textarea name="note"></textarea>
        <button name="decision" value="verify">ok</button><input type="submit" value="go"></form>
      <form><input name="q"></form><input name="loose">
    """
    post, search, loose = forms_in(html)
    assert (post.action, post.method) == ("/x/", "post")
    assert set(post.fields) == {"csrfmiddlewaretoken", "collaborator", "note", "decision"}
    assert (search.method, set(search.fields)) == ("get", {"q"})
    assert set(loose.fields) == {"loose"}

"""Issue 25: every page type, as every role, scanned with axe-core (WCAG 2.1 A and AA, through
axe-playwright-python, which ships axe-core's script in its wheel) at a phone's size (390x844)
and a desktop's (1280x900), in Indonesian and in English. A serious or critical violation
fails the test, as does a page wider than the phone.

The pages come from Django's resolver, filled from the test world of tests/url_world.py (the
one the every-URL fuzz walk uses), so a page is scanned the day it is added. A role scans each
URL that answers it with an HTML page (200); what it is refused or redirected from is not its
page. A role that gets the very same document as a role before it in ROLES (the same HTML
but for the values of hidden fields, the time it was made, its user id and its unread count:
a public page as a member and as a lead) counts on that role's scan of it rather than
scanning it again. The admin
is scanned by page kind (index, an app's list, a model's list, add, change, history and delete
pages, the password and sign-in forms), on one model: its pages differ by model only in their
fields.

A screenshot of each page type at 390x844 in each language, by the first role that sees it,
is saved in artifacts/pages/.

The world is committed (the live server is another connection) and stays: this module runs
after the other browser tests (tests/conftest.py orders it last).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import Resolver404, resolve

from .browser import ARTIFACTS, HEIGHT, WIDTH, axe, watch_errors
from .url_world import RW_CODE, World, build_world, every_pattern, fill, route_of

pytestmark = [pytest.mark.browser, pytest.mark.commits_world]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": WIDTH, "height": HEIGHT}
LANGUAGES = ("id", "en")
ROLES = ("anonymous", "member", "owner", "facilitator", "lead", "admin")
# The admin's page kinds, from its URL names, and the model its model pages are scanned on.
ADMIN_KINDS = re.compile(r"_(changelist|add|change|history|delete)$")
ADMIN_MODEL = "locations_need"
ADMIN_PAGES = {"index", "app_list", "password_change", "password_change_done", "login"}


@dataclass(frozen=True)
class PageType:
    route: str
    url: str
    ready: str = ""  # a selector the page shows once its script has drawn what it loads

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.route.lower()).strip("-") or "home"


def page_types(world: World) -> list[PageType]:
    """One URL per page type: each pattern outside the admin, and the admin's kinds."""
    found = []
    for chain in every_pattern():
        route, name = route_of(chain), chain[-1].name or ""
        if route.startswith("admin/"):
            kind = ADMIN_KINDS.search(name)
            if not (name in ADMIN_PAGES or (kind and name == ADMIN_MODEL + kind[0])):
                continue
        url = fill(chain, world)
        if url is not None:
            found.append(PageType(route, url))
    # Pages that a query string makes: the needs map with an area's panel open (a fragment
    # the map loads), the adoption proposal for an area and a program (else a chooser).
    found.append(PageType("map-area-panel", f"/peta/?wilayah={RW_CODE}", ready="#panel-title"))
    proposal = f"/adopsi/usul/?area={RW_CODE}&program=penataan-pemukiman"
    found.append(PageType("adoption-proposal", proposal))
    return found


def view_of(path: str):
    try:
        return resolve(path).func
    except Resolver404:  # a static file (the favicon's redirect)
        return None


# What changes between two requests for the same document (the values of hidden fields, such
# as tokens and keys; the time it was made) and what a signed-in role's header holds of its
# own (its id; how many notifications it has unread, a number in the same markup): the same
# markup otherwise is the same scan.
VOLATILE = re.compile(
    rb'(<input type="hidden" name="[^"]*" value|csrf-token" content|data-rendered-at'
    rb'|data-user-id)="[^"]*"'
)
UNREAD = re.compile(rb'(<span class="count" aria-label=")\d+([^"<>]*">)\d+(</span>)')


def digest_of(content: bytes) -> str:
    return hashlib.sha256(UNREAD.sub(rb"\1N\2N\3", VOLATILE.sub(b"", content))).hexdigest()


def pages_of(user, candidates: list[PageType]) -> list[tuple[PageType, str]]:
    """The page types that answer `user` with an HTML page (a whole document: the fragments
    the needs map loads into its panel are scanned inside it), at once or after redirects
    to the same view (a password link moves its token out of the address); each with the
    digest of the document, by which roles that get the very same document share a scan."""
    client = Client()
    if user is not None:
        client.force_login(user)
    pages = []
    for page_type in candidates:
        response = client.get(page_type.url, follow=True)
        view = view_of(urlsplit(page_type.url).path)
        if (
            response.status_code == 200
            and view_of(response.request["PATH_INFO"]) == view
            and "text/html" in response.get("Content-Type", "")
            and b"<html" in response.content[:500]
        ):
            pages.append((page_type, digest_of(response.content)))
    return pages


@dataclass(frozen=True)
class Walk:
    """The pages each role reads, and which role scans each document: the first of ROLES
    that gets it. A role that gets the same document as a role before it counts on that
    role's scan (the same in any test order, on any worker)."""

    users: dict[str, object]  # role -> the world's user (None: anonymous)
    pages: dict[str, list[tuple[PageType, str]]]  # role -> (page type, document digest)
    scanned_by: dict[str, str]  # document digest -> role

    def to_scan(self, role: str) -> list[PageType]:
        return [page for page, digest in self.pages[role] if self.scanned_by[digest] == role]


@pytest.fixture(scope="module")
def walk(live_portal, django_db_blocker, tmp_path_factory):
    """The test world, committed, and the pages each role scans."""
    if os.environ.get("DATABASE_URL"):
        # The pages' markup is the same on either database (the every-URL fuzz walk runs on
        # both): the scan runs once, in CI's SQLite leg; the PostgreSQL leg has the bench
        # smoke runs (tests/benches.py), so that the two legs take about as long.
        pytest.skip("runs once, in the SQLite leg (DATABASE_URL is set)")
    # The world's settings (its private media folder) hold while the module runs.
    with django_db_blocker.unblock(), override_settings():
        built = build_world(tmp_path_factory.mktemp("private-media"), settings)
        candidates = page_types(built)
        pages = {role: pages_of(built.users[role], candidates) for role in ROLES}
        scanned_by: dict[str, str] = {}
        for role in ROLES:
            for _page, digest in pages[role]:
                scanned_by.setdefault(digest, role)
        yield Walk(built.users, pages, scanned_by)


def session_cookie(user, live_portal) -> list[dict]:
    if user is None:
        return []
    client = Client()
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [{"name": settings.SESSION_COOKIE_NAME, "value": value, "url": live_portal}]


SHOT: set[tuple[str, str]] = set()  # (route, language) already photographed


def scan(page, live_portal, page_type: PageType, language: str) -> list[str]:
    """One page at both sizes: what is wrong with it."""
    where = f"{language} {page_type.url}"
    page.set_viewport_size(PHONE)
    page.goto(f"{live_portal}{page_type.url}", wait_until="load")
    if page_type.ready:
        page.locator(page_type.ready).wait_for()
    problems = [f"{where} phone: {v}" for v in axe(page)]
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    if width > WIDTH:
        problems.append(f"{where} phone: scrolls sideways ({width} px wide)")
    if (page_type.route, language) not in SHOT:
        SHOT.add((page_type.route, language))
        (ARTIFACTS / "pages").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "pages" / f"{page_type.slug}-{language}.png")
    page.set_viewport_size(DESKTOP)
    return problems + [f"{where} desktop: {v}" for v in axe(page)]


def scan_role(chromium, live_portal, user, pages: list[PageType], language: str) -> list[str]:
    """Each of `pages` in `language`: what is wrong with them, JavaScript errors included."""
    context = chromium.new_context(viewport=PHONE, locale=f"{language}-ID", service_workers="block")
    context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_portal}]
        + session_cookie(user, live_portal)
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors = watch_errors(page)
    problems: list[str] = []
    try:
        for page_type in pages:
            problems += scan(page, live_portal, page_type, language)
            problems += [f"{page_type.url}: {error}" for error in errors]
            errors.clear()
    finally:
        context.close()
    return problems


# One test per language and role, so that make test's two workers share the walk.
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_passes_axe_at_both_sizes(
    chromium, live_portal, walk, django_db_blocker, language, role
):
    assert len(walk.pages[role]) >= 10, walk.pages[role]  # every role has pages to read
    with django_db_blocker.unblock():
        user = walk.users[role]
        problems = scan_role(chromium, live_portal, user, walk.to_scan(role), language)
    assert problems == [], f"{len(problems)} problems as {role} in {language}:\n" + "\n".join(
        problems
    )

"""Every form error is announced and tied to its field (issue 25): each POST form of every
page, as every role, is sent back with all its fields empty, and every answer that shows
errors must

- tie each field's error list to its field: the list has an id that the field's
  aria-describedby names, and the field says aria-invalid="true";
- put each error that belongs to no field (a non-field error list, a refusal) in a
  role="alert" region;
- start its <title> with "Galat: " / "Error: ", so that it is the first thing heard.

The pages come from Django's resolver (tests/url_world.py), so a new form is audited the day
it is added. The admin is Django's own (its templates, its staff-only pages) and not walked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from api.models import ApiToken
from locations.models import Area

from .factories import NeedFactory, UserFactory, collaborator_and_member, commitment_in
from .url_world import RW_CODE, build_world, every_pattern, fill, route_of

pytestmark = pytest.mark.django_db

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
FIELD_TAGS = {"input", "select", "textarea", "fieldset"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    text: str = ""

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)

    def describe(self) -> str:
        attrs = " ".join(f'{key}="{value}"' for key, value in self.attrs.items())
        return f"<{self.tag} {attrs}>{self.all_text().strip()[:80]}"


class TreeParser(HTMLParser):
    """The page as a tree of elements, enough to follow ids and ancestors."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Node("#document", {})
        self.open = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {key: value or "" for key, value in attrs}, parent=self.open)
        self.open.children.append(node)
        if tag not in VOID:
            self.open = node

    def handle_endtag(self, tag):
        for node in (self.open, *self.open.ancestors()):
            if node.tag == tag:
                self.open = node.parent or self.root
                return

    def handle_data(self, data):
        self.open.text += data


def tree_of(html: str) -> Node:
    parser = TreeParser()
    parser.feed(html)
    return parser.root


def error_marker(root: Node) -> str:
    html = next(node for node in root.walk() if node.tag == "html")
    with translation.override(html.attrs.get("lang", "id")):
        return translation.gettext("Error:") + " "


def shows_errors(root: Node) -> bool:
    return any(
        "errorlist" in node.classes
        or node.attrs.get("aria-invalid") == "true"
        or (
            node.attrs.get("role") == "alert"
            and "hidden" not in node.attrs
            and node.all_text().strip()
        )
        for node in root.walk()
    )


def in_alert(node: Node) -> bool:
    return any(n.attrs.get("role") == "alert" for n in (node, *node.ancestors()))


# Django's wording for a hidden field's error ("(Hidden field key) This field is required."),
# which the person cannot act on: the page says to reload it instead (ksbb_errors.top_errors).
HIDDEN_FIELD_WORDING = re.compile(r"\((Hidden field|Bidang tersembunyi) ")


def error_problems(root: Node) -> list[str]:
    """What is wrong with how the page shows its errors; [] when nothing is."""
    problems = []
    nodes = list(root.walk())
    title = next((node.all_text().strip() for node in nodes if node.tag == "title"), "")
    if not title.startswith(error_marker(root)):
        problems.append(f"the title does not say there are errors: {title!r}")
    describing: dict[str, list[Node]] = {}
    for node in nodes:
        for ref in node.attrs.get("aria-describedby", "").split():
            describing.setdefault(ref, []).append(node)
    for node in nodes:
        if "errorlist" not in node.classes:
            continue
        if node.tag == "ul" and "nonfield" not in node.classes:
            problems += field_list_problems(node, describing.get(node.attrs.get("id", ""), []))
        elif not in_alert(node):
            problems.append(f"an error outside any field, not in an alert: {node.describe()}")
        elif HIDDEN_FIELD_WORDING.search(node.all_text()):
            problems.append(f"a hidden field's error in Django's own words: {node.describe()}")
    lists = {node.attrs.get("id") for node in nodes if "errorlist" in node.classes}
    for node in nodes:
        # A choice among radios or checkboxes is described by the fieldset around them.
        described = [n for n in (node, *node.ancestors()) if n is node or n.tag == "fieldset"]
        if node.attrs.get("aria-invalid") == "true" and not any(
            ref in lists for n in described for ref in n.attrs.get("aria-describedby", "").split()
        ):
            problems.append(f"an invalid field that names no error: {node.describe()}")
    return problems


def field_list_problems(errors: Node, fields: list[Node]) -> list[str]:
    fields = [node for node in fields if node.tag in FIELD_TAGS]
    if not errors.attrs.get("id") or not fields:
        return [f"a field's errors that no field's aria-describedby names: {errors.describe()}"]
    invalid = [
        node
        for owner in fields
        for node in owner.walk()
        if node.tag != "fieldset" and node.attrs.get("aria-invalid") == "true"
    ]
    if not invalid:
        return [f"the field of {errors.describe()} is not aria-invalid: {fields[0].describe()}"]
    return []


# --- the walk -----------------------------------------------------------------------------


@dataclass
class PostForm:
    action: str
    fields: tuple[str, ...]
    token: str


def post_forms(root: Node, url: str) -> list[PostForm]:
    forms = []
    for node in root.walk():
        if node.tag != "form" or node.attrs.get("method", "get").lower() != "post":
            continue
        named = [n for n in node.walk() if n.tag in FIELD_TAGS | {"button"} and n.attrs.get("name")]
        token = next(
            (n.attrs.get("value", "") for n in named if n.attrs["name"] == "csrfmiddlewaretoken"),
            "",
        )
        action = urlsplit(urljoin(url, node.attrs.get("action") or url))
        path = action.path + (f"?{action.query}" if action.query else "")
        names = tuple(sorted({n.attrs["name"] for n in named} - {"csrfmiddlewaretoken"}))
        forms.append(PostForm(path, names, token))
    return forms


class Audit:
    def __init__(self) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.problems: list[str] = []
        self.posted: set[tuple] = set()
        self.answers_with_errors = 0
        self.csrf_failures: list[str] = []  # a form this walk sent wrong, so did not audit

    def sign_in(self, user) -> None:
        self.client.logout()
        if user is not None:
            self.client.force_login(user)
        self.session = self.session_cookie()

    def session_cookie(self) -> str | None:
        return getattr(self.client.cookies.get(django_settings.SESSION_COOKIE_NAME), "value", None)

    def page(self, url: str) -> Node | None:
        with transaction.atomic():
            response = self.client.get(url)
            transaction.set_rollback(True)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            return None
        return tree_of(response.content.decode())

    def visit(self, role: str, user, url: str) -> None:
        root = self.page(url)
        token = None
        for form in post_forms(root, url) if root is not None else []:
            if (role, form.action, form.fields) in self.posted:
                continue
            self.posted.add((role, form.action, form.fields))
            self.send_empty(role, form, token or form.token)
            if self.session_cookie() != self.session:  # signed out: sign in again
                self.sign_in(user)
                fresh = self.page(url)
                token = next((f.token for f in post_forms(fresh, url)), None) if fresh else None

    def send_empty(self, role: str, form: PostForm, token: str) -> None:
        data = {"csrfmiddlewaretoken": token, **dict.fromkeys(form.fields, "")}
        with transaction.atomic():  # what an empty form may still do is undone
            response = self.client.post(form.action, data, follow=True)
            transaction.set_rollback(True)
        if response.status_code == 403 and b"CSRF" in response.content:
            self.csrf_failures.append(f"{role} POST {form.action}")
        if "html" not in response.get("Content-Type", ""):
            return
        root = tree_of(response.content.decode())
        if shows_errors(root):
            self.answers_with_errors += 1
            where = f"{role} POST {form.action} {sorted(form.fields)}"
            self.problems += [f"{where}: {problem}" for problem in error_problems(root)]


def test_every_form_sent_empty_announces_its_errors(settings, tmp_path):
    world = build_world(tmp_path, settings)
    urls = []
    for chain in every_pattern():
        if route_of(chain).startswith("admin/"):
            continue
        url = fill(chain, world)
        assert url is not None, f"a pattern this test cannot fill: {route_of(chain)}"
        urls.append(url)

    audit = Audit()
    for role, user in world.users.items():
        audit.sign_in(user)
        for url in urls:
            audit.visit(role, user, url)

    assert not audit.problems, f"{len(audit.problems)} problems:\n" + "\n".join(
        sorted(set(audit.problems))
    )
    assert not audit.csrf_failures
    assert audit.answers_with_errors > 30, audit.answers_with_errors


def test_a_page_without_errors_has_a_plain_title_and_an_empty_status_region(client):
    root = tree_of(client.get(reverse("login")).content.decode())
    title = next(node.all_text() for node in root.walk() if node.tag == "title")
    assert not title.startswith(error_marker(root))
    regions = [node for node in root.walk() if node.attrs.get("role") == "status"]
    assert any("messages" in node.classes and not node.all_text().strip() for node in regions)


def test_a_message_after_a_redirect_is_read_from_the_status_region(client):
    """The message the next page shows is inside the role="status" region that every page
    has (base.html says why it is always there)."""
    user = UserFactory()
    token, _key = ApiToken.issue(user=user, name="ERP lama")
    client.force_login(user)
    response = client.post(reverse("api-token-revoke", args=[token.pk]), follow=True)
    assert response.redirect_chain  # the message was shown by the next page
    root = tree_of(response.content.decode())
    status = [
        node
        for node in root.walk()
        if node.attrs.get("role") == "status" and "messages" in node.classes
    ]
    assert len(status) == 1
    assert "ERP lama" in status[0].all_text()
    title = next(n.all_text() for n in root.walk() if n.tag == "title")
    assert not title.startswith(error_marker(root))


def test_an_error_message_after_a_redirect_marks_the_title(client, kali_anyar):
    """An error told as a message (a refused action, then a redirect) is in the status
    region, and the next page's title says there is an error."""
    collaborator, owner = collaborator_and_member()
    need = NeedFactory(area=Area.objects.get(code=RW_CODE))
    commitment = commitment_in("pledged", need=need, collaborator=collaborator, quantity=1)
    client.force_login(owner)
    response = client.post(reverse("commitment-status", args=[commitment.pk]), follow=True)
    assert response.redirect_chain
    root = tree_of(response.content.decode())
    status = next(n for n in root.walk() if "messages" in n.classes)
    assert status.attrs["role"] == "status"
    assert "Pilih tindakan." in status.all_text()
    title = next(n.all_text() for n in root.walk() if n.tag == "title")
    assert title.startswith("Galat: ")

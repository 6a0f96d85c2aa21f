"""The permission matrix of the feedback pages: every URL pattern of feedback_urls (read from
the resolver, so a new page without an expectation fails) x every role x GET and POST, for a
report and for a report about the area's facilitator."""

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from commitments.feedback.models import Report
from commitments.web import feedback_urls

from .feedback_world import ROLES, feedback_world
from .world import signed_in

pytestmark = pytest.mark.django_db

HANDLERS = {"facilitator", "subject", "lead", "admin"}  # of the ordinary report
ABOUT_HANDLERS = {"lead", "admin"}  # of the report about the area's facilitator


def _detail(role, method, kind):
    if role == "anonymous":
        return 302
    if role == "member":
        return 403
    handlers = HANDLERS if kind == "ordinary" else ABOUT_HANDLERS
    if role not in handlers:
        return 404
    return 200 if method == "get" else 400  # an empty status form


def _photo(role, method, kind):
    if role == "anonymous":
        return 302
    if method == "post":
        return 405
    return _detail(role, method, kind)


# name -> expected status for (role, method, kind); kind: "ordinary" or "about".
EXPECTED = {
    "feedback-new": lambda role, method, kind: 200 if method == "get" else 400,
    "feedback-sent": lambda role, method, kind: 302 if method == "get" else 405,
    "feedback-track": lambda role, method, kind: 200 if method == "get" else 405,
    "feedback-track-code": lambda role, method, kind: 200 if method == "get" else 405,
    "feedback-list": lambda role, method, kind: (
        302
        if role == "anonymous"
        else 405
        if method == "post"
        else 403
        if role == "member"
        else 200
    ),
    "feedback-detail": _detail,
    "feedback-photo": _photo,
}


def _url(pattern: URLPattern, report: Report) -> str:
    kwargs = {}
    if "report_id" in pattern.pattern.converters:
        kwargs["report_id"] = report.pk
    if "tracking_code" in pattern.pattern.converters:
        kwargs["tracking_code"] = report.code
    return reverse(pattern.name, kwargs=kwargs)


def test_every_feedback_url_for_every_role(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    world = feedback_world()
    for report in (world.ordinary, world.about):
        Report.objects.filter(pk=report.pk).update(photo="feedback/x.jpg")
        (tmp_path / "feedback").mkdir(exist_ok=True)
        (tmp_path / "feedback" / "x.jpg").write_bytes(b"\xff\xd8\xff")
    patterns = [p for p in feedback_urls.urlpatterns if isinstance(p, URLPattern)]
    missing = [p.name for p in patterns if p.name not in EXPECTED]
    assert not missing, f"no expectation for {missing}"
    failures = []
    for pattern in patterns:
        for kind, report in (("ordinary", world.ordinary), ("about", world.about)):
            url = _url(pattern, report)
            for role in ROLES:
                user = world.users[role]
                client = signed_in(user) if user else Client()
                for method in ("get", "post"):
                    got = getattr(client, method)(url).status_code
                    want = EXPECTED[pattern.name](role, method, kind)
                    if got != want:
                        failures.append(f"{pattern.name} {kind} {role} {method}: {got} != {want}")
    assert not failures, "\n".join(failures)
    assert Report.objects.filter(pk=world.ordinary.pk, status="received").exists()

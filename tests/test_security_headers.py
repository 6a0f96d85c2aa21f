"""Production headers: a Content-Security-Policy the pages satisfy, a Permissions-Policy,
and HSTS on by default, so that `check --deploy` has nothing to say.
(tests/test_browser_csp.py proves in Chromium that no page breaks the policy.)"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from ksbb.settings import content_security_policy

ROOT = Path(__file__).resolve().parent.parent


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy_and_a_permissions_policy(client):
    response = client.get("/")
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
    # Map tiles come from the configured tile server, and from nowhere else.
    tile_host = re.match(r"https?://[^/]+", settings.MAP_TILE_URL).group(0)
    assert sorted(policy["img-src"]) == sorted(["'self'", "data:", tile_host])
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in permissions


def test_tile_servers_with_subdomains_are_allowed_by_wildcard():
    policy = content_security_policy("https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    assert "https://*.tiles.example.org" in policy["DIRECTIVES"]["img-src"]


def test_templates_hold_no_inline_script_or_style():
    """What the policy would block, caught without a browser: code belongs in static files,
    data in data- attributes or json_script."""
    offenders = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        html = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            if "src=" not in tag:
                offenders.append(f"{template.relative_to(ROOT)}: {tag}")
        if re.search(r"""\sstyle\s*=\s*["']""", html) or re.search(r"<style\b", html):
            offenders.append(f"{template.relative_to(ROOT)}: inline style")
        if re.search(r"""\son[a-z]+\s*=\s*["']""", html):
            offenders.append(f"{template.relative_to(ROOT)}: inline event handler")
    assert offenders == []


def test_deploy_check_with_the_documented_production_variables_reports_no_issues():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "DJANGO_"))
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="ksbb.example.org",
        CSRF_TRUSTED_ORIGINS="https://ksbb.example.org",
        SITE_URL="https://ksbb.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout

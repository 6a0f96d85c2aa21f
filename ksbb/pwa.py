"""The installable web app: its manifest, its service worker and the page the worker shows
for a page that was never saved on the phone.

django-pwa 2.0.1 was read and not used. Its settings are read once when it is imported, so
its manifest cannot follow the active language, and its icon and precache URLs are fixed
strings, not `static()` names (hashed by whitenoise in production); its worker view returns
a file as it is, so it cannot list the shell's hashed names nor send the worker's own headers
(no-cache, Service-Worker-Allowed); its head template holds an inline script our CSP refuses;
and installing it would publish its Bootstrap stylesheet, fonts and splash images with our
static files. Three small views do the job here.

The worker is served from the site root, so that its scope is every page. Its logic is the
static file js/sw.js; the script served here only names what that file needs to know (the
cache version, the files of the shell, the offline page) and imports it."""

from __future__ import annotations

import hashlib
import json
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

# The shell: what every saved page needs to be drawn without a network. Pages, map data
# and the rest are saved as they are used, and warmed by js/pwa.js (field_views).
SHELL_FILES = [
    "css/site.css",
    "favicon.svg",
    "js/pwa.js",
    "js/menu.js",
    "js/form-errors.js",
    "js/needs-map.js",
    "js/area-inset.js",
    "js/need-form.js",
    "js/offline-form.js",
    "js/pledge-form.js",
    "js/asset-register.js",
    "leaflet/leaflet.js",
    "leaflet/leaflet.css",
    "leaflet/images/layers.png",
    "leaflet/images/layers-2x.png",
    "leaflet/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png",
    "img/icons/icon-192.png",
    "img/icons/icon-512.png",
    "img/icons/icon-maskable-192.png",
    "img/icons/icon-maskable-512.png",
]
# The outbox's scripts (issue 22's queued writes), saved with the shell once they exist.
OUTBOX_FILES = ["js/outbox-store.js", "js/outbox.js"]
OUTBOX_WORKER = "js/outbox-sw.js"
WORKER_LOGIC = "js/sw.js"
# Never saved by the worker: the API and the admin (always live), signing in and out, and
# files (proofs, statement letters, photos, exports), whoever they belong to. Responses
# sent as attachments are never saved either (js/sw.js).
NEVER_SAVED = [
    r"^/api/",
    r"^/admin/",
    r"^/akun/",
    r"^/i18n/",
    r"^/kesehatan/",
    r"/unduh/",
    r"/bukti/",
    r"/surat/",
    r"/foto/",
    r"/berkas/",
    r"[?&]format=",
    r"^/serviceworker\.js$",
    r"/lapangan/halaman\.json$",
]
# A navigation waits this long for the network before the saved copy is shown: a slow
# phone link is slow, not gone.
NAVIGATION_TIMEOUT_MS = 4000


def _exists(name: str) -> bool:
    return finders.find(name) is not None


def shell_urls() -> list[str]:
    """The URLs the worker saves when it installs, as the pages name them."""
    names = [*SHELL_FILES, *(name for name in OUTBOX_FILES if _exists(name))]
    return [static(name) for name in names] + [reverse("offline-page")]


def _content_hash(names: list[str]) -> str:
    digest = hashlib.sha256()
    for name in names:
        path = finders.find(name)
        if path:
            with open(path, "rb") as file:
                digest.update(file.read())
    return digest.hexdigest()


@cache
def _release_hash() -> str:
    return _content_hash([WORKER_LOGIC, OUTBOX_WORKER, *SHELL_FILES, *OUTBOX_FILES])


def cache_version(urls: list[str]) -> str:
    """Moves with every deploy that changes the worker or the shell, so that the new worker
    replaces the caches of the old one. Production names are hashed; in development the
    files are read again on each request."""
    files = _content_hash([WORKER_LOGIC, OUTBOX_WORKER, *SHELL_FILES]) if settings.DEBUG else None
    digest = hashlib.sha256("\n".join(urls).encode())
    digest.update((files or _release_hash()).encode())
    return digest.hexdigest()[:12]


def worker_config() -> dict:
    urls = shell_urls()
    return {
        "version": cache_version(urls),
        "shell": urls,
        "offlinePage": reverse("offline-page"),
        "logout": reverse("logout"),
        "neverSaved": NEVER_SAVED,
        "navigationTimeoutMs": NAVIGATION_TIMEOUT_MS,
        "csrfCookie": settings.CSRF_COOKIE_NAME,
    }


def _static_or_none(name: str) -> str | None:
    # A production manifest raises for a file that was not collected.
    try:
        return static(name) if _exists(name) else None
    except ValueError:
        return None


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    config = worker_config()
    outbox = _static_or_none(OUTBOX_WORKER)
    lines = [
        "/* KSBB service worker: the logic is in js/sw.js; this names what it needs. */",
        f"self.KSBB_SW = {json.dumps(config)};",
    ]
    if outbox:
        # The outbox's background sending (issue 22); a missing or broken file must not
        # stop the worker from serving saved pages.
        lines.append(
            f"try {{ importScripts({json.dumps(outbox)}); }} catch (error) "
            '{ console.warn("outbox-sw.js not loaded", error); }'
        )
    lines.append(f"importScripts({json.dumps(static(WORKER_LOGIC))});")
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    # The browser checks for a new worker on every visit; it must reach the server.
    patch_cache_control(response, no_cache=True, max_age=0)
    return response


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest, in the active language."""
    icons = [
        {
            "src": static(f"img/icons/icon-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "any",
        }
        for size in (192, 512)
    ] + [
        {
            "src": static(f"img/icons/icon-maskable-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "maskable",
        }
        for size in (192, 512)
    ]
    data = {
        "id": "/",
        "name": _("KSBB portal"),
        "short_name": "KSBB",
        "description": _(
            "Where help is needed in %(city)s, how much, and what collaborators have already given."
        )
        % {"city": settings.CITY_NAME},
        "lang": get_language() or settings.LANGUAGE_CODE,
        "dir": "ltr",
        "start_url": reverse("workspace"),
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "theme_color": settings.PWA_THEME_COLOR,
        "background_color": settings.PWA_BACKGROUND_COLOR,
        "icons": icons,
    }
    response = JsonResponse(data, content_type="application/manifest+json")
    patch_cache_control(response, no_cache=True, max_age=0)
    return response


@require_GET
def offline_page(request: HttpRequest) -> HttpResponse:
    """Shown for a page that was never saved on this phone (js/sw.js). It is saved once for
    everyone on the phone, so it names no one: both languages, no account links."""
    return render(request, "pwa/offline.html", {"workspace_url": reverse("workspace")})

"""Helpers for the browser tests: a phone's size and context, signing in through the login
form, watching a page for JavaScript errors and Content-Security-Policy violations, waiting
for the needs map and reading it, checking that a phone screen fits one thumb, running
axe-core on a page as it is, and saving screenshots as artifacts."""

from contextlib import contextmanager
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model

from commitments.housekeeping.demo import DEMO_PASSWORD

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PASSWORD = "kolaborasi-jakarta-2026"  # of the users the browser tests create
WIDTH, HEIGHT = 390, 844  # a phone

# The needs map has drawn its areas and shaded them, and is not loading anything.
MAP_READY = (
    "() => { const m = document.getElementById('needs-map');"
    " return m.dataset.drawn && m.dataset.shaded && !m.dataset.loading; }"
)

# Controls a thumb has to hit, visible, smaller than 44 px either way (links inside running
# text are exempt, as WCAG's target size rule exempts them).
SMALL_TARGETS = """() => {
  const selector = "main button, main .button, main select, main summary, main label.inline,"
    + " main input:not([type=hidden]):not([type=radio]):not([type=checkbox]),"
    + " .site-header a, .site-header button, .site-header select";
  return [...document.querySelectorAll(selector)].filter((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && (r.width < 43.5 || r.height < 43.5);
  }).map((el) => el.outerHTML.slice(0, 90));
}"""

# Installed before any script of the page runs, so no violation goes unheard.
LISTEN_FOR_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"}` +
    ` at ${event.sourceFile || location.pathname}:${event.lineNumber}`
  );
}, true);
"""


def phone_context(chromium, **options):
    """A browser context the size of a phone (390x844), with touch, in Indonesian."""
    return chromium.new_context(
        viewport={"width": WIDTH, "height": HEIGHT},
        is_mobile=True,
        has_touch=True,
        locale="id-ID",
        **options,
    )


@contextmanager
def phone_page(chromium):
    """A page in a fresh phone context, with the list its JavaScript errors go to; the
    context is closed afterwards."""
    context = phone_context(chromium)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page, watch_errors(page)
    finally:
        context.close()


def watch_errors(page) -> list[str]:
    """Collect the page's JavaScript errors; failed tile loads are expected and ignored."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))

    def on_console(message):
        location = (message.location or {}).get("url", "")
        if (
            message.type == "error"
            and "tiles.invalid" not in location
            and "ERR_NAME_NOT_RESOLVED" not in message.text
        ):
            errors.append(f"console: {message.text} {message.location}")

    page.on("console", on_console)
    return errors


def watch_csp(page) -> list[str]:
    """Violations the page reports (in window.cspViolations), and CSP errors Chromium logs
    to the console (returned)."""
    page.add_init_script(LISTEN_FOR_VIOLATIONS)
    logged: list[str] = []
    page.on(
        "console",
        lambda message: (
            logged.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return logged


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def sign_in(page, live_portal, email: str, password: str = PASSWORD) -> None:
    """Through the login form; returns once the browser has the page the form leads to
    (the next page, or the form again if the password was refused)."""
    page.goto(f"{live_portal}/akun/masuk/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()


def sign_out(page, live_portal) -> None:
    """Through the header's sign-out button, as a person handing on a shared phone does."""
    if not page.url.startswith(live_portal):
        page.goto(f"{live_portal}/")
    menu = page.locator(".site-header .menu-toggle")  # on a phone the navigation is folded
    if menu.is_visible() and menu.get_attribute("aria-expanded") == "false":
        menu.click()
    with page.expect_navigation():
        page.locator("form[action='/akun/keluar/'] button").click()


def demo_user(email: str):
    """A demo user, whose password is hashed again with the tests' fast hasher (which cannot
    check the demo's hash). Django ties sessions to the password hash: this ends the user's
    other sessions."""
    user = get_user_model().objects.get(email=email)
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])
    return user


def sign_in_as_demo_user(page, live_portal, email: str) -> None:
    demo_user(email)
    sign_in(page, live_portal, email, DEMO_PASSWORD)


def wait_for_map(page) -> None:
    page.wait_for_function(MAP_READY)


# Zoom to a point. The view has settled once Leaflet fires moveend (after the zoom
# animation, with the areas projected and drawn at the new view) and the browser has
# painted it: then window.viewSettled is true.
SET_VIEW = """([lat, lon, zoom]) => {
  window.viewSettled = false;
  ksbbMap.map.once("moveend", () => requestAnimationFrame(() => { window.viewSettled = true; }));
  ksbbMap.map.setView([lat, lon], zoom);
}"""


def point_on_map(page, code: str) -> tuple[float, float]:
    """Zoom to an area and return its label point in page pixels, for a real mouse."""
    from locations.models import Area

    area = Area.objects.get(code=code)
    page.evaluate(SET_VIEW, [area.centroid_lat, area.centroid_lon, 17])
    page.wait_for_function("() => window.viewSettled")
    point = page.evaluate(
        f"() => ksbbMap.map.latLngToContainerPoint([{area.centroid_lat}, {area.centroid_lon}])"
    )
    box = page.locator("#needs-map").bounding_box()
    return box["x"] + point["x"], box["y"] + point["y"]


def switch_layer(page, indicator: str) -> None:
    """Shade the needs map by an indicator, through its layer select; returns once drawn."""
    value = page.locator(f'#f-layer option[data-indicator="{indicator}"]').first
    page.select_option("#f-layer", value=value.get_attribute("value"))
    page.wait_for_function(
        "(slug) => document.getElementById('map-legend').dataset.layer === slug"
        " && !document.getElementById('needs-map').dataset.loading",
        arg=indicator,
    )


def remaining_on_map(page, code: str) -> int:
    """What remains of the needs of an area, as the needs map shows it."""
    wait_for_map(page)
    return page.evaluate(
        f"() => {{ const e = ksbbMap.state.data.areas['{code}']; return e ? e[1] : 0; }}"
    )


def assert_fits_a_thumb(page, name: str) -> None:
    """Nothing wider than the phone and no control too small for a thumb; a screenshot."""
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= WIDTH, name
    assert page.evaluate(SMALL_TARGETS) == [], name
    screenshot(page, f"phone-{name}")


# --- Offline (issue 22) ----------------------------------------------------------------
# Done once the service worker has saved the signed-in person's field pages (js/pwa.js).
OFFLINE_READY = "() => document.documentElement.dataset.offlineReady === '1'"


def wait_offline_ready(page, timeout: float = 120_000) -> None:
    """After a signed-in page (the workspace) has loaded: waits until its field pages are
    saved for use without a network."""
    page.wait_for_function(OFFLINE_READY, timeout=timeout)


def go_offline(context) -> None:
    """Cuts the network of every page of `context` and of its service worker.

    Checked with Playwright 1.65 and Debian's Chromium: set_offline reaches the service
    worker's own fetches too (a page never saved then gets the worker's offline page, not
    the server's answer: test_browser_offline_reading), so no CDP
    Network.emulateNetworkConditions per target is needed. context.route() likewise sees
    the worker's requests."""
    context.set_offline(True)


def go_online(context) -> None:
    context.set_offline(False)


# --- Accessibility (issue 25) --------------------------------------------------------
# axe-core's WCAG 2.0 and 2.1 rules, levels A and AA; only violations are computed. No CSSOM
# preload: only an experimental rule reads it, and axe would copy each @import-ed stylesheet
# into a <style> element (which the CSP refuses, and whose relative URLs then miss).
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
    "preload": False,
    # No CSS selectors for the nodes found (the slowest part of reporting on a long page):
    # a violation is shown by the start of its HTML.
    "selectors": False,
}
AXE_SCRIPT = Axe().axe_script  # axe-core's script, from axe-playwright-python's wheel


def serious(response: dict) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): " + "; ".join(node["html"][:90] for node in v["nodes"][:4])
        for v in response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def axe(page) -> list[str]:
    """Serious and critical violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    return serious(page.evaluate("options => axe.run(document, options)", AXE_OPTIONS))

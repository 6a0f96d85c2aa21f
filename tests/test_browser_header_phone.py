"""Issue 25 in a browser: at 390x844 the header fits the screen with its navigation behind
a "Menu" button that opens it and lets Tab reach every link; without JavaScript the
navigation wraps instead; on a desktop nothing changes; the sign-in page's first Tab
reaches the skip link; focus is drawn as a dark outline with a yellow ring."""

import uuid

import pytest
from django.contrib.auth import get_user_model

from .browser import HEIGHT, PASSWORD, WIDTH, phone_context, screenshot, sign_in

pytestmark = pytest.mark.browser

# Every visible element of the header whose right edge passes the screen's.
PAST_THE_EDGE = """(width) => [...document.querySelectorAll('.site-header, .site-header *')]
  .filter((el) => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && (r.right > width + 0.5 || r.left < -0.5); })
  .map((el) => el.outerHTML.slice(0, 80))"""

NAV_ITEMS = "#site-nav > a, #site-nav button"


def a_staff_member() -> str:
    """Signed in as staff the navigation is at its longest (workspace, notifications,
    admin, sign out)."""
    email = f"staff-{uuid.uuid4().hex[:8]}@example.org"
    get_user_model().objects.create_user(email, email, PASSWORD, is_staff=True)
    return email


def in_view(box) -> bool:
    return (
        box is not None
        and box["x"] >= -0.5
        and box["x"] + box["width"] <= WIDTH + 0.5
        and box["y"] + box["height"] <= HEIGHT + 0.5
    )


def test_on_a_phone_the_navigation_opens_from_a_menu_and_tab_reaches_every_link(phone, live_portal):
    sign_in(phone, live_portal, a_staff_member())
    phone.goto(f"{live_portal}/")
    menu = phone.locator(".site-header .menu-toggle")
    assert menu.is_visible()
    assert menu.get_attribute("aria-expanded") == "false"
    assert not phone.locator("#site-nav").is_visible()
    assert phone.evaluate(PAST_THE_EDGE, WIDTH) == []
    assert phone.evaluate("() => document.scrollingElement.scrollWidth") <= WIDTH

    menu.focus()
    phone.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    assert phone.evaluate(PAST_THE_EDGE, WIDTH) == []
    screenshot(phone, "phone-header-menu-open")
    items = phone.locator(NAV_ITEMS)
    expected = items.count()
    assert expected >= 6
    reached = []
    for _ in range(expected):
        phone.keyboard.press("Tab")
        reached.append(phone.evaluate("() => document.activeElement.closest('#site-nav') !== null"))
        focused = phone.locator(":focus")
        assert in_view(focused.bounding_box()), focused.evaluate("(el) => el.outerHTML")
    assert all(reached), reached

    phone.keyboard.press("Escape")
    assert menu.get_attribute("aria-expanded") == "false"
    assert phone.evaluate("() => document.activeElement.classList.contains('menu-toggle')")


def test_without_javascript_the_navigation_wraps_on_the_phone(chromium, live_portal):
    context = phone_context(chromium, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_portal}/")
        assert not page.locator(".site-header .menu-toggle").is_visible()
        links = page.locator(NAV_ITEMS)
        assert links.count() >= 3
        for n in range(links.count()):
            assert in_view(links.nth(n).bounding_box())
        assert page.evaluate(PAST_THE_EDGE, WIDTH) == []
    finally:
        context.close()


def test_on_a_desktop_the_navigation_shows_without_a_menu(page, live_portal):
    page.goto(f"{live_portal}/")
    assert not page.locator(".site-header .menu-toggle").is_visible()
    assert page.locator("#site-nav").is_visible()
    # Focus: a dark outline with a yellow ring inside it (3:1 on light pages and on the
    # blue header alike).
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.classList.contains('skip-link')")
    page.keyboard.press("Tab")
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow]; }"
    )
    assert style[:3] == ["solid", "3px", "rgb(27, 31, 36)"], style
    assert "rgb(255, 191, 71)" in style[3], style


def test_the_sign_in_pages_first_tab_reaches_the_skip_link(phone, live_portal):
    phone.goto(f"{live_portal}/akun/masuk/")
    assert phone.evaluate("() => document.activeElement === document.body")
    phone.keyboard.press("Tab")
    assert phone.evaluate("() => document.activeElement.classList.contains('skip-link')")


# How many pixels the language select's box is short of its chosen label (the label's own
# width in the select's font, plus the drop-down arrow), 0 when it shows whole.
LABEL_CUT_BY = """() => { const select = document.getElementById('language-select');
  const style = getComputedStyle(select), probe = document.createElement('span');
  probe.style.font = style.font; probe.style.position = 'absolute'; probe.style.whiteSpace = 'pre';
  probe.textContent = select.options[select.selectedIndex].text;
  document.body.appendChild(probe);
  const needed = probe.getBoundingClientRect().width + parseFloat(style.paddingLeft)
    + parseFloat(style.paddingRight) + 20;
  probe.remove();
  return Math.max(0, Math.ceil(needed - select.clientWidth)); }"""


@pytest.mark.parametrize("language", ["id", "en"])
def test_on_a_phone_the_language_switcher_shows_its_whole_label(phone, live_portal, language):
    phone.context.add_cookies([{"name": "django_language", "value": language, "url": live_portal}])
    phone.goto(f"{live_portal}/")
    assert phone.evaluate("() => document.documentElement.lang") == language
    assert phone.evaluate(LABEL_CUT_BY) == 0
    assert phone.evaluate(PAST_THE_EDGE, WIDTH) == []
    screenshot(phone, f"phone-header-language-{language}")

"""Issue 25 (header on a phone, keyboard focus, dashboards readable), the server's half:
the sign-in page does not take focus before the skip link, every scrolling table is a
named, focusable region, the program dashboard has a table of contents whose links all
land on the page, and the "donation forms against the 2021 baseline" chart draws each
series in its own panel on its own scale. The browser's half: test_browser_header_phone."""

import re
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import translation

from commitments.reporting import charts
from programs.models import Program

from .factories import UserFactory, lead_of

TABLE_SCROLL = re.compile(r'<div class="table-scroll[^"]*"([^>]*)>')


def ids_on(html: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html))


def assert_table_regions(html: str) -> int:
    """Every .table-scroll is focusable, a region, and labelled by an element on the page."""
    ids = ids_on(html)
    wrappers = TABLE_SCROLL.findall(html)
    for attributes in wrappers:
        assert 'tabindex="0"' in attributes, attributes
        assert 'role="region"' in attributes, attributes
        label = re.search(r'aria-labelledby="([^"]+)"', attributes)
        assert label and label.group(1) in ids, attributes
    return len(wrappers)


@pytest.mark.django_db
def test_sign_in_puts_no_focus_before_the_skip_link(client):
    html = client.get(reverse("login")).content.decode()
    assert "autofocus" not in html
    assert html.index('class="skip-link"') < html.index('id="id_username"')


@pytest.mark.django_db
def test_scrolling_tables_on_area_and_program_pages_are_named_focusable_regions(client, kali_anyar):
    area = client.get(kali_anyar.get_absolute_url())
    assert area.status_code == 200
    assert assert_table_regions(area.content.decode()) >= 1
    program = client.get(Program.objects.get(slug="pangan").get_absolute_url())
    assert program.status_code == 200
    assert assert_table_regions(program.content.decode()) >= 2


@pytest.mark.django_db
def test_the_header_has_a_menu_button_for_its_navigation(client):
    html = client.get("/").content.decode()
    button = re.search(r'<button type="button" class="menu-toggle"[^>]*>', html).group(0)
    assert 'aria-controls="site-nav"' in button and "aria-expanded=" in button
    # Hidden until js/menu.js takes over: without JavaScript the navigation stays visible.
    assert " hidden" in button
    assert re.search(r'<nav class="site-nav" id="site-nav"', html)
    assert "js/menu.js" in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "id"])
def test_dashboard_table_of_contents_links_land_on_the_page(client, language):
    client.force_login(UserFactory(is_staff=True))
    with translation.override(language):
        url = reverse("dashboard")
    html = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    toc = re.search(r'<nav class="page-toc".*?</nav>', html, re.S).group(0)
    targets = re.findall(r'href="#([^"]+)"', toc)
    assert len(targets) >= 8
    assert set(targets) <= ids_on(html)
    assert html.index('class="page-toc"') < html.index('id="totals-heading"')
    assert_table_regions(html)


@pytest.mark.django_db
def test_a_program_leads_dashboard_has_the_table_of_contents(client):
    client.force_login(lead_of("pangan"))
    html = client.get(reverse("dashboard"), follow=True).content.decode()
    toc = re.search(r'<nav class="page-toc".*?</nav>', html, re.S).group(0)
    assert set(re.findall(r'href="#([^"]+)"', toc)) <= ids_on(html)


def form_row(name: str, live: int, reported: int):
    return SimpleNamespace(
        donation_form=SimpleNamespace(name=name),
        confirmed=SimpleNamespace(count=live, value_idr=None),
        reported_commitments=reported,
        reported_value_idr=None,
    )


def panels(svg: str) -> list[list[float]]:
    """Per <svg> panel: each bar's width as a fraction of the panel's plot width."""
    out = []
    for panel in re.findall(r"<svg.*?</svg>", svg, re.S):
        width = float(re.search(r'viewBox="0 0 (\d+)', panel).group(1))
        left = float(re.search(r'translate\((\d+), 8\)" class="plot"', panel).group(1))
        plot = width - left - 8
        bars = [
            float(w)
            for w in re.findall(
                r'<rect x="0" y="[\d.]+" width="([\d.]+)" height="[\d.]+" class="rect"/>', panel
            )
        ]
        out.append([b / plot for b in bars])
    return out


def test_live_and_reported_commitments_each_get_a_panel_on_their_own_scale():
    data = SimpleNamespace(
        forms=[form_row("Paket sembako", 34, 460_000), form_row("Makanan siap saji", 5, 12_000)]
    )
    live, reported = panels(str(charts.forms_chart(data)))
    # Each series' largest bar fills its own panel: 34 is as readable as 460,000.
    assert max(live) == pytest.approx(1, abs=0.01)
    assert max(reported) == pytest.approx(1, abs=0.01)
    assert min(live) > 0.1  # 5 of 34, drawn at about a seventh

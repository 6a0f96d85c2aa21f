"""The needs map's legend can be told apart as drawn (WCAG 1.4.11), and data in the other
language is marked: Indonesian indicator names on English pages (lang="id"), program leads
named in the page's language (issue 25)."""

import json
import re
from html import unescape
from pathlib import Path

import pytest

from locations import map_palette

from .colour import composite, contrast, rgb, too_close

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def map_config(client) -> dict:
    html = client.get("/peta/").content.decode()
    found = re.search(r'<script id="map-config" type="application/json">(.*?)</script>', html)
    return json.loads(unescape(found.group(1)))


def map_box_background() -> str:
    """The needs map box's background colour, as site.css ships it: under every fill
    where no tile has loaded."""
    css = (ROOT / "static" / "css" / "site.css").read_text()
    rule = re.search(r"\.needs-map \{[^}]*background: (#[0-9a-fA-F]{6})", css)
    return rule.group(1)


def test_every_class_is_3_to_1_from_its_neighbours_and_no_need_as_drawn(client):
    palette = map_config(client)["palette"]  # what the page gives the map's script
    classes, opacity = palette["needClasses"], palette["fillOpacity"]
    assert len(classes) >= 2
    unders = [map_box_background(), *map_palette.TILE_BACKGROUNDS]
    assert too_close(classes, palette["noNeed"], opacity, unders) == []
    for under in unders:
        no_need = composite(palette["noNeed"], under, opacity)
        no_residents = composite(palette["noResidents"], under, opacity)
        assert contrast(no_residents, no_need) >= 3, under


def test_every_indicator_class_is_3_to_1_from_its_neighbours_and_no_data_as_drawn(client):
    palette = map_config(client)["palette"]
    classes, opacity = palette["indicatorClasses"], palette["fillOpacity"]
    assert len(classes) >= 2
    unders = [map_box_background(), *map_palette.TILE_BACKGROUNDS]
    assert too_close(classes, palette["noData"], opacity, unders) == []
    # Blue, not the needs' orange and brown: a statistic is not read as need.
    assert not set(classes) & set(palette["needClasses"])
    assert all(rgb(colour)[2] > rgb(colour)[0] for colour in classes)


def test_the_map_script_draws_with_the_pages_palette():
    script = (ROOT / "static" / "js" / "needs-map.js").read_text()
    assert "palette.needClasses" in script
    assert "palette.indicatorClasses" in script
    assert not re.search(r"\[\s*\"#[0-9a-fA-F]{6}\",", script)  # no other colour scale
    assert "fillOpacity: palette.fillOpacity" in script
    assert not re.search(r"fillOpacity: 0\.", script)  # no other translucent fill


def test_leaflet_controls_are_translated_on_indonesian_pages(client):
    html = client.get("/peta/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert 'data-zoom-in-title="Perbesar"' in html
    assert 'data-zoom-out-title="Perkecil"' in html
    html = client.get("/peta/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-zoom-in-title="Zoom in"' in html


def cells_naming(html: str, text: str) -> list[str]:
    return re.findall(r"<td[^>]*>" + re.escape(text) + "</td>", html)


def test_indonesian_indicator_names_are_marked_on_english_area_pages(client):
    english = client.get("/wilayah/31.73/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    cells = cells_naming(english, "Masih bersekolah")
    assert cells, "the kota page lists its education indicators"
    assert all(' lang="id"' in cell for cell in cells)
    assert all(' lang="' not in cell for cell in cells_naming(english, "Population"))
    indonesian = client.get("/wilayah/31.73/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert all(' lang="' not in cell for cell in cells_naming(indonesian, "Masih bersekolah"))


def test_map_layer_choices_mark_indonesian_titles_on_english_pages(client):
    html = client.get("/peta/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    options = re.findall(r"<option [^>]*data-indicator=[^>]*>[^<]*", html)
    school = [o for o in options if "bersekolah" in o]
    assert school and all(' lang="id"' in o for o in school)
    assert all(' lang="id"' not in o for o in options if ">Population" in o)


def test_program_leads_are_named_in_the_pages_language(client):
    indonesian = client.get("/program/pendidikan/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Dinas Pendidikan" in indonesian
    assert "Department for Education" not in indonesian
    english = client.get("/program/pendidikan/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Department for Education" in english
    programs = client.get("/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Biro KSD &amp; Dinas Sosial" in programs

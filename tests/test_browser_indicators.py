"""Indicator layers on a phone (390x844, no map tiles): the density layer switched on shades
the kelurahan with its own legend, unit and source, without fetching geometry twice; and a
program lead uploads an indicator file, reads the preview and saves it."""

from __future__ import annotations

import pytest
import tablib

from commitments.housekeeping.demo import DEMO_PASSWORD
from locations.map_palette import INDICATOR_CLASSES
from locations.models import AreaIndicator

from .browser import WIDTH, axe, demo_user, screenshot, sign_in, switch_layer

pytestmark = pytest.mark.browser
LEAD = "dinsos.demo@example.org"
TANAH_TINGGI = "31.71.08.1004"  # the densest kelurahan of Jakarta in 2024 (71,994 / km²)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH


def test_the_density_layer_on_a_phone_shows_its_legend_unit_and_source(phone, live_portal):
    geometry = []
    phone.on("request", lambda r: geometry.append(r.url) if "geometri-" in r.url else None)
    phone.goto(f"{live_portal}/peta/")
    phone.wait_for_function(
        "() => { const m = document.getElementById('needs-map');"
        " return m.dataset.interactiveAt && !m.dataset.loading; }"
    )
    assert phone.locator("#f-layer").is_visible()  # not folded away with the filters

    switch_layer(phone, "population-density")
    needs_map = phone.locator("#needs-map")
    assert needs_map.get_attribute("data-level") == "kelurahan"
    assert needs_map.get_attribute("data-layer") == "population-density"
    assert needs_map.get_attribute("data-drawn") == "267"
    assert needs_map.get_attribute("data-shaded") == "267"  # every kelurahan has a figure
    legend = phone.locator("#map-legend")
    text = legend.inner_text()
    assert "Kepadatan penduduk" in text
    assert "jiwa/km²" in text and "2024" in text
    assert "Sumber: Satu Data Jakarta" in text
    assert "267 wilayah dengan data" in text
    assert legend.locator("li").count() == 3  # two classes (3:1 apart as drawn) and "no data"
    assert phone.evaluate(f"() => ksbbMap.fillOf('{TANAH_TINGGI}')") == INDICATOR_CLASSES[-1]
    assert no_horizontal_scroll(phone)
    screenshot(phone, "indicator-density-phone")
    legend.scroll_into_view_if_needed()
    screenshot(phone, "indicator-density-legend-phone")

    # Back to the needs, then to the density again: each level's geometry came once.
    phone.select_option("#f-layer", value="")
    phone.wait_for_function("() => !document.getElementById('map-legend').dataset.layer")
    switch_layer(phone, "population-density")
    assert len(geometry) == len(set(geometry)) == 2  # RW (the opening level), kelurahan

    # Flood states per RW: drawn by class, with their labels.
    switch_layer(phone, "flood-state")
    assert needs_map.get_attribute("data-level") == "rw"
    assert "banjir 10-70 cm – banjir lebih dari 150 cm" in legend.inner_text()


def test_a_lead_uploads_an_indicator_file_on_a_phone(phone, live_portal, django_db_blocker):
    with django_db_blocker.unblock():
        demo_user(LEAD)
    data = tablib.Dataset(
        ["JAKARTA PUSAT", "JOHAR BARU", "TANAH TINGGI", "12.5"],
        ["JAKARTA BARAT", "TAMBORA", "KEL. KALI ANYAR", "9.75"],
        ["JAKARTA BARAT", "TAMBORA", "KALI ANYAR BARU", "3"],
        headers=["wilayah", "kecamatan", "kelurahan", "persen"],
    )
    sign_in(phone, live_portal, LEAD, DEMO_PASSWORD)
    phone.goto(f"{live_portal}/ruang-kerja/")
    phone.click("text=Impor indikator")
    phone.wait_for_selector("#id_file")
    assert no_horizontal_scroll(phone)
    assert axe(phone) == []

    content = data.export("csv").encode()
    phone.set_input_files(
        "#id_file", files=[{"name": "rawan.csv", "mimeType": "text/csv", "buffer": content}]
    )
    phone.fill("#id_indicator", "uji-keluarga-rawan")
    phone.fill("#id_label", "Keluarga rawan (uji)")
    phone.fill("#id_unit", "%")
    phone.fill("#id_year", "2025")
    phone.fill("#id_source", "Uji browser")
    phone.fill("#id_value_column", "persen")
    phone.check("input[name=by][value=name]")
    phone.fill("#id_kota_column", "wilayah")
    phone.click("form.indicator-import button[type=submit]")
    phone.wait_for_url("**/indikator/impor/*/")

    counts = {
        name: phone.locator(f"[data-count={name}]").inner_text()
        for name in ("rows", "matched", "unmatched", "problems")
    }
    assert counts == {"rows": "3", "matched": "2 (2 kelurahan)", "unmatched": "1", "problems": "0"}
    assert "Tidak ada kelurahan bernama “KALI ANYAR BARU”." in phone.locator("main").inner_text()
    assert no_horizontal_scroll(phone)
    assert axe(phone) == []
    screenshot(phone, "indicator-import-preview-phone")

    phone.click("text=Simpan nilai-nilai ini")
    phone.locator(".notice").wait_for()
    with django_db_blocker.unblock():
        saved = dict(
            AreaIndicator.objects.filter(indicator="uji-keluarga-rawan").values_list(
                "area__code", "value"
            )
        )
    assert {code: float(value) for code, value in saved.items()} == {
        TANAH_TINGGI: 12.5,
        "31.73.04.1002": 9.75,
    }

"""The needs map's indicator layers can be told apart as drawn (WCAG 1.4.11, issue 25): on the
flood-state layer, the fills the map actually draws are the legend's, each class 3:1 from the
next and from "no data" over the map box and the tiles; the five flood states come in ordered
runs, never a cycled colour, and each area's own state stays in its tooltip."""

import pytest

from locations import map_palette

from .browser import point_on_map, screenshot, switch_layer, wait_for_map
from .colour import rgb, too_close

pytestmark = pytest.mark.browser

# Every area's drawn fill and its indicator value, from the page's map state.
DRAWN = """() => Object.entries(ksbbMap.state.byCode)
  .filter(([code, layer]) => !layer.feature.properties.z)
  .map(([code, layer]) => {
    const row = ksbbMap.state.indicatorData.areas[code];
    const value = row ? row[ksbbMap.state.indicatorColumn] : null;
    return [code, layer.options.fillColor, layer.options.fillOpacity, value];
  })"""


def swatches(page) -> list[tuple[tuple[int, ...], float]]:
    """The legend's swatches as the browser paints them: colour and opacity."""
    styles = page.eval_on_selector_all(
        "#map-legend li .swatch", "els => els.map((e) => getComputedStyle(e).backgroundColor)"
    )
    return [(rgb(style), alpha(style)) for style in styles]


def alpha(style: str) -> float:
    parts = style[style.index("(") + 1 : -1].split(",")
    return float(parts[3]) if len(parts) == 4 else 1.0


def hex_of(colour: tuple[int, ...]) -> str:
    return "#" + "".join(f"{c:02x}" for c in colour)


def test_flood_state_classes_are_3_to_1_apart_as_drawn(page, live_portal):
    page.goto(f"{live_portal}/peta/")
    wait_for_map(page)
    switch_layer(page, "flood-state")
    legend = page.locator("#map-legend li")
    # Five states, two colours: ordered runs, the state itself in the tooltip.
    assert legend.all_inner_texts() == [
        "tidak ada laporan banjir – waspada",
        "banjir 10-70 cm – banjir lebih dari 150 cm",
        "Tidak ada data",
    ]
    painted = swatches(page)
    opacity = painted[0][1]
    assert opacity < 1 and {a for _c, a in painted} == {opacity}  # as the map draws them
    legend_colours = [hex_of(colour) for colour, _a in painted]

    drawn = page.evaluate(DRAWN)
    fills = {fill for _code, fill, _o, _v in drawn}
    assert {o for _code, _f, o, _v in drawn} == {opacity}
    assert len(fills) == 3 and fills <= set(legend_colours)  # both classes and no data drawn
    # Each run of states has one colour, a higher run the next class.
    fill_of_state = {value: fill for _code, fill, _o, value in drawn if value is not None}
    assert fill_of_state[1] == legend_colours[0]
    assert fill_of_state[2] == fill_of_state[3] == legend_colours[1]

    box = page.evaluate(
        "() => getComputedStyle(document.getElementById('needs-map')).backgroundColor"
    )
    unders = [hex_of(rgb(box)), *map_palette.TILE_BACKGROUNDS]
    assert too_close(legend_colours[:-1], legend_colours[-1], opacity, unders) == []
    screenshot(page, "indicator-flood-legend")

    deep = next(code for code, _f, _o, value in drawn if value == 3)
    page.mouse.move(*point_on_map(page, deep))
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert "banjir 71-150 cm" in tooltip.inner_text()

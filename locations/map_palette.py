"""The needs map's colours, for the needs and for the indicator layers: one source for the
map's script (through the page's map config) and for the tests that check they can be told
apart.

WCAG 1.4.11 asks 3:1 between the parts of a graphic a person must tell apart: here each
class of need against its neighbouring class and against "no open need", as drawn (the fill
at FILL_OPACITY over what lies under it). A chain of colours each 3:1 from the next spans
3^(n-1):1, and luminance spans at most 21:1, so "no open need" plus two classes is the most
that can be told apart by lightness alone (three classes would need 27:1). The needs are
therefore shaded in two classes, split at the median of the areas with needs; the figures
and the legend's ranges give the detail.

The indicator layers (population density, flood states...) follow the same arithmetic, in
blue so that a statistic is not read as need: "no data" plus two classes. A continuous
indicator is split at the median of the areas with data; a categorical one (flood states 0-4)
is grouped into ordered runs of categories, the exact value staying in the tooltip.

What lies under a fill: the map box's background (.needs-map in static/css/site.css) where
no tile has loaded, else the base map's tiles, assumed light (OpenStreetMap-style land
#f2efe9, white); TILE_BACKGROUNDS lists them and the test checks the ratios over each."""

FILL_OPACITY = 0.9
NO_NEED = "#f4f6f8"
# From fewer to more need.
NEED_CLASSES = ["#d94801", "#4d0000"]
# Not a class of need (nobody lives there): told from "no open need" at 3:1, from the
# first class by hue only (grey against orange).
NO_RESIDENTS = "#6b7580"
# Indicator layers, from lower to higher value; "no data" is drawn like "no open need" (the
# same nothing-to-show shade on both kinds of layer).
INDICATOR_CLASSES = ["#2c7fb8", "#061a40"]
NO_DATA = NO_NEED
TILE_BACKGROUNDS = ["#f2efe9", "#ffffff"]
MIN_CONTRAST = 3.0


def palette() -> dict:
    """What the map's script reads (map config "palette")."""
    return {
        "needClasses": NEED_CLASSES,
        "noNeed": NO_NEED,
        "noResidents": NO_RESIDENTS,
        "indicatorClasses": INDICATOR_CLASSES,
        "noData": NO_DATA,
        "fillOpacity": FILL_OPACITY,
    }

"""The dashboard's charts, drawn on the server as SVG with pygal and put into the page as
markup. pygal embeds a <script> and a <style> in its SVG and the page's CSP allows
neither: both are removed here, with any style attribute, and the colours and fonts come
from the site stylesheet (the "dashboard charts" section of static/css/site.css), keyed on
pygal's own classes (.color-N, .axis, .legend...). No tooltips, so values are printed on
the bars, and every chart has the same figures as a table beside it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pygal
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from pygal.style import Style

from ksbb import formatting

from ..models import Status
from .dashboard import AreaRow, DashboardData

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)

# Narrow, so that on a 390px phone the chart is drawn near its own size and stays legible;
# wider screens scale it up (capped by the stylesheet).
WIDTH = 420
ROW_HEIGHT = 34


def _config(**options) -> dict:
    return {
        "js": [],
        "css": [],
        "disable_xml_declaration": True,
        "no_prefix": True,
        "explicit_size": False,
        "width": WIDTH,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 2,
        "print_values": True,
        "print_zeroes": False,
        "truncate_label": 18,
        "truncate_legend": 24,
        "margin": 8,
        "spacing": 6,
        "no_data_text": _("No data"),
        "style": Style(
            font_family="system-ui, sans-serif",
            label_font_size=13,
            major_label_font_size=13,
            legend_font_size=13,
            value_font_size=12,
            tooltip_font_size=12,
            no_data_font_size=20,
        ),
        **options,
    }


def clean_svg(svg: str) -> SafeString:
    """pygal's SVG without what the Content-Security-Policy blocks (<script>, <style>,
    style attributes) or what the page does not need (comments, the chart's empty id)."""
    root = ET.fromstring(svg)  # noqa: S314 - our own pygal output, not user-supplied XML
    for parent in root.iter():
        for child in list(parent):
            if child.tag in (f"{{{SVG}}}script", f"{{{SVG}}}style"):
                parent.remove(child)
        parent.attrib.pop("style", None)
    root.attrib.pop("id", None)
    root.set("role", "img")
    root.set("aria-hidden", "true")  # the table beside it is what screen readers read
    root.set("focusable", "false")
    return mark_safe(ET.tostring(root, encoding="unicode"))  # noqa: S308 - escaped by ElementTree


def compact_idr(value) -> str:
    """Rupiah in a few characters for a bar label."""
    return "" if value is None else formatting.idr(value)


def short_area_name(name: str) -> str:
    """ "Kota Administrasi Jakarta Pusat" -> "Jakarta Pusat": room for the bar on a phone."""
    for prefix in ("Kota Administrasi ", "Kabupaten Administrasi "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _or_none(values) -> list:
    # A zero bar prints "Rp 0" over the label; no bar says it better.
    return [float(v) if v else None for v in values]


def forms_chart(data: DashboardData) -> SafeString:
    """Confirmed value per donation form beside its 2021 reported value; where no form of
    the programs has a reported value, confirmed commitments beside reported ones."""
    rows = data.forms[::-1]  # pygal draws the first row at the bottom
    by_value = any(r.reported_value_idr is not None for r in rows)
    chart = pygal.HorizontalBar(
        **_config(
            height=120 + ROW_HEIGHT * 2 * max(len(rows), 1),
            value_formatter=compact_idr if by_value else formatting.number,
            # Horizontal bars swap the axes: this hides the value scale (values are
            # printed on the bars), keeping the row names.
            show_x_labels=False,
            legend_at_bottom_columns=1,
        )
    )
    chart.x_labels = [str(r.donation_form.name) for r in rows]
    if by_value:
        chart.add(_("Confirmed value (IDR)"), _or_none(r.confirmed.value_idr for r in rows))
        chart.add(_("Reported 2021 (IDR)"), _or_none(r.reported_value_idr for r in rows))
    else:
        chart.add(_("Confirmed commitments"), _or_none(r.confirmed.count for r in rows))
        chart.add(_("Reported 2021: commitments"), _or_none(r.reported_commitments for r in rows))
    return clean_svg(chart.render(is_unicode=True))


def forms_chart_by_value(data: DashboardData) -> bool:
    return any(r.reported_value_idr is not None for r in data.forms)


def months_chart(data: DashboardData) -> SafeString:
    """Commitments made each month, stacked by the state they are in now."""
    chart = pygal.StackedBar(
        **_config(
            height=440,
            margin_bottom=36,
            x_label_rotation=-45,
            print_values=False,
            legend_at_bottom_columns=3,
            spacing=16,  # room between the slanted month labels and the legend
            truncate_legend=14,
        )
    )
    chart.x_labels = [m.month.strftime("%Y-%m") for m in data.months]
    # Every state, always in the same order: the stylesheet gives each its own colour.
    for status in Status:
        chart.add(str(status.label), [m.by_status.get(status.value) for m in data.months])
    return clean_svg(chart.render(is_unicode=True))


def areas_chart(rows: list[AreaRow]) -> SafeString:
    """Confirmed value per kota (or per kecamatan)."""
    rows = rows[::-1]  # pygal draws the first row at the bottom
    chart = pygal.HorizontalBar(
        **_config(
            height=60 + ROW_HEIGHT * max(len(rows), 1),
            value_formatter=compact_idr,
            show_legend=False,
            # Horizontal bars swap the axes: this hides the value scale (values are
            # printed on the bars), keeping the row names.
            show_x_labels=False,
        )
    )
    chart.x_labels = [short_area_name(r.area.name) for r in rows]
    chart.add(_("Confirmed value (IDR)"), _or_none(r.confirmed.value_idr for r in rows))
    return clean_svg(chart.render(is_unicode=True))

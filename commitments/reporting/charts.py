"""The dashboard's charts, drawn on the server as SVG and put into the page as markup.

Written here as plain SVG text, with pygal's markup and class names (.graph, .plot,
.axis, .guides, .series .color-N, .legends, .text-overlay .value): the stylesheet colours
them (the "dashboard charts" section of static/css/site.css). pygal itself cost more time
than all the dashboard's figures (hundreds of bars, each with tooltip data the page never
used, then parsed again to strip the <script> and <style> the Content-Security-Policy
blocks); this markup has neither, nor any style attribute. No tooltips, so values are
printed on the bars, and every chart has the same figures as a table beside it (screen
readers read the table: the SVG is aria-hidden)."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from ksbb import formatting

from ..models import Status
from .dashboard import AreaRow, DashboardData

SVG = "http://www.w3.org/2000/svg"

# Narrow, so that on a 390px phone the chart is drawn near its own size and stays legible;
# wider screens scale it up (capped by the stylesheet).
WIDTH = 420
ROW_HEIGHT = 34


def compact_idr(value) -> str:
    """Rupiah in a few characters for a bar label."""
    return "" if value is None else formatting.idr(value)


def short_area_name(name: str) -> str:
    """ "Kota Administrasi Jakarta Pusat" -> "Jakarta Pusat": room for the bar on a phone."""
    for prefix in ("Kota Administrasi ", "Kabupaten Administrasi "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def forms_chart(data: DashboardData) -> SafeString:
    """Confirmed value per donation form beside its 2021 reported value; where no form of
    the programs has a reported value, confirmed commitments beside reported ones."""
    rows = data.forms
    by_value = any(r.reported_value_idr is not None for r in rows)
    if by_value:
        series = [
            (_("Confirmed value (IDR)"), [r.confirmed.value_idr for r in rows]),
            (_("Reported 2021 (IDR)"), [r.reported_value_idr for r in rows]),
        ]
    else:
        series = [
            (_("Confirmed commitments"), [r.confirmed.count for r in rows]),
            (_("Reported 2021: commitments"), [r.reported_commitments for r in rows]),
        ]
    # One panel per series, each on its own scale (issue 25): 34 live commitments and
    # 460,000 reported ones on one axis left the live bars invisible. The table beside the
    # chart has both figures side by side.
    labels = [str(r.donation_form.name) for r in rows]
    return mark_safe(  # noqa: S308 - each panel escapes its texts
        "".join(
            horizontal_bars_svg(
                labels,
                [one_series],
                height=68 + ROW_HEIGHT * max(len(rows), 1),
                formatter=compact_idr if by_value else formatting.number,
                legend=True,
                first_color=n,
            )
            for n, one_series in enumerate(series)
        )
    )


def forms_chart_by_value(data: DashboardData) -> bool:
    return any(r.reported_value_idr is not None for r in data.forms)


def months_chart(data: DashboardData) -> SafeString:
    """Commitments made each month, stacked by the state they are in now.

    Drawn here rather than by pygal: at two years of months by seven states pygal spent
    more time on this one chart (hundreds of bars, each with its tooltip data) than the
    dashboard on all its figures. Same look: pygal's classes, which the stylesheet colours."""
    labels = [m.month.strftime("%Y-%m") for m in data.months]
    # Every state, always in the same order: the stylesheet gives each its own colour.
    series = [
        (str(status.label), [m.by_status.get(status.value, 0) for m in data.months])
        for status in Status
    ]
    return stacked_bars_svg(labels, series, height=440)


def _nice_step(top: float, ticks: int = 8) -> int:
    """A step of 1, 2 or 5 times a power of ten giving at most `ticks` guides up to `top`."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if top / (step * factor) <= ticks:
                return step * factor
        step *= 10


def stacked_bars_svg(
    labels: list[str], series: list[tuple[str, list]], *, height: int
) -> SafeString:
    """Vertical bars, one per label, stacked by series (pygal's StackedBar markup, its
    classes and its layout: y guides, slanted x labels, legend in three columns below)."""
    legend_rows = -(-len(series) // 3)
    left, top, right = 56, 8, 8
    plot_w = WIDTH - left - right
    plot_h = height - top - 70 - 20 * legend_rows
    out = [_open_svg("stackedbar-graph vertical", height, left, top)]
    totals = [sum(values[i] or 0 for _name, values in series) for i in range(len(labels))]
    if not labels or not any(totals):
        return mark_safe("".join(out) + _no_data(plot_w, plot_h))  # noqa: S308 - escaped
    step = _nice_step(max(totals))
    scale = plot_h / (step * -(-max(totals) // step))
    out.append('<g class="axis y always_show">')
    for tick in range(0, int(max(totals)) + step, step):
        y = plot_h - tick * scale
        kind = "axis major line" if tick == 0 else "guide line"
        out.append(
            f'<g class="guides"><path d="M0 {y:.1f} h{plot_w}" class="{kind}"/>'
            f'<text x="-5" y="{y + 4:.1f}">{formatting.number(tick)}</text></g>'
        )
    slot = plot_w / len(labels)
    every = -(-len(labels) // 24)  # at most 24 month labels
    out.append(f'</g><g class="axis x"><path d="M0 0 v{plot_h}" class="line"/>')
    for i, label in enumerate(labels):
        if i % every == 0:
            x, y = (i + 0.5) * slot, plot_h + 14
            out.append(
                f'<g class="guides"><text x="{x:.1f}" y="{y:.1f}"'
                f' transform="rotate(-45 {x:.1f} {y:.1f})">{escape(label)}</text></g>'
            )
    out.append("</g>")
    bottoms = [0.0] * len(labels)
    for n, (_name, values) in enumerate(series):
        out.append(f'<g class="series serie-{n} color-{n}">')
        for i, value in enumerate(values):
            if value:
                h = value * scale
                bottoms[i] += h
                out.append(
                    f'<rect x="{i * slot + slot * 0.1:.1f}" y="{plot_h - bottoms[i]:.1f}"'
                    f' width="{slot * 0.8:.1f}" height="{h:.1f}" class="rect"/>'
                )
        out.append("</g>")
    out.append(
        f'</g><g transform="translate(16, {height - 20 * legend_rows - 4})" class="legends">'
    )
    column = (WIDTH - 32) / 3
    for n, (name, _values) in enumerate(series):
        x, y = (n % 3) * column, (n // 3) * 20
        out.append(
            f'<g class="legend"><rect x="{x:.1f}" y="{y + 0.5}" width="12" height="12"'
            f' class="color-{n}"/><text x="{x + 17:.1f}" y="{y + 10.4:.1f}">'
            f"{escape(_truncate(name, 14))}</text></g>"
        )
    out.append("</g></g></svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text is escaped


def areas_chart(rows: list[AreaRow]) -> SafeString:
    """Confirmed value per kota (or per kecamatan)."""
    return horizontal_bars_svg(
        [short_area_name(r.area.name) for r in rows],
        [(_("Confirmed value (IDR)"), [r.confirmed.value_idr for r in rows])],
        height=60 + ROW_HEIGHT * max(len(rows), 1),
        formatter=compact_idr,
        legend=False,
    )


def _truncate(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "\u2026"


def _no_data(width: float, height: float) -> str:
    return (
        f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" class="no_data">'
        f"{escape(_('No data'))}</text></g></g></svg>"
    )


def _open_svg(kind: str, height: int, left: int, top: int) -> str:
    return (
        f'<svg xmlns="{SVG}" class="pygal-chart" viewBox="0 0 {WIDTH} {height}" role="img"'
        f' aria-hidden="true" focusable="false"><g class="graph {kind}">'
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" class="background"/>'
        f'<g transform="translate({left}, {top})" class="plot">'
    )


def horizontal_bars_svg(
    labels: list[str],
    series: list[tuple[str, list]],
    *,
    height: int,
    formatter,
    legend: bool,
    first_color: int = 0,
) -> SafeString:
    """One band per label, top to bottom, with a bar per series in it and its value
    printed on it (pygal's HorizontalBar markup and classes; no value scale). A zero or
    missing value draws no bar: "Rp 0" over the label says less than nothing."""
    legend_h = 20 * len(series) + 8 if legend else 0
    left = 12 + 8 * min(max((len(label) for label in labels), default=0), 18)
    plot_w, plot_h = WIDTH - left - 8, height - 16 - legend_h
    out = [_open_svg("horizontalbar-graph horizontal", height, left, 8)]
    top = max((float(v) for _name, values in series for v in values if v), default=0)
    if not labels or not top:
        return mark_safe("".join(out) + _no_data(plot_w, plot_h))  # noqa: S308 - escaped
    band = plot_h / len(labels)
    out.append(f'<g class="axis y always_show"><path d="M0 0 v{plot_h:.1f}" class="line"/>')
    for i, label in enumerate(labels):
        short = _truncate(label, 18)
        out.append(
            f'<g class="guides"><text x="-5" y="{(i + 0.5) * band + 4:.1f}">'
            f"{escape(short)}</text></g>"
        )
    out.append("</g>")
    bar_h = band * 0.8 / len(series)
    values_out = []
    for n, (_name, values) in enumerate(series):
        out.append(f'<g class="series serie-{n} color-{n + first_color}">')
        for i, value in enumerate(values):
            if not value:
                continue
            y, w = i * band + band * 0.1 + n * bar_h, float(value) / top * plot_w
            out.append(
                f'<rect x="0" y="{y:.1f}" width="{w:.1f}" height="{bar_h:.1f}" class="rect"/>'
            )
            text = escape(formatter(value))
            x = min(max(w / 2, 4 * len(text)), plot_w - 4 * len(text))
            values_out.append(
                f'<text x="{x:.1f}" y="{y + bar_h / 2 + 4:.1f}" class="value">{text}</text>'
            )
        out.append("</g>")
    out.append(f'<g class="text-overlay">{"".join(values_out)}</g></g>')
    if legend:
        out.append(f'<g transform="translate(16, {height - legend_h})" class="legends">')
        for n, (name, _values) in enumerate(series):
            out.append(
                f'<g class="legend"><rect x="0" y="{n * 20 + 0.5}" width="12" height="12"'
                f' class="color-{n + first_color}"/><text x="17" y="{n * 20 + 10.4:.1f}">'
                f"{escape(_truncate(str(name), 24))}</text></g>"
            )
        out.append("</g>")
    out.append("</g></svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text is escaped

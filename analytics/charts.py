"""Charts drawn on the server as inline SVG: nothing to load, nothing from a CDN, readable without JavaScript.
Every bar and point carries a <title>, so hovering it tells its exact value."""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#2f6fb0", "#e08a2e", "#3a9a5b", "#c2473f", "#7b5ea7", "#8c6d4f", "#d06fb0", "#6b7785"]
INTENT_COLOURS = {"hot": "#c2473f", "warm": "#e08a2e", "cold": "#2f6fb0", "unclassified": "#9aa3ad"}


def colour_for(name: str, index: int) -> str:
    return INTENT_COLOURS.get(name, PALETTE[index % len(PALETTE)])


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _tick(value: float) -> str:
    """An axis label that fits: 1.2M, 35k, 2.5."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def _legend(names: Sequence[str], x: float, y: float) -> str:
    parts, offset = [], 0.0
    for index, name in enumerate(names):
        parts.append(
            f'<rect x="{x + offset:.1f}" y="{y - 9}" width="10" height="10" fill="{colour_for(name, index)}"/>'
            f'<text x="{x + offset + 14:.1f}" y="{y}" class="bp-legend">{escape(name)}</text>'
        )
        offset += 24 + 7 * len(name)
    return "".join(parts)


def _frame(
    width: int,
    height: int,
    title: str,
    names: Sequence[str],
    *,
    left: int,
    right: int,
    upper: int,
    plot_h: float,
    top: float,
    unit: str = "",
) -> list[str]:
    """The start of a chart: the SVG element, its title, the legend and three grid lines with their values."""
    out = [
        f'<svg class="bp-chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        _legend(names, left, 12),
    ]
    for fraction in (0, 0.5, 1):
        y = upper + plot_h * (1 - fraction)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="bp-grid"/>')
        out.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" class="bp-axis" text-anchor="end">'
            f"{escape(unit)}{_tick(top * fraction)}</text>"
        )
    return out


def stacked_bars(
    labels: Sequence[str], series: dict[str, Sequence[float]], *, title: str, width: int = 760, height: int = 220
) -> SafeString:
    """One bar per label (a day, say), stacked by series (a source, an intent)."""
    names = list(series)
    totals = [sum(series[name][i] for name in names) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    left, right, upper, lower = 40, 10, 24, 28
    plot_w, plot_h = width - left - right, height - upper - lower
    slot = plot_w / max(len(labels), 1)
    bar = max(1.0, slot * 0.75)
    out = _frame(width, height, title, names, left=left, right=right, upper=upper, plot_h=plot_h, top=top)
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar) / 2
        y: float = upper + plot_h
        for index, name in enumerate(names):
            value = series[name][i]
            if not value:
                continue
            h = plot_h * value / top
            y -= h
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour_for(name, index)}">'
                f"<title>{escape(label)}: {escape(name)} {value:g}</title></rect>"
            )
    step = max(1, len(labels) // 8)
    for i in range(0, len(labels), step):
        x = left + i * slot + slot / 2
        out.append(
            f'<text x="{x:.1f}" y="{height - 8}" class="bp-axis" text-anchor="middle">{escape(labels[i])}</text>'
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 (every label and name above is escaped)


def line_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    unit: str = "",
    width: int = 760,
    height: int = 200,
) -> SafeString:
    names = list(series)
    top = _nice_max(max((v for name in names for v in series[name]), default=0))
    left, right, upper, lower = 52, 10, 24, 28
    plot_w, plot_h = width - left - right, height - upper - lower
    step_x = plot_w / max(len(labels) - 1, 1)
    out = _frame(width, height, title, names, left=left, right=right, upper=upper, plot_h=plot_h, top=top, unit=unit)
    for index, name in enumerate(names):
        points = [(left + i * step_x, upper + plot_h * (1 - value / top)) for i, value in enumerate(series[name])]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        colour = colour_for(name, index)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for (x, y), label, value in zip(points, labels, series[name], strict=True):
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(label)}: {escape(name)} '
                f"{unit}{value:g}</title></circle>"
            )
    step = max(1, len(labels) // 8)
    for i in range(0, len(labels), step):
        out.append(
            f'<text x="{left + i * step_x:.1f}" y="{height - 8}" class="bp-axis" text-anchor="middle">'
            f"{escape(labels[i])}</text>"
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 (every label and name above is escaped)


def horizontal_bars(
    rows: Sequence[tuple[str, float, str]], *, title: str, width: int = 520, bar_height: int = 26
) -> SafeString:
    """A bar per row: (label, value, the text written beside the bar), scaled to the largest value."""
    top = max((value for _, value, _ in rows), default=0) or 1
    left, gap = 110, 8
    height = len(rows) * (bar_height + gap) + gap
    out = [
        f'<svg class="bp-chart bp-hbars" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value, text) in enumerate(rows):
        y = gap + i * (bar_height + gap)
        w = (width - left - 200) * value / top
        out.append(
            f'<text x="{left - 6}" y="{y + bar_height * 0.68:.1f}" class="bp-axis" text-anchor="end">{escape(label)}'
            f'</text><rect x="{left}" y="{y}" width="{max(w, 1):.1f}" height="{bar_height}" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
            f'<text x="{left + w + 6:.1f}" y="{y + bar_height * 0.68:.1f}" class="bp-value">{escape(text)}</text>'
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 (every label and text above is escaped)

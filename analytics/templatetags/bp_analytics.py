"""Formatting for the analytics pages: numbers by kind (percent, minutes, money, count) and the headline card,
whose explanation is written beside the number and repeated on hover, with the change against the period before."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()
NONE = "\u2013"  # an en dash: no value


@register.filter
def fmt(value: Any, kind: str = "count") -> str:
    if value is None:
        return NONE
    if kind == "percent":
        return f"{value * 100:.1f}%".replace(".0%", "%")
    if kind == "minutes":
        return f"{value:.0f} min" if value >= 10 else f"{value:.1f} min"
    if kind == "usd":
        return f"${value:.4f}" if value < 1 else f"${value:,.2f}"
    if kind == "ms":
        return f"{value:.0f} ms"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


@register.filter
def pvalue(value: float | None) -> str:
    if value is None:
        return NONE
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _change_text(change: dict[str, Any] | None, kind: str, better: str) -> SafeString | str:
    if not change:
        return ""
    if change["difference"] is None:
        return format_html('<span class="bp-change" title="{}">no previous value</span>', "Nothing to compare with")
    difference = change["difference"]
    if kind == "percent":
        amount = f"{abs(difference) * 100:.1f} pts"
    elif kind == "minutes":
        amount = f"{abs(difference):.1f} min"
    else:
        amount = fmt(abs(difference), kind)
    arrow = "▲" if difference > 0 else "▼" if difference < 0 else "="
    good = (difference > 0) == (better == "up") if difference else None
    css = "bp-good" if good else "bp-bad" if good is False else ""
    return format_html(
        '<span class="bp-change {}" title="Previous period: {}">{} {} vs the period before</span>',
        css,
        fmt(change["previous"], kind),
        arrow,
        amount,
    )


@register.simple_tag
def card(
    value: Any,
    kind: str,
    label: str,
    help_text: str,
    comparison: dict[str, Any] | None = None,
    key: str = "",
    better: str = "up",
) -> SafeString:
    """A headline number: its value, what it is, how it is counted (beside it and on hover), and its change."""
    change = (comparison or {}).get(key) if key else None
    return format_html(
        '<div class="bp-card" title="{}"><span class="bp-num">{}</span><span class="bp-label">{}</span>'
        '<span class="bp-help">{}</span>{}</div>',
        help_text,
        fmt(value, kind),
        label,
        help_text,
        _change_text(change, kind, better),
    )

"""`{% setup_checklist as items %}` for the admin home (templates/admin/index.html)."""

from __future__ import annotations

from django import template

from onboarding.checklist import Item, setup_checklist

register = template.Library()


@register.simple_tag
def setup_checklist_items() -> list[Item]:
    return setup_checklist()


@register.filter
def essentials_missing(items: list[Item]) -> bool:
    """The install is not set up for a business yet: no business profile, or no knowledge."""
    return any(not item.done for item in items if item.key in ("business", "knowledge"))

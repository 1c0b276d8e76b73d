"""Moving the rows that reference one object to another (merging two leads), one app at a time, so that each app
writes only its own tables."""

from __future__ import annotations

from django.db import models


def references_move(*, model: type[models.Model], source_id: int, target_id: int, app_label: str) -> dict[str, int]:
    """Point every row of `app_label`'s models that references `model` row `source_id` (a foreign key or one-to-one
    to its primary key) at row `target_id` instead. Returns {model label: rows moved} for the models that had any."""
    moved: dict[str, int] = {}
    for related, column in _references(model):
        if related._meta.app_label == app_label:
            count = related._base_manager.filter(**{column: source_id}).update(**{column: target_id})
            if count:
                moved[related._meta.label] = count
    return moved


def references_left(*, model: type[models.Model], source_id: int) -> dict[str, int]:
    """{model label: rows} of every app that still reference `model` row `source_id` (reads only)."""
    left: dict[str, int] = {}
    for related, column in _references(model):
        count = related._base_manager.filter(**{column: source_id}).count()
        if count:
            left[related._meta.label] = count
    return left


def _references(model: type[models.Model]) -> list[tuple[type[models.Model], str]]:
    """(referencing model, its column) for every foreign key and one-to-one pointing at `model`."""
    found = []
    for relation in model._meta.related_objects:
        related = relation.related_model
        if isinstance(related, type) and (relation.one_to_many or relation.one_to_one):
            found.append((related, relation.field.attname))
    return found

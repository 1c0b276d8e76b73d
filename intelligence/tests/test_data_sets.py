"""The seed examples and the held-out evaluation set are separate, sizeable and balanced."""

from __future__ import annotations

import csv
from collections import Counter

from django.conf import settings

DATA = settings.BASE_DIR / "intelligence"


def rows(path, text_column):
    with open(path, encoding="utf-8") as handle:
        return [(r[text_column], r["intent"]) for r in csv.DictReader(handle)]


def normalise(text: str) -> str:
    return " ".join(text.lower().split()).strip(" .!?")


def test_seed_set_has_at_least_200_varied_examples_of_every_intent():
    seed = rows(DATA / "data" / "intent_examples.csv", "text")
    assert len(seed) >= 200
    counts = Counter(intent for _, intent in seed)
    assert set(counts) == {"hot", "warm", "cold"} and min(counts.values()) >= 60
    assert len({normalise(t) for t, _ in seed}) == len(seed), "duplicate seed examples"


def test_held_out_set_has_at_least_150_rows_and_no_overlap_with_the_seed_examples():
    seed = {normalise(t) for t, _ in rows(DATA / "data" / "intent_examples.csv", "text")}
    held_out = rows(DATA / "eval" / "heldout.csv", "message")
    assert len(held_out) >= 150
    assert min(Counter(i for _, i in held_out).values()) >= 50
    overlap = [t for t, _ in held_out if normalise(t) in seed]
    assert overlap == []

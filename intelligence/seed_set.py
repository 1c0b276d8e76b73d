"""The labelled seed examples shipped with BizPilot (intelligence/data/intent_examples.csv: text, intent, kind,
style, business, language), read without the database: the loaders add them (examples.py), and the English
reader's model takes the seed's English rows by the language the file gives (classifier.py)."""

from __future__ import annotations

import csv
from pathlib import Path

SEED_EXAMPLES = Path(__file__).resolve().parent / "data" / "intent_examples.csv"


def seed_examples(path: Path = SEED_EXAMPLES, *, languages: frozenset[str] | None = None) -> list[tuple[str, str, str]]:
    """The labelled seed examples (text, intent, kind) shipped with BizPilot, in the languages the active encoder
    reads (`languages`, default language.local_languages()). An English-only encoder learns nothing from Polish
    examples but their noise (they lowered how sure it is of an English vendor's pitch from 0.84 to 0.78); a
    multilingual one gets every language, the next time the seed set is loaded (`make run` does it at each start)."""
    from intelligence.language import local_languages

    wanted = local_languages() if languages is None else languages
    with open(path, encoding="utf-8") as handle:
        return [
            (row["text"], row["intent"], row.get("kind") or "")
            for row in csv.DictReader(handle)
            if (row.get("language") or "en") in wanted
        ]


__all__ = ["SEED_EXAMPLES", "seed_examples"]

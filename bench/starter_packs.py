"""Do the starter packs' labelled examples hurt classification of other leads? On a database of its own with the
shared intent examples (what `make run` loads), each evaluation set is classified with the shared examples alone
(the baseline, in the same process), then with each trade's six examples added, then with all eleven packs' added.
Each pack is added in a transaction that is rolled back before the next.

    .venv/bin/python bench/starter_packs.py

The sets: intelligence/eval/heldout.csv (written by the team, in the seed set's style) and public_chat.csv
(written by others). Neither holds trade leads written for a pack, so this measures harm to other leads, not the
gain on a trade's own leads: that needs leads of those trades written by others, which we do not have."""

from __future__ import annotations

import json
import os

from common import ROOT, bench_database, manage


def main() -> None:
    url = bench_database("bizpilot_bench_packs", fresh=True)
    manage(url, "setup_install")
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.db import transaction

    from intelligence.evaluation import evaluate, read_labelled_csv
    from intelligence.examples import examples_changed, intent_examples_add
    from intelligence.models import IntentExample
    from onboarding.pack_data import PACKS

    sets = {
        name: read_labelled_csv(ROOT / "intelligence" / "eval" / f"{name}.csv") for name in ("heldout", "public_chat")
    }

    def scores() -> dict[str, dict[str, float]]:
        examples_changed()
        out = {}
        for name, rows in sets.items():
            report = evaluate(rows)
            out[name] = {
                "accuracy": round(report["accuracy"], 3),
                "macro_f1": round(report["macro_f1"], 3),
                "confidently_wrong": round(report["confidently_wrong"], 3),
            }
        return out

    class Undo(Exception):
        pass

    def with_examples(examples: list[tuple[str, str]]) -> dict[str, dict[str, float]]:
        result: dict[str, dict[str, float]] = {}
        try:
            with transaction.atomic():
                intent_examples_add(examples=examples, origin=IntentExample.Origin.PACK)
                result = scores()
                raise Undo
        except Undo:
            pass
        examples_changed()
        return result

    baseline = scores()
    rows = {"shared examples only": baseline}
    for pack in PACKS:
        rows[pack.key] = with_examples(list(pack.examples))
    rows["all eleven packs"] = with_examples([e for pack in PACKS for e in pack.examples])
    print(json.dumps(rows, indent=1))
    print("| examples | heldout accuracy | confidently wrong | public_chat accuracy | confidently wrong |")
    print("| --- | --- | --- | --- | --- |")
    for name, result in rows.items():
        h, p = result["heldout"], result["public_chat"]
        cells = [h["accuracy"], h["confidently_wrong"], p["accuracy"], p["confidently_wrong"]]
        print(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")


if __name__ == "__main__":
    main()

"""How many input tokens a draft's prompt takes at k=3, over the held-out leads, with and without voice examples.

    .venv/bin/python manage.py seed_demo      # the labelled examples and the demo knowledge base must be loaded
    .venv/bin/python bench/prompt_size.py     # reads only

Tokens are the product's estimate (characters / 3.2, plus the tool schema and 350 tokens of tool-use overhead);
the WordPiece count of the same prompt (MiniLM's tokenizer, offline) is printed beside it as a cross-check.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizpilot.settings")

TYPICAL_REPLY = (
    "Hi [FIRST_NAME],\n\nThanks for getting in touch about a new website for your salon. A marketing site like the "
    "one you describe usually takes 4 to 6 weeks from kickoff to launch, and online booking fits in easily: we "
    "connect Fresha or Calendly and style it to match. Our Business package starts at the price in our guide, and "
    "we would confirm the exact scope on a short call.\n\nCould we have 15 minutes this week? Reply with two times "
    "that suit you and I will send an invite.\n\nBest regards,\nMaya\nNorthwind Web Studio"
)  # 110 words: a typical approved email reply


def main() -> None:
    import django

    django.setup()
    from bizpilot.stats import percentile
    from intelligence.classification import classify_text
    from intelligence.embeddings import embedder_for
    from intelligence.evaluation import read_labelled_csv
    from intelligence.models import VoiceExample
    from intelligence.prompt_templates import prompt_template_live
    from intelligence.prompts import LeadFacts, build_prompt
    from intelligence.redaction import Redactor

    count_tokens = embedder_for("all-MiniLM-L6-v2").count_tokens
    rows = read_labelled_csv(ROOT / "intelligence/eval/heldout.csv")
    typical = [VoiceExample(pk=i, lead_text=rows[i].message, reply_text=TYPICAL_REPLY) for i in (0, 1)]
    maximal = [VoiceExample(pk=i, lead_text="x " * 1000, reply_text="y " * 2000) for i in (0, 1)]
    print(
        "| voice examples | channel | p50 tokens | p95 | max | over 1,500 before trimming | trimmed | WordPiece p50 |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    classified = [(row, classify_text(text=row.message)) for row in rows]
    for label, examples in [("none", []), ("2 typical", typical), ("2 at the length cap", maximal)]:
        for channel in ("email", "sms"):
            sizes, untrimmed_over, trimmed, wordpiece = [], 0, 0, []
            for row, result in classified:
                kwargs: dict[str, Any] = dict(
                    lead=LeadFacts(None, "Ruth Okafor", "Okafor Salon", channel, "Website", row.message),
                    template=prompt_template_live(intent=row.intent, channel=channel),
                    snippets=[vars(s) for s in result.snippets],
                    redactor=Redactor(name="Ruth Okafor"),
                    examples=examples,
                )
                untrimmed_over += build_prompt(**kwargs, budget=10**9).tokens > 1500
                prompt = build_prompt(**kwargs)
                sizes.append(prompt.tokens)
                trimmed += bool(prompt.trimmed)
                wordpiece.append(count_tokens(prompt.system + prompt.user))
            print(
                f"| {label} | {channel} | {percentile(sizes, 50)} | {percentile(sizes, 95)} | {max(sizes)} | "
                f"{untrimmed_over}/{len(sizes)} | {trimmed}/{len(sizes)} | {percentile(wordpiece, 50)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

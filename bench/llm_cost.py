"""LLM cost per draft, with and without prompt caching, billed as the Messages API bills it.

    .venv/bin/python manage.py seed_demo    # the demo knowledge and labelled examples
    .venv/bin/python bench/llm_cost.py [--leads 60]

Drafts the first N held-out leads through the real pipeline (classify, retrieve, build the prompt, the real
`anthropic` SDK) against the local stub, which bills each request as the API documents prompt caching
(intelligence.tests.anthropic_stub.PromptCache: the prefix up to the last cache_control block, a minimum length,
five minutes' life). The reply is a typical approved email (110 words), so the output tokens are realistic. Costs
come from ModelCall.cost_usd at LLM_PRICES_PER_MTOK for claude-sonnet-4-6 ($3 input, $15 output, $3.75 cache write,
$0.30 cache read per million tokens). Everything runs in a transaction that is rolled back: the database is left
as it was.
"""

from __future__ import annotations

import argparse
import os
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizpilot.settings")

REPLY = {
    "subject": "Your new website",
    "body": (
        "Hi [FIRST_NAME],\n\nThanks for getting in touch about a new website. A marketing site like the one you "
        "describe usually takes 4 to 6 weeks from kickoff to launch, and online booking fits in easily: we connect "
        "Fresha or Calendly and style it to match. Our Business package starts at the price in our guide, and we "
        "would confirm the exact scope on a short call.\n\nCould we have 15 minutes this week? Reply with two "
        "times that suit you and I will send an invite.\n\nBest regards,\nMaya"
    ),
    "confidence": 0.86,
    "reasoning": "A concrete request with a timeline; the knowledge covers timelines, booking and packages.",
    "facts_used": ["Timeline", "Booking"],
}


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=60)
    args = parser.parse_args()
    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction

    from intelligence.evaluation import read_labelled_csv
    from intelligence.models import ModelCall
    from intelligence.tests.anthropic_stub import AnthropicStub, StubResponse, tool_use_message
    from leads.ingest import LeadInput, lead_ingest
    from messaging.pipeline import lead_process

    rows = read_labelled_csv(ROOT / "intelligence/eval/heldout.csv")[: args.leads]
    settings.ANTHROPIC_API_KEY = "sk-ant-bench"
    settings.LLM_MODEL = "claude-sonnet-4-6"
    settings.CLASSIFIER_ARBITRATION_THRESHOLD = 0.0  # one call per lead: the draft
    settings.Q_CLUSTER["sync"] = True
    from django_q.conf import Conf

    Conf.SYNC = True
    prices = settings.LLM_PRICES_PER_MTOK["claude-sonnet-4-6"]
    print(f"{len(rows)} held-out leads drafted per row; prices per million tokens {prices}\n")
    print("| prompt | cached prefix | input | cache write | cache read | output | cost per draft | vs no caching |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    baseline = None
    for label, caching, minimum in [
        ("retrieved snippets only, no caching", False, 1024),
        ("whole knowledge in the system prompt, cached (1,024-token minimum: Sonnet 4.5)", True, 1024),
        ("caching on, 2,048-token minimum (Sonnet 4.6): too short to cache, so built as without", True, 2048),
    ]:
        stub = AnthropicStub(cache_min_tokens=minimum).start()
        stub.queue(StubResponse(200, tool_use_message(REPLY)))
        os.environ["ANTHROPIC_BASE_URL"] = stub.base_url
        settings.LLM_PROMPT_CACHING = caching
        settings.LLM_CACHE_MIN_TOKENS = minimum
        try:
            with transaction.atomic():
                first = ModelCall.objects.order_by("-id").values_list("id", flat=True).first() or 0
                for i, row in enumerate(rows):
                    lead = lead_ingest(
                        data=LeadInput(name=f"Sam Lee {i}", email=f"bench{i}@cost.example", message=row.message),
                        channel="api",
                        actor="bench",
                        raw_payload={},
                    )
                    lead_process(lead_id=lead.pk)
                calls = list(ModelCall.objects.filter(pk__gt=first, operation="draft", provider="anthropic"))
                raise Rollback
        except Rollback:
            pass
        finally:
            stub.stop()
        n = len(calls)
        cost = sum((c.cost_usd for c in calls), Decimal(0)) / n
        baseline = baseline or cost

        def mean(field: str, calls: list = calls) -> float:
            return sum(getattr(c, field) for c in calls) / len(calls)

        prefix = max(c.cache_creation_tokens for c in calls) or "none"
        print(
            f"| {label} | {prefix} | {mean('input_tokens'):.0f} | {mean('cache_creation_tokens'):.0f} | "
            f"{mean('cache_read_tokens'):.0f} | {mean('output_tokens'):.0f} | ${cost:.4f} | {cost / baseline:.2f}x |"
        )


if __name__ == "__main__":
    main()

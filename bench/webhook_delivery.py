"""Outbound webhooks at volume: 1,000 events for 40 leads to a receiver that fails the first two attempts of every
delivery (3,000 attempts), dispatched with a simulated clock (`integrations.delivery.webhooks_dispatch`), on a
database of its own. It checks what the suite's smaller test checks (each event delivered, each webhook-id
processed once by the idempotent receiver, in order per lead) and reports attempts per second against a baseline in
the same command: the same events to a receiver that never fails (1,000 attempts).

    .venv/bin/python bench/webhook_delivery.py [--events 1000]"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from datetime import timedelta

from common import bench_database


def run(events: int, fail_first: int) -> dict:
    from django.utils import timezone

    from integrations.delivery import webhooks_dispatch
    from integrations.events import subscriptions_changed, webhook_event_record
    from integrations.models import WebhookDelivery, WebhookEvent, WebhookSubscription
    from integrations.tests.receiver import Receiver
    from leads.models import Lead

    WebhookEvent.objects.all().delete()
    WebhookSubscription.objects.all().delete()
    subscription = WebhookSubscription.objects.create(name="bench", url="http://127.0.0.1:1/")
    receiver = Receiver(subscription.secret, fail_first=fail_first).start()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(url=receiver.url)
    subscriptions_changed()
    leads = [Lead.objects.create(name=f"Bench {i}") for i in range(40)]
    for n in range(events):
        lead = leads[n % len(leads)]
        webhook_event_record(
            type="lead.classified",
            key=f"bench-{fail_first}-{n}",
            lead_id=lead.pk,
            data={"lead": {"id": lead.pk}, "n": n},
        )
    started, now = time.perf_counter(), timezone.now()
    attempts = 0
    while WebhookDelivery.objects.filter(status="pending").exists():
        attempts += webhooks_dispatch(now=now)
        now += timedelta(seconds=30)
    took = time.perf_counter() - started
    receiver.stop()
    ids = [event["id"] for event in receiver.processed]
    per_lead: dict[int, list[int]] = {}
    for event in receiver.processed:
        per_lead.setdefault(event["data"]["lead"]["id"], []).append(event["data"]["n"])
    return {
        "fail_first": fail_first,
        "events": events,
        "attempts": attempts,
        "seconds": round(took, 2),
        "attempts_per_second": round(attempts / took, 1),
        "all_delivered": WebhookDelivery.objects.filter(status="delivered").count() == events,
        "each_id_processed_once": len(ids) == events == len(set(ids)),
        "in_order_per_lead": all(numbers == sorted(numbers) for numbers in per_lead.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = bench_database("bizpilot_bench_webhooks", fresh=True)
    import django

    django.setup()
    import structlog

    # A log line per delivery would be the bench's cost.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    baseline, failing = run(args.events, 0), run(args.events, 2)
    ratio = failing["attempts_per_second"] / baseline["attempts_per_second"]
    print(json.dumps({"baseline": baseline, "failing_twice": failing, "rate_ratio": round(ratio, 3)}, indent=1))


if __name__ == "__main__":
    main()

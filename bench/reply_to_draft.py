"""How fast a lead's answer gets its draft on the fallback path (no LLM configured): real `run_worker` processes
with the default workers (2 on each queue), replies arriving through ingest (as the inbound webhooks store them),
each reply's wait from its arrival to its answer's draft, p50 and p95.

    .venv/bin/python bench/reply_to_draft.py [--replies 200] [--rate 2] [--burst]

Runs on a database of its own (the demo knowledge and labelled examples). Each reply comes from a different lead
whose first reply was sent (made in this process first). Replies arrive at `--rate` per second (2/s is 7,200 an
hour, far beyond a small business); `--burst` also posts them all at once, to show the queue's cost. Reply texts
are the labelled replies' (intelligence/data/reply_examples.csv), each made unique."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, bench_database, manage

from bizpilot.stats import percentile


def contacted_leads(n: int, tag: str) -> list[int]:
    """n leads whose first reply went out (drafted and sent in this process, emails kept in memory)."""
    from leads.ingest import LeadInput, lead_ingest
    from messaging.models import Message
    from messaging.pipeline import lead_process
    from messaging.review import message_approve
    from messaging.sending import message_send

    ids = []
    for i in range(n):
        lead = lead_ingest(
            data=LeadInput(name=f"Bench {i}", email=f"{tag}-{i}@replies.example", message="Can you quote a website?"),
            channel="api",
            actor="bench",
            raw_payload={},
        )
        lead_process(lead_id=lead.pk)
        message = Message.objects.get(lead=lead)
        message_approve(message_id=message.pk, actor="user:bench")
        message_send(message_id=message.pk)
        ids.append(lead.pk)
    return ids


def reply_texts(n: int) -> list[str]:
    from intelligence.replies import load_replies

    rows = [r for r in load_replies() if r.kind != "auto_reply"]
    return [f"{rows[i % len(rows)].text} ({i})" for i in range(n)]


def post_replies(lead_ids: list[int], tag: str, rate: float | None) -> list[int]:
    from leads.ingest import LeadInput, lead_ingest
    from leads.models import InboundMessage

    inbound_ids = []
    started = time.monotonic()
    for n, (lead_id, text) in enumerate(zip(lead_ids, reply_texts(len(lead_ids)), strict=True)):
        if rate:
            time.sleep(max(0.0, started + n / rate - time.monotonic()))
        lead_ingest(
            data=LeadInput(email=f"{tag}-{n}@replies.example", subject="Re: Your website", message=text),
            channel="email",
            actor="bench",
            raw_payload={},
        )
        inbound_ids.append(InboundMessage.objects.filter(lead_id=lead_id).latest("received_at").pk)
    return inbound_ids


def run(database: str, *, replies: int, rate: float | None) -> dict:
    from bizpilot.worker import ready_workers
    from intelligence.models import ReplyClassification
    from leads.models import InboundMessage
    from messaging.models import Message

    tag = f"r{time.time_ns()}"
    lead_ids = contacted_leads(replies, tag)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_q_ormq")  # the first replies' jobs already ran in this process
    env = {**os.environ, "DATABASE_URL": database, "JOBS_SYNC": "0", "LOG_LEVEL": "WARNING", "ANTHROPIC_API_KEY": ""}
    worker = subprocess.Popen([sys.executable, "manage.py", "run_worker"], cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while ready_workers(worker.pid) < 4:
            assert time.monotonic() < deadline and worker.poll() is None, "the workers did not start"
            time.sleep(0.5)
        inbound_ids = post_replies(lead_ids, tag, rate)
        started = time.monotonic()
        while ReplyClassification.objects.filter(inbound_id__in=inbound_ids).count() < len(inbound_ids):
            assert time.monotonic() - started < 1800 and worker.poll() is None, "the turns stalled"
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    arrived = dict(InboundMessage.objects.filter(pk__in=inbound_ids).values_list("pk", "received_at"))
    drafted = dict(Message.objects.filter(in_reply_to_id__in=inbound_ids).values_list("in_reply_to_id", "created_at"))
    waits = [(drafted[i] - arrived[i]).total_seconds() for i in inbound_ids if i in drafted]
    stated = ReplyClassification.objects.filter(inbound_id__in=inbound_ids, outcome__startswith="no answer").count()
    return {
        "replies": len(inbound_ids),
        "arrival": f"{rate}/s" if rate else "all at once",
        "drafted": len(waits),
        "no_answer_with_reason": stated,
        "reply_to_draft_p50_s": round(percentile(waits, 50), 2),
        "reply_to_draft_p95_s": round(percentile(waits, 95), 2),
        "reply_to_draft_max_s": round(max(waits), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--burst", action="store_true")
    parser.add_argument("--database", default="bizpilot_bench_replies")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    database = bench_database(args.database, fresh=True)
    manage(database, "seed_demo")
    os.environ["DATABASE_URL"] = database
    os.environ["JOBS_SYNC"] = "0"
    os.environ["ANTHROPIC_API_KEY"] = ""
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    import django

    django.setup()
    from django_q.conf import Conf

    Conf.SYNC = False
    results = [run(database, replies=args.replies, rate=args.rate)]
    if args.burst:
        results.append(run(database, replies=args.replies, rate=None))
    if args.json:
        print(json.dumps(results, indent=1))
        return
    print("| replies | arrival | drafted | no answer (stated reason) | reply-to-draft p50 s | p95 s | max s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['replies']} | {r['arrival']} | {r['drafted']} | {r['no_answer_with_reason']} | "
            f"{r['reply_to_draft_p50_s']} | {r['reply_to_draft_p95_s']} | {r['reply_to_draft_max_s']} |"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()

"""Pipeline throughput and stage costs: leads per hour from ingest to draft with real `run_worker` processes on the
LLM queue (1, 2 and 4 worker processes), Claude played by the local stub with a fixed delay, and p50/p95 of each
stage (embed, retrieve, classify, draft, checks) timed in this process over the same kind of leads.

    .venv/bin/python bench/pipeline.py [--leads 200] [--llm-delay 0.5] [--workers 1 2 4] [--existing]

Runs on a database of its own (seeded with the demo knowledge and labelled examples). Lead texts are the held-out
set's, each made unique (so no embedding is served from a cache). Leads/hour = leads / (last drafted - first
posted). `--existing` keeps the database as it is (the cost-growth runs fill it first)."""

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


def texts(n: int) -> list[str]:
    from intelligence.evaluation import read_labelled_csv

    rows = read_labelled_csv(ROOT / "intelligence/eval/heldout.csv")
    return [f"{rows[i % len(rows)].message} (Ref {i}-{time.time_ns() % 100000})" for i in range(n)]


def post_leads(n: int, tag: str) -> list[int]:
    from leads.ingest import LeadInput, lead_ingest

    return [
        lead_ingest(
            data=LeadInput(name=f"Bench {i}", email=f"{tag}-{i}@pipeline.example", message=text),
            channel="api",
            actor="bench",
            raw_payload={},
        ).pk
        for i, text in enumerate(texts(n))
    ]


def throughput(database: str, *, workers: int, leads: int, stub_url: str) -> dict:
    from bizpilot.worker import ready_workers
    from leads.models import Lead
    from messaging.models import Message

    env = {
        **os.environ,
        "DATABASE_URL": database,
        "JOBS_SYNC": "0",
        "LLM_WORKER_PROCESSES": str(workers),
        "ANTHROPIC_API_KEY": "sk-ant-bench",
        "ANTHROPIC_BASE_URL": stub_url,
        "LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--queue", "bizpilot-llm"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while ready_workers(worker.pid) < workers:
            assert time.monotonic() < deadline and worker.poll() is None, "the workers did not start"
            time.sleep(0.5)
        started = time.monotonic()
        ids = post_leads(leads, f"w{workers}-{time.time_ns()}")
        posted = time.monotonic() - started
        while Message.objects.filter(lead_id__in=ids).count() < len(ids):
            assert time.monotonic() - started < 1800 and worker.poll() is None, "drafting stalled"
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    waits = [
        (drafted - created).total_seconds()
        for created, drafted in Lead.objects.filter(pk__in=ids).values_list("created_at", "drafted_at")
        if drafted is not None
    ]
    return {
        "workers": workers,
        "leads": len(ids),
        "posted_seconds": round(posted, 1),
        "seconds": round(elapsed, 1),
        "leads_per_hour": round(len(ids) / elapsed * 3600),
        "lead_to_draft_p50_s": round(percentile(waits, 50), 2),
        "lead_to_draft_p95_s": round(percentile(waits, 95), 2),
    }


def stage_costs(leads: int) -> dict:
    """Each stage of lead_process timed per lead, in this process (the stub's delay is inside `draft`)."""
    from intelligence import classification, drafting
    from intelligence.embeddings import Embedder
    from messaging.pipeline import lead_process

    timings: dict[str, list[float]] = {}
    current: dict[str, float] = {}  # this lead's time in each stage (a stage may run more than once per lead)

    def timed(stage, func):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                current[stage] = current.get(stage, 0.0) + (time.perf_counter() - started) * 1000

        return wrapper

    originals = {
        (Embedder, "embed_one"): Embedder.embed_one,
        (classification, "retrieve"): classification.retrieve,
        (classification, "rank_snippets"): classification.rank_snippets,
        (classification, "classify_text"): classification.classify_text,
        (drafting, "draft_reply"): drafting.draft_reply,
        (drafting, "draft_checks"): drafting.draft_checks,
    }
    setattr(Embedder, "embed_one", timed("embed", Embedder.embed_one))  # noqa: B010
    classification.retrieve = timed("retrieve", classification.retrieve)
    classification.rank_snippets = timed("rank", classification.rank_snippets)
    classification.classify_text = timed("classify_total", classification.classify_text)
    drafting.draft_reply = timed("draft", drafting.draft_reply)
    drafting.draft_checks = timed("checks", drafting.draft_checks)
    try:
        ids = post_leads(5, f"warm-{time.time_ns()}") + post_leads(leads, f"stages-{time.time_ns()}")
        for n, lead_id in enumerate(ids):
            current.clear()
            lead_process(lead_id=lead_id)
            if n < 5:
                continue  # warm-up leads
            get = current.get
            found = get("retrieve", 0.0) + get("rank", 0.0)
            per_lead = {
                "embed": get("embed", 0.0),
                "retrieve": found,
                "classify": get("classify_total", 0.0) - get("embed", 0.0) - found,
                "draft": get("draft", 0.0),
                "checks": get("checks", 0.0),
            }
            for stage, ms in per_lead.items():
                timings.setdefault(stage, []).append(ms)
    finally:
        for (owner, name), original in originals.items():
            setattr(owner, name, original)
    return {
        stage: {"p50_ms": round(percentile(v, 50), 1), "p95_ms": round(percentile(v, 95), 1), "n": len(v)}
        for stage, v in timings.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=200)
    parser.add_argument("--stage-leads", type=int, default=60)
    parser.add_argument("--llm-delay", type=float, default=0.5)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--database", default="bizpilot_bench_pipeline")
    parser.add_argument("--existing", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    database = bench_database(args.database, fresh=not args.existing)
    manage(database, "seed_demo")
    os.environ["DATABASE_URL"] = database
    os.environ["JOBS_SYNC"] = "0"
    import django

    django.setup()
    from django.conf import settings
    from django_q.conf import Conf

    from intelligence.tests.anthropic_stub import AnthropicStub, StubResponse, tool_use_message

    Conf.SYNC = False
    reply = {
        "subject": "Your website",
        "body": "Hi [FIRST_NAME],\n\nHappy to help: could we talk this week?\n\nMaya",
        "confidence": 0.9,
        "reasoning": "A clear request",
        "facts_used": [],
    }
    stub = AnthropicStub(cache_min_tokens=1024).start()
    stub.queue(StubResponse(200, tool_use_message(reply), delay=args.llm_delay))
    os.environ["ANTHROPIC_BASE_URL"] = stub.base_url
    settings.ANTHROPIC_API_KEY = "sk-ant-bench"
    try:
        runs = [throughput(database, workers=n, leads=args.leads, stub_url=stub.base_url) for n in args.workers]
        stages = stage_costs(args.stage_leads)
    finally:
        stub.stop()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_q_ormq")  # the in-process leads' queued jobs: nobody runs them
    result = {"llm_delay_s": args.llm_delay, "throughput": runs, "stages": stages}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"Claude stubbed with a {args.llm_delay} s answer; {args.leads} leads per run\n")
    print("| LLM worker processes | leads/hour | seconds | lead-to-draft p50 s | p95 s | vs 1 process |")
    print("| --- | --- | --- | --- | --- | --- |")
    for run in runs:
        print(
            f"| {run['workers']} | {run['leads_per_hour']:,} | {run['seconds']} | {run['lead_to_draft_p50_s']} | "
            f"{run['lead_to_draft_p95_s']} | {run['leads_per_hour'] / runs[0]['leads_per_hour']:.2f}x |"
        )
    print("\n| stage | p50 ms | p95 ms | n |\n| --- | --- | --- | --- |")
    for stage, t in stages.items():
        print(f"| {stage} | {t['p50_ms']} | {t['p95_ms']} | {t['n']} |")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()

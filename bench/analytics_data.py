"""Fill a database with a business's worth of history for the analytics benchmark (and screenshots): N leads over
the last D days, with their inbound messages, classifications (some corrected by operators), replies (drafted,
reviewed, sent; some auto-sent, some holdout), about 3 delivery events per lead and one model call per lead.

    .venv/bin/python bench/analytics_data.py --leads 100000 --days 90      # into the current DATABASE_URL

In SQL with generate_series (100k leads in about a minute); nothing is embedded. Rows are marked
`source = 'bench'` / provider `bench` so they are easy to tell apart. Used by bench/analytics_pages.py."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizpilot.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

STATEMENTS = [
    # Leads: a day spread over the range, a source, an intent, and where they ended.
    """
    INSERT INTO leads_lead (name, email, phone, company, source, preferred_channel, metadata, state, intent,
        intent_confidence, processing_attempts, processing_by, last_error, auto_process, created_by, created_at,
        updated_at)
    SELECT 'Lead ' || g, 'lead' || g || '@bench.example', '', '',
           (ARRAY['bench-web','bench-email','bench-typeform','bench-sms','bench-csv'])[1 + (g %% 5)],
           CASE WHEN g %% 5 = 3 THEN 'sms' ELSE 'email' END, '{}'::jsonb,
           (ARRAY['contacted','contacted','replied','converted','lost','drafted','contacted','replied'])[1 + (g %% 8)],
           (ARRAY['hot','warm','warm','cold'])[1 + (g %% 4)], 0.5 + (g %% 50) / 100.0, 1, '', '', true, 'bench',
           now() - (%(days)s * interval '1 day') * random(), now()
    FROM generate_series(1, %(leads)s) g
    """,
    """
    INSERT INTO leads_inboundmessage (lead_id, channel, subject, body, raw_payload, provider_message_id,
        request_fingerprint, received_at)
    SELECT id, 'api', '', 'We need a website', '{}'::jsonb, '', '', created_at FROM leads_lead
    WHERE source LIKE 'bench-%%'
    """,
    """
    INSERT INTO intelligence_classification (lead_id, intent, confidence, scores, method, explanation, snippets,
        embedding_model, latency_ms, kind, language, decided_by, created_at)
    SELECT id, intent, 0.35 + random() * 0.64, '{}'::jsonb, 'ensemble', '{}'::jsonb, '[]'::jsonb, 'bench',
           15 + random() * 20, 'prospect', 'en', 'classifier', created_at + interval '2 seconds'
    FROM leads_lead WHERE source LIKE 'bench-%%'
    """,
    # One operator correction in twenty.
    """
    INSERT INTO intelligence_classification (lead_id, intent, confidence, scores, method, explanation, snippets,
        embedding_model, latency_ms, kind, language, decided_by, created_at)
    SELECT id, CASE WHEN intent = 'hot' THEN 'warm' ELSE 'hot' END, 1, '{}'::jsonb, 'operator', '{}'::jsonb,
           '[]'::jsonb, '', 0, 'prospect', 'en', 'classifier', created_at + interval '1 hour'
    FROM leads_lead WHERE source LIKE 'bench-%%' AND id %% 20 = 0
    """,
    """
    INSERT INTO intelligence_modelcall (created_at, operation, provider, model, lead_id, input_tokens,
        output_tokens, cache_creation_tokens, cache_read_tokens, cost_usd, latency_ms, status, error, request,
        response, voice_examples)
    SELECT created_at + interval '3 seconds', 'draft', 'bench', 'claude-bench', id, 900, 160, 0, 600, 0.0039,
           800 + random() * 1500, CASE WHEN id %% 50 = 0 THEN 'error' ELSE 'ok' END, '', '{}'::jsonb, '{}'::jsonb,
           '[]'::jsonb
    FROM leads_lead WHERE source LIKE 'bench-%%'
    """,
    # The first reply: most sent (some automatically, some edited), some rejected or waiting; 5% holdout.
    """
    INSERT INTO messaging_message (lead_id, in_reply_to_id, classification_id, channel, to_address, original_subject,
        original_body, subject, body, status, generated_by, generation_reason, template_name, checks_failed,
        injection_signals, auto_send_decision, content_sid, content_variables, edit_size, approved_hash, approved_by,
        reviewed_by, rejected_reason, send_attempts, provider_message_id, last_error, created_at, updated_at,
        approved_at, sent_at, draft_confidence, review_rank)
    SELECT l.id, i.id, NULL, l.preferred_channel, l.email, 'Re: website', 'Thanks for writing', 'Re: website',
           'Thanks for writing', CASE WHEN l.state = 'drafted' THEN 'pending_review'
                                      WHEN l.id %% 17 = 0 THEN 'rejected' ELSE 'delivered' END,
           CASE WHEN l.id %% 20 = 7 THEN 'holdout' WHEN l.id %% 3 = 0 THEN 'fallback' ELSE 'llm' END, '', 'bench',
           '[]'::jsonb, '[]'::jsonb, '', '', '{}'::jsonb, CASE WHEN l.id %% 6 = 0 THEN 40 ELSE 0 END, '',
           CASE WHEN l.id %% 4 = 0 THEN 'system:auto-send' ELSE 'user:operator' END, 'user:operator', '', 1, '', '',
           l.created_at + interval '4 seconds', now(),
           CASE WHEN l.state <> 'drafted' AND l.id %% 17 <> 0 THEN l.created_at + interval '5 minutes' END,
           CASE WHEN l.state <> 'drafted' AND l.id %% 17 <> 0
                THEN l.created_at + interval '5 minutes' + random() * interval '3 hours' END,
           0.6 + random() * 0.39,
           CASE l.intent WHEN 'hot' THEN 0 WHEN 'warm' THEN 1 WHEN 'cold' THEN 2 ELSE 3 END
    FROM leads_lead l JOIN leads_inboundmessage i ON i.lead_id = l.id WHERE l.source LIKE 'bench-%%'
    """,
    # What the leads that replied wrote back.
    """
    INSERT INTO leads_inboundmessage (lead_id, channel, subject, body, raw_payload, provider_message_id,
        request_fingerprint, received_at)
    SELECT l.id, 'api', '', 'Yes please', '{}'::jsonb, '', '', m.sent_at + interval '1 day'
    FROM leads_lead l JOIN messaging_message m ON m.lead_id = l.id
    WHERE l.source LIKE 'bench-%%' AND l.state IN ('replied', 'converted') AND m.sent_at IS NOT NULL
    """,
    # Four events per sent message (about 3.2 per lead): delivered, opened (some by machines), clicked, opened again.
    """
    INSERT INTO messaging_deliveryevent (message_id, event_type, provider, provider_event_id, occurred_at, payload,
        is_machine, machine_reason, created_at)
    SELECT m.id, e.kind, 'bench', 'bench-' || m.id || '-' || e.n, m.sent_at + e.n * interval '10 minutes',
           '{}'::jsonb, e.kind = 'opened' AND m.id %% 5 = 0, '', now()
    FROM messaging_message m
    JOIN leads_lead l ON l.id = m.lead_id AND l.source LIKE 'bench-%%'
    CROSS JOIN (VALUES (1, 'delivered'), (2, 'opened'), (3, 'clicked'), (4, 'opened')) AS e(n, kind)
    WHERE m.sent_at IS NOT NULL
    """,
]


def fill(*, leads: int, days: int) -> dict[str, float]:
    import django

    django.setup()
    from django.db import connection

    timings = {}
    with connection.cursor() as cursor:
        for number, sql in enumerate(STATEMENTS, 1):
            started = time.perf_counter()
            cursor.execute(sql, {"leads": leads, "days": days})
            timings[f"statement_{number}"] = round(time.perf_counter() - started, 2)
        cursor.execute("ANALYZE")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    print(fill(leads=args.leads, days=args.days))


if __name__ == "__main__":
    main()

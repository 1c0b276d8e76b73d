"""Signals the leads app sends; higher apps connect receivers in their AppConfig.ready()."""

from __future__ import annotations

from django.dispatch import Signal

# Sent when a new lead's first message is stored: inside the transaction that stores it (ingest), or after it
# commits (imports, retries). Arguments: lead_id, inbound_id. Receivers defer their effects to the commit
# (bizpilot.jobs.enqueue_on_commit, which with the database as the broker queues the job in that same transaction:
# the lead and its job commit together, with one commit).
lead_received = Signal()
# Sent after a known lead wrote again. Arguments: lead_id, inbound_id, is_reply (we had contacted them already).
lead_wrote_again = Signal()
# Sent after an auto-reply (out of office, delivery report) from a known lead was stored: it is no reply. Arguments:
# lead_id, inbound_id, returns_at (when the person is back, or None).
lead_auto_replied = Signal()
# Sent inside the transaction that merges lead `merge_id` into lead `keep_id`, before `merge_id` is deleted. Each app
# moves its own rows that reference the merged lead (bizpilot.relations.references_move) and returns
# {model label: rows moved}. A receiver that raises rolls the merge back.
lead_merging = Signal()
# Sent inside the transaction that moves a lead to another state (lead_transition). Arguments: lead_id, state, actor.
# A receiver that raises rolls the transition back.
lead_state_changed = Signal()
# Sent inside the transaction that erases a person (leads.erasure.lead_erase). Arguments: lead_ids (the person's
# leads), addresses (their emails and phones, as stored). Each app removes or anonymises its own rows and returns
# {model label: rows changed}. A receiver that raises rolls the erasure back: nothing is half-erased.
lead_erasing = Signal()
# Sent to gather everything held about a person (leads.erasure.lead_export). Arguments: lead_ids, addresses. Each
# app returns
# {section name: JSON-ready data} of its own rows.
lead_exporting = Signal()

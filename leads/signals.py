"""Signals the leads app sends; higher apps connect receivers in their AppConfig.ready()."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after the transaction that stored a new inbound lead message commits. Arguments: lead_id, inbound_id.
lead_received = Signal()
# Sent after a known lead wrote again. Arguments: lead_id, inbound_id, is_reply (we had contacted them already).
lead_wrote_again = Signal()
# Sent inside the transaction that merges lead `merge_id` into lead `keep_id`, before `merge_id` is deleted. Each app
# moves its own rows that reference the merged lead (bizpilot.relations.references_move) and returns
# {model label: rows moved}. A receiver that raises rolls the merge back.
lead_merging = Signal()
# Sent inside the transaction that moves a lead to another state (lead_transition). Arguments: lead_id, state, actor.
# A receiver that raises rolls the transition back.
lead_state_changed = Signal()

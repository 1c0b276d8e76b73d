"""Signals the messaging app sends; higher apps (alerts, integrations) connect receivers in their AppConfig.ready()."""

from __future__ import annotations

from django.dispatch import Signal

# Sent when a turn of a lead got its draft: the first reply to a new lead, or the answer to a reply. Sent inside the
# transaction that stores the draft, or after it; receivers defer their effects to the commit
# (bizpilot.jobs.enqueue_on_commit). Arguments: lead_id, inbound_id (the message the turn answers), message_id (the
# draft), intent (the lead's intent after the turn), kind ("lead", "reply" or "meeting": a reply that asks to meet).
turn_drafted = Signal()
# Sent when a person opened a lead's item in the admin (its conversation, or one of its drafts). Arguments: lead_id,
# actor (bizpilot.actors.user_actor), at (when).
lead_opened = Signal()
# Sent by `manage.py seed_demo` once the demo business is loaded. Arguments: admin (the admin's username), operator
# (the operator's). Higher apps add their part of the demo (alerts: who is told about hot leads).
demo_seeded = Signal()
# Sent when a message went out or a provider reported on it, inside the transaction that records it. Arguments:
# message_id, lead_id, event ("sent", "delivered", "bounced").
message_event = Signal()
# Sent when the pipeline classified a lead's message. Arguments: lead_id, inbound_id, classification_id, intent,
# confidence, previous_intent ("" for a new lead).
lead_classified = Signal()

"""Signals the leads app sends; higher apps connect receivers in their AppConfig.ready()."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after the transaction that stored a new inbound lead message commits. Arguments: lead_id, inbound_id.
lead_received = Signal()
# Sent after a known lead wrote again. Arguments: lead_id, inbound_id, is_reply (we had contacted them already).
lead_wrote_again = Signal()

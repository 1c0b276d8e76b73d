"""Signals the leads app sends; higher apps connect receivers in their AppConfig.ready()."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after the transaction that stored a new inbound lead message commits. Arguments: lead_id, inbound_id.
lead_received = Signal()

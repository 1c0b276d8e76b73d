"""Signals the meetings app sends; higher apps (messaging, alerts, integrations) connect receivers."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that books, moves or cancels a meeting. Arguments: meeting_id, lead_id (or None),
# change ("booked", "rescheduled" or "cancelled"). Receivers defer their effects to the commit.
meeting_changed = Signal()

"""What became of each message sent, stamped on the message the first time it happens, so the analytics read one
row per message: delivered, opened and clicked (by a person: machine opens and scanner clicks never count),
replied (the lead wrote before our next message), converted (the lead converted after it was the last message
sent), unsubscribed (the address opted out or complained after it was the last message sent there)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from messaging.models import Message

EVENT_STAMPS = {
    "delivered": ("delivered_at",),
    "opened": ("opened_at",),
    "clicked": ("opened_at", "clicked_at"),
}


def message_stamp_event(*, message_id: int, event_type: str, at: datetime) -> None:
    """A person's delivery or engagement event: the first of each kind is stamped on the message."""
    for field in EVENT_STAMPS.get(event_type, ()):
        Message.objects.filter(pk=message_id, **{f"{field}__isnull": True}).update(**{field: at})


def _last_sent(before: datetime, **where: object) -> int | None:
    return (
        Message.objects.filter(sent_at__isnull=False, sent_at__lt=before, **where)
        .order_by("-sent_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )


def message_stamp_reply(*, lead_id: int, received_at: datetime) -> int | None:
    """The lead wrote: the reply counts for the last message we sent before it (once)."""
    message_id = _last_sent(received_at, lead_id=lead_id)
    if message_id is not None:
        Message.objects.filter(pk=message_id, replied_at__isnull=True).update(replied_at=received_at)
    return message_id


def message_stamp_conversion(*, lead_id: int) -> int | None:
    """The lead converted: the conversion counts for the last message sent to them."""
    now = timezone.now()
    message_id = _last_sent(now, lead_id=lead_id)
    if message_id is not None:
        Message.objects.filter(pk=message_id, converted_at__isnull=True).update(converted_at=now)
    return message_id


def message_stamp_opt_out(*, address: str) -> int | None:
    """The address opted out or complained: it counts for the last message sent there."""
    now = timezone.now()
    message_id = _last_sent(now, to_address__iexact=address)
    if message_id is not None:
        Message.objects.filter(pk=message_id, unsubscribed_at__isnull=True).update(unsubscribed_at=now)
    return message_id

"""Test data for messaging."""

from __future__ import annotations

from factory.django import DjangoModelFactory

from messaging.models import AutoSendPolicy, Message
from messaging.review import message_approve
from messaging.sending import message_send


class AutoSendPolicyFactory(DjangoModelFactory):
    """The auto-send policy, switched on (the product's default is off)."""

    class Meta:
        model = AutoSendPolicy

    enabled = True
    threshold = 0.85


def send(message: Message) -> Message:
    """Approve (as an operator) and send a draft, as the review screen and the worker would."""
    if message.status == Message.Status.PENDING_REVIEW:
        message_approve(message_id=message.pk, actor="user:reviewer")
    return message_send(message_id=message.pk)

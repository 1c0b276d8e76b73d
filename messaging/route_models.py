"""How the business answers each kind of sender that is not a prospect (messaging.routes applies it)."""

from __future__ import annotations

from django.db import models

from intelligence.models import SenderKind


class SenderRoute(models.Model):
    """What a message from one kind of sender gets, first message or reply: a vendor's pitch a short "no, thank
    you" (or nothing), a job seeker the careers answer, an existing customer's support request the support route."""

    class Action(models.TextChoices):
        ANSWER = "answer", "Draft an answer as for a prospect (for review)"
        TEMPLATE = "template", "Reply with this route's text"
        FORWARD = "forward", "Forward the message to an address, and reply with this route's text"
        NO_REPLY = "no_reply", "No reply: close the lead, with the reason"

    kind = models.CharField(
        max_length=12, unique=True, choices=[c for c in SenderKind.choices if c[0] != SenderKind.PROSPECT]
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    subject = models.CharField(max_length=300, blank=True, help_text="Email subject (Django template syntax)")
    body = models.TextField(
        blank=True,
        help_text="The reply. Variables: first_name, company, business_name, sender_name, signature, forward_to",
    )
    forward_to = models.EmailField(blank=True, help_text="Forward: the address the lead's message is sent on to")
    auto_send = models.BooleanField(
        default=False, help_text="The reply may go out without review (the auto-send policy still applies)"
    )
    updated_by = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = "answer per kind of sender"
        verbose_name_plural = "answers per kind of sender"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_action_display()}"

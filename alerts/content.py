"""What an alert says. It names the item and links to it, and carries none of the lead's personal data: no name,
address, phone or words of theirs. A person needs the link, not the lead, to act; team channels are read by
everyone in them."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from alerts.models import Alert
from bizpilot.business import business
from leads.models import Lead

HEADLINES: dict[str, str] = {
    Alert.Kind.HOT_LEAD: "Hot lead waiting",
    Alert.Kind.HOT_REPLY: "A hot lead replied",
    Alert.Kind.MEETING_REQUEST: "A lead asks to meet",
    Alert.Kind.WARM_LEAD: "Warm lead waiting",
    Alert.Kind.COLD_LEAD: "Cold lead waiting",
}
LEVEL_NOTES = {
    Alert.Level.FIRST: "",
    Alert.Level.NEXT: "Nobody has opened it yet: you are next on the escalation list.",
    Alert.Level.ADMINS: "Nobody has opened it yet, and the next person was told already.",
}


@dataclass(frozen=True)
class AlertText:
    subject: str
    body: str
    url: str


def item_url(lead_id: int) -> str:
    """The lead's conversation screen: opening it acknowledges the alert."""
    path = reverse("admin:messaging_conversation_change", args=[lead_id])
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def alert_text(*, kind: str, level: int, lead: Lead) -> AlertText:
    url = item_url(lead.pk)
    headline = HEADLINES.get(kind, "Lead waiting")
    where = f"lead #{lead.pk}, from {lead.source} by {lead.get_preferred_channel_display().lower()}"
    subject = f"{business().name}: {headline.lower()} ({where})"
    lines = [f"{headline}: {where}.", "Open it to read it and review the reply:", url]
    if note := LEVEL_NOTES.get(Alert.Level(level), ""):
        lines.insert(1, note)
    return AlertText(subject=subject, body="\n".join(lines), url=url)


def sms_text(text: AlertText) -> str:
    return f"{text.subject}\n{text.url}"

"""The business's voice: replies a person approved become redacted examples that similar drafts are written from."""

from __future__ import annotations

from typing import Any

from pgvector.django import CosineDistance

from intelligence.embedding_state import active_embedding_model
from intelligence.embeddings import get_embedder
from intelligence.models import VoiceExample
from intelligence.redaction import Redactor


def voice_example_learn(
    *, message_id: int, intent: str, channel: str, lead_name: str, lead_text: str, reply_text: str, edited: bool
) -> VoiceExample:
    """Keep an approved reply as an example. Both texts are stored redacted (the lead's name, emails, phones...
    become placeholders), so an example never carries one lead's details into another lead's prompt."""
    redactor = Redactor(name=lead_name)
    lead_redacted, reply_redacted = redactor.redact(lead_text), redactor.redact(reply_text)
    vector = get_embedder().embed_one(lead_text)  # outside any transaction
    example, _ = VoiceExample.objects.update_or_create(
        message_id=message_id,
        defaults={
            "intent": intent,
            "channel": channel,
            "lead_text": lead_redacted,
            "reply_text": reply_redacted,
            "edited": edited,
            "embedding": vector,
            "embedding_model": active_embedding_model(),
        },
    )
    return example


def voice_examples_for(*, text: str, intent: str, channel: str, limit: int) -> list[VoiceExample]:
    """The approved replies to the most similar past leads of the same intent and channel; edited ones first."""
    if limit <= 0 or not text.strip():
        return []
    vector = get_embedder().embed_one(text)
    candidates: list[Any] = list(  # VoiceExamples annotated with their distance
        VoiceExample.objects.filter(intent=intent, channel=channel, embedding_model=active_embedding_model())
        .annotate(distance=CosineDistance("embedding", vector))
        .order_by("distance")[: limit * 3]
    )
    candidates.sort(key=lambda e: (not e.edited, e.distance))
    return candidates[:limit]

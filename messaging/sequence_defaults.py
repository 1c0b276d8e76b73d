"""The follow-up sequences every new installation starts with (hot leads get a tighter cadence than warm ones;
cold leads get none). Used by the migration that seeds them, with its historical models."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

NUDGE = (
    "Write a short, friendly follow-up to our first reply: one new, useful point from the knowledge that fits what "
    "the lead asked, and one easy question they can answer in a line. No pressure, no repeating our first reply."
)
TEXT = (
    "Write a text message of at most 300 characters: remind the lead who we are in a few words and offer a quick "
    "call or an answer by text. Plain and personal; no links."
)
LAST = (
    "Write a last, brief follow-up: say this is the last note from us for now, leave the door open and say how to "
    "reach us when the time is right. Warm, not pushy."
)
EMAIL_NUDGE = (
    "Hi {{ first_name|default:'there' }},\n\nJust following up on my note about your enquiry. Is there anything "
    "I can answer, or would a short call help?\n\nBest wishes,\n{{ sender_name }}\n{{ business_name }}"
)
TEXT_NUDGE = (
    "Hi {{ first_name|default:'there' }}, it's {{ sender_name }} from {{ business_name }}. Following up on your "
    "enquiry: happy to answer anything or call, whatever suits. Reply STOP to opt out."
)
EMAIL_LAST = (
    "Hi {{ first_name|default:'there' }},\n\nI won't keep writing, but if your plans move forward just reply to "
    "this email and I'll pick it up straight away.\n\nBest wishes,\n{{ sender_name }}\n{{ business_name }}"
)
DEFAULTS = {
    "hot": (
        "Hot lead follow-up",
        [(1, "same", NUDGE, EMAIL_NUDGE), (3, "text", TEXT, TEXT_NUDGE), (7, "email", LAST, EMAIL_LAST)],
    ),
    "warm": (
        "Warm lead follow-up",
        [(2, "same", NUDGE, EMAIL_NUDGE), (5, "text", TEXT, TEXT_NUDGE), (10, "email", LAST, EMAIL_LAST)],
    ),
}


def seed_default_sequences(sequence_model: Any, step_model: Any) -> int:
    """Create the default sequence of each intent that has none; returns how many were created."""
    created = 0
    for intent, (name, steps) in DEFAULTS.items():
        if sequence_model.objects.filter(intent=intent).exists():
            continue
        sequence = sequence_model.objects.create(name=name, intent=intent, active=True)
        for position, (days, channel, instructions, body) in enumerate(steps, start=1):
            step_model.objects.create(
                sequence=sequence,
                position=position,
                delay=timedelta(days=days),
                channel=channel,
                instructions=instructions,
                fallback_subject="Following up on your enquiry" if channel != "text" else "",
                fallback_body=body,
            )
        created += 1
    return created

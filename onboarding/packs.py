"""Applying a starter pack for the business's trade (onboarding.pack_data): its wording is added to every draft's
instructions (a new version of each prompt template, the earlier ones kept), its follow-up sequences for hot and
warm leads become the active ones, its auto-send confidence is set (auto-send itself stays as the owner left it),
and its labelled examples join the shared ones. Applying it again changes nothing; applying another trade's
replaces the first's wording and sequences (its examples stay: they are still true of such leads).

The pack's questions are an FAQ for the owner to answer (`starter_pack_faq_csv`): the answers are the business's
facts, which no pack can know."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

from django.db import transaction

from bizpilot.access import require_permission
from bizpilot.audit import audit_record
from bizpilot.errors import ValidationFailed
from intelligence.examples import intent_examples_add
from intelligence.models import IntentExample
from intelligence.prompt_templates import prompt_template_live, prompt_template_save
from messaging.autosend import AUTO_SEND_POLICY_FIELDS, auto_send_policy_save
from messaging.models import AutoSendPolicy, Sequence, SequenceStep
from messaging.sequence_defaults import EMAIL_LAST, EMAIL_NUDGE, LAST, NUDGE
from onboarding.pack_data import PACKS, PACKS_BY_KEY, Pack

_PACK_LINE = re.compile(r"\n\nFor this trade \([^)]*\):[^\n]*$")


def pack_instructions(instructions: str, pack: Pack, intent: str) -> str:
    """The template's own instructions, without an earlier pack's line, and this pack's."""
    base = _PACK_LINE.sub("", instructions)
    note = pack.note + (" " + pack.hot_note if intent == "hot" else "")
    return f"{base}\n\nFor this trade ({pack.name}): {note}"


def starter_pack_apply(*, key: str, actor: str, user: Any = None) -> dict[str, int]:
    require_permission(user, "intelligence.add_prompttemplate", "apply a starter pack")
    pack = PACKS_BY_KEY.get(key)
    if pack is None:
        raise ValidationFailed("Unknown trade.", fields={"pack": [f"One of: {', '.join(p.key for p in PACKS)}."]})
    changed = {"prompt_templates": 0, "sequences": 0, "examples": 0}
    with transaction.atomic():
        for intent in ("hot", "warm", "cold"):
            for kind, channel in (("email", "email"), ("text", "sms")):
                live = prompt_template_live(intent=intent, channel=channel)
                wanted = pack_instructions(live.instructions, pack, intent)
                if wanted != live.instructions:
                    prompt_template_save(
                        intent=intent,
                        channel_kind=kind,
                        instructions=wanted,
                        max_chars=live.max_chars,
                        fallback_subject=live.fallback_subject,
                        fallback_body=live.fallback_body,
                        change_note=f"starter pack: {pack.name}",
                        actor=actor,
                    )
                    changed["prompt_templates"] += 1
        for intent in ("hot", "warm"):
            changed["sequences"] += _sequence(pack, intent)
        policy = AutoSendPolicy.current()
        if policy.threshold != pack.threshold:
            values = {name: getattr(policy, name) for name in AUTO_SEND_POLICY_FIELDS}
            auto_send_policy_save(values={**values, "threshold": pack.threshold}, actor=actor, user=user)
        changed["examples"] = intent_examples_add(examples=pack.examples, origin=IntentExample.Origin.PACK)
        hot = Sequence.objects.get(name=f"{pack.name}: hot leads")
        audit_record(actor=actor, action="starter_pack.applied", obj=hot, after={"pack": key, **changed})
    return changed


def _sequence(pack: Pack, intent: str) -> int:
    """The pack's follow-ups for this intent, the active sequence (1 when it changed anything)."""
    name = f"{pack.name}: {intent} leads"
    days = pack.follow_up_days
    steps = [
        (
            position,
            timedelta(days=day),
            LAST if position == len(days) else NUDGE,
            EMAIL_LAST if position == len(days) else EMAIL_NUDGE,
        )
        for position, day in enumerate(days, start=1)
    ]
    sequence = Sequence.objects.filter(name=name).first()
    current = (
        [(s.position, s.delay, s.instructions, s.fallback_body) for s in sequence.steps.order_by("position")]
        if sequence
        else None
    )
    if sequence is not None and sequence.active and current == steps:
        return 0
    Sequence.objects.filter(intent=intent, active=True).exclude(name=name).update(active=False)
    sequence, _ = Sequence.objects.update_or_create(name=name, defaults={"intent": intent, "active": True})
    sequence.steps.all().delete()
    SequenceStep.objects.bulk_create(
        SequenceStep(sequence=sequence, position=p, delay=d, channel="same", instructions=i, fallback_body=b)
        for p, d, i, b in steps
    )
    return 1


def starter_pack_faq_csv(key: str) -> str:
    """The questions leads of this trade ask, as an FAQ CSV (question,answer) for the owner to answer and import."""
    pack = PACKS_BY_KEY[key]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["question", "answer"])
    for question in pack.questions:
        writer.writerow([question, ""])
    return out.getvalue()

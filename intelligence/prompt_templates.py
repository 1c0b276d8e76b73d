"""Prompt templates, one per intent and channel kind, versioned: an edit is a new version, and every message keeps
the version it was drafted from. Each holds the model's instructions, the length limit and the fallback reply."""

from __future__ import annotations

from django.db import transaction
from django.template import Context, Template, TemplateSyntaxError

from bizpilot.audit import audit_record
from bizpilot.errors import ValidationFailed
from intelligence.classifier import INTENTS
from intelligence.models import PromptTemplate
from intelligence.prompt_defaults import seed_prompt_templates

FALLBACK_SAMPLE_CONTEXT = {
    "first_name": "Priya",
    "company": "Shah Physio",
    "fact": "A marketing website takes 4 to 6 weeks.",
    "business_name": "Northwind Web Studio",
    "sender_name": "Maya",
    "signature": "Maya\nNorthwind Web Studio",
}


def prompt_template_validate(*, fallback_subject: str, fallback_body: str, max_chars: int) -> dict[str, list[str]]:
    """Field errors for a template edit: the fallback must compile, render, and fit the length limit."""
    errors: dict[str, list[str]] = {}
    if not 20 <= max_chars <= 20_000:
        errors["max_chars"] = ["Must be between 20 and 20000 characters."]
    for field_name, source in (("fallback_subject", fallback_subject), ("fallback_body", fallback_body)):
        try:
            rendered = Template(source).render(Context(FALLBACK_SAMPLE_CONTEXT, autoescape=False))
        except TemplateSyntaxError as exc:
            errors[field_name] = [f"Template error: {exc}"]
            continue
        if field_name == "fallback_body" and not rendered.strip():
            errors[field_name] = ["The fallback reply renders empty."]
        elif field_name == "fallback_body" and "max_chars" not in errors and len(rendered.strip()) > max_chars:
            errors[field_name] = [
                f"With sample values it renders {len(rendered.strip())} characters; the limit is {max_chars}."
            ]
    return errors


def prompt_template_save(
    *,
    intent: str,
    channel_kind: str,
    instructions: str,
    max_chars: int,
    fallback_subject: str,
    fallback_body: str,
    change_note: str = "",
    actor: str,
) -> PromptTemplate:
    """Create the next version of an (intent, channel kind) template; the previous versions stay as they were."""
    errors = prompt_template_validate(
        fallback_subject=fallback_subject, fallback_body=fallback_body, max_chars=max_chars
    )
    if not instructions.strip():
        errors["instructions"] = ["Tell the model what to write."]
    if intent not in INTENTS:
        errors["intent"] = [f"Must be one of {', '.join(INTENTS)}."]
    if channel_kind not in PromptTemplate.ChannelKind.values:
        errors["channel_kind"] = [f"Must be one of {', '.join(PromptTemplate.ChannelKind.values)}."]
    if errors:
        raise ValidationFailed("The prompt template is not valid.", fields=errors)
    with transaction.atomic():
        # Serialise concurrent edits of the same template: lock its live version (the unique constraint backs this).
        current = (
            PromptTemplate.objects.select_for_update()
            .filter(intent=intent, channel_kind=channel_kind)
            .order_by("-version")
            .first()
        )
        template = PromptTemplate.objects.create(
            intent=intent,
            channel_kind=channel_kind,
            version=(current.version if current else 0) + 1,
            instructions=instructions.strip(),
            max_chars=max_chars,
            fallback_subject=fallback_subject.strip(),
            fallback_body=fallback_body.strip(),
            change_note=change_note.strip(),
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="prompt_template.new_version",
            obj=template,
            before={"version": current.version} if current else None,
            after={"version": template.version, "change_note": template.change_note},
        )
    return template


def prompt_template_live(*, intent: str, channel: str) -> PromptTemplate:
    """The version in effect for drafting to this intent on this channel (defaults are seeded if none exist)."""
    kind = PromptTemplate.kind_for_channel(channel)
    template = PromptTemplate.objects.filter(intent=intent, channel_kind=kind).order_by("-version").first()
    if template is None:
        seed_prompt_templates(PromptTemplate)
        template = PromptTemplate.objects.filter(intent=intent, channel_kind=kind).order_by("-version").first()
    if template is None:
        raise LookupError(f"no prompt template for {intent} on {kind}, even after seeding the defaults")
    return template

"""The prompt templates BizPilot starts with: version 1 of each PromptTemplate (one per intent and channel kind).

Operators edit them in the admin; every edit is a new version and each message records the version it came from.
`instructions` goes into the LLM prompt. The fallback subject and body are Django templates (used when no LLM is
configured or it fails) over: first_name, company, fact, business_name, sender_name.
"""

from __future__ import annotations

from bizpilot.actors import DEFAULT_TEMPLATES

EMAIL_MAX_CHARS = 2000
TEXT_MAX_CHARS = 480  # three SMS segments

_SIGNATURE = "\n\nBest regards,\n{{ sender_name }}\n{{ business_name }}"
_GREETING = "Hi{% if first_name %} {{ first_name }}{% endif %},"
_FACT = "\n{% if fact %}\n{{ fact }}\n{% endif %}\n"

DEFAULTS: dict[tuple[str, str], dict[str, object]] = {
    ("hot", "email"): {
        "instructions": (
            "The lead is ready to buy. Thank them, answer any direct question from the knowledge, and propose one "
            "concrete next step: a 15-minute call this week. Write a short email of 60 to 150 words with a "
            "specific subject line, signed by the sender."
        ),
        "max_chars": EMAIL_MAX_CHARS,
        "fallback_subject": (
            "{% if company %}Next steps for {{ company }}{% else %}Your inquiry with {{ business_name }}{% endif %}"
        ),
        "fallback_body": (
            _GREETING + "\n\nThanks for getting in touch{% if company %} about {{ company }}{% endif %}. It sounds "
            "like you are ready to move, so let's not keep you waiting.\n" + _FACT + "Could we have a 15-minute "
            "call this week to confirm scope and timing? Reply with two times that suit you and I will send an "
            "invite." + _SIGNATURE
        ),
    },
    ("warm", "email"): {
        "instructions": (
            "The lead is interested but still exploring. Answer their question from the knowledge, say what you "
            "would need to know to help further, and offer an easy next step without pressure. Write a short email "
            "of 60 to 150 words with a subject line, signed by the sender."
        ),
        "max_chars": EMAIL_MAX_CHARS,
        "fallback_subject": "Re: your question for {{ business_name }}",
        "fallback_body": (
            _GREETING + "\n\nThanks for reaching out{% if company %} on behalf of {{ company }}{% endif %}. Happy to "
            "help you work out whether we are a good fit.\n" + _FACT + "If you tell me a little more about what you "
            "have in mind, I can point you to the right option. A short call works too, whenever suits you."
            + _SIGNATURE
        ),
    },
    ("cold", "email"): {
        "instructions": (
            "The lead is early or vague. Be helpful and brief: share one useful fact from the knowledge and invite "
            "them to reply whenever they are ready. No pressure, no call to action beyond that. Write a short email "
            "of 40 to 120 words with a subject line, signed by the sender."
        ),
        "max_chars": EMAIL_MAX_CHARS,
        "fallback_subject": "Thanks for contacting {{ business_name }}",
        "fallback_body": (
            _GREETING
            + "\n\nThanks for your message. We are glad to answer any questions, with no obligation.\n"
            + _FACT
            + "Whenever you are ready to talk about a project, just reply to this email."
            + _SIGNATURE
        ),
    },
    ("hot", "text"): {
        "instructions": (
            "The lead is ready to buy. In one short text message: thank them, give the one fact that answers them, "
            "and ask for a time for a quick call this week. No subject, no links unless in the knowledge, signed "
            "with the sender's name."
        ),
        "max_chars": TEXT_MAX_CHARS,
        "fallback_subject": "",
        "fallback_body": (
            _GREETING + " thanks for contacting {{ business_name }}! {% if fact %}{{ fact }} {% endif %}Could we do "
            "a quick 15-min call this week? Reply with a time that suits you. - {{ sender_name }}"
        ),
    },
    ("warm", "text"): {
        "instructions": (
            "The lead is interested but exploring. In one short text message: answer their question from the "
            "knowledge and ask one question that helps you point them to the right option. No subject, signed with "
            "the sender's name."
        ),
        "max_chars": TEXT_MAX_CHARS,
        "fallback_subject": "",
        "fallback_body": (
            _GREETING + " thanks for your message to {{ business_name }}. {% if fact %}{{ fact }} {% endif %}Tell "
            "us a bit more about what you need and we will point you to the right option. - {{ sender_name }}"
        ),
    },
    ("cold", "text"): {
        "instructions": (
            "The lead is early or vague. In one short, friendly text message: thank them, share one useful fact "
            "from the knowledge, and say they can reply any time. No pressure. No subject, signed with the "
            "sender's name."
        ),
        "max_chars": TEXT_MAX_CHARS,
        "fallback_subject": "",
        "fallback_body": (
            _GREETING + " thanks for contacting {{ business_name }}. {% if fact %}{{ fact }} {% endif %}Reply any "
            "time with questions, no obligation. - {{ sender_name }}"
        ),
    },
}


def seed_prompt_templates(model) -> int:
    """Create version 1 of every template that has none yet (`model` may be a migration's historical model)."""
    created = 0
    for (intent, kind), values in DEFAULTS.items():
        if not model.objects.filter(intent=intent, channel_kind=kind).exists():
            model.objects.create(
                intent=intent,
                channel_kind=kind,
                version=1,
                created_by=DEFAULT_TEMPLATES,
                change_note="BizPilot's default",
                **values,
            )
            created += 1
    return created

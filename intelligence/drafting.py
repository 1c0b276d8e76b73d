"""Drafting a reply: Claude (or Ollama) when configured, else, or when it fails, the prompt template's fallback
text. `reply_draft` is the pipeline's entry point: it drafts and judges the draft (injection signals, draft checks,
confidence), returning a plain result that messaging stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from bizpilot.flags import flags
from intelligence.fallback_languages import translated_fallback
from intelligence.language import language_name
from intelligence.llm import LlmError, get_llm_client
from intelligence.models import Classification, PromptTemplate, SenderKind
from intelligence.prompt_templates import prompt_template_live
from intelligence.prompts import CHARS_PER_TOKEN, LeadFacts, build_prompt, first_name, render_fallback
from intelligence.redaction import Redactor
from intelligence.retrieval import knowledge_digest
from intelligence.safety import draft_checks, injection_signals
from intelligence.voice import voice_examples_for
from leads.models import InboundMessage, Intent, Lead


@dataclass
class DraftResult:
    subject: str
    body: str
    generated_by: str  # "llm" or "fallback"
    reason: str
    template: str
    confidence: float | None = None
    model_call_id: int | None = None
    prompt_template_id: int | None = None
    prompt_tokens_estimate: int | None = None
    knowledge: str = ""  # the business knowledge the model was given beyond the retrieved snippets (the checks)


@dataclass(frozen=True)
class ReplyDraft:
    """A draft ready to store, with where it came from and intelligence's verdict on it."""

    inbound_id: int | None  # the inbound message answered (a follow-up answers none)
    classification_id: int | None
    intent: str
    subject: str
    body: str
    generated_by: str
    reason: str
    template_name: str
    prompt_template_id: int | None
    model_call_id: int | None
    confidence: float
    checks_failed: list[str] = field(default_factory=list)
    injection_signals: list[str] = field(default_factory=list)


def reply_draft(
    *,
    lead_id: int,
    inbound_id: int,
    classification_id: int | None,
    channel: str,
    operator_note: str = "",
    prompt_template_id: int | None = None,
    message_text: str | None = None,
    meeting: str = "",
) -> ReplyDraft:
    """Draft the reply to one inbound message of a lead, on `channel`, from the classification's intent and
    knowledge (without one: the lead's intent in effect, else warm), and judge it: injection signals in the lead's
    text, the draft checks that failed, and the draft's confidence (the classifier's, times the model's own when an
    LLM wrote it, halved per failed check). `prompt_template_id` (an experiment's variant) replaces the live template
    when it is for the same intent and kind of channel. `message_text` replaces the message's text (several messages
    written in a row, answered together). `meeting`: the times to offer (meetings.offers), in the lead's language.
    Calls the LLM: never inside a transaction."""
    lead = Lead.objects.get(pk=lead_id)
    inbound = InboundMessage.objects.get(pk=inbound_id, lead_id=lead_id)
    if message_text is not None:
        inbound = InboundMessage(
            pk=inbound.pk, lead_id=lead_id, subject=inbound.subject, body=message_text, channel=inbound.channel
        )
    classification = Classification.objects.filter(pk=classification_id).first() if classification_id else None
    intent = classification.intent if classification else (lead.intent or Intent.WARM)
    template = prompt_template_live(intent=intent, channel=channel)
    if prompt_template_id is not None:  # an experiment's variant: its version, where it fits this intent and channel
        chosen = PromptTemplate.objects.filter(pk=prompt_template_id).first()
        if chosen is not None and (chosen.intent, chosen.channel_kind) == (template.intent, template.channel_kind):
            template = chosen
    return _draft_and_judge(
        lead=lead,
        inbound=inbound,
        classification=classification,
        intent=intent,
        channel=channel,
        template=template,
        operator_note=operator_note,
        meeting=meeting,
    )


def _draft_and_judge(
    *,
    lead: Lead,
    inbound: InboundMessage | None,
    classification: Classification | None,
    intent: str,
    channel: str,
    template: PromptTemplate,
    operator_note: str = "",
    conversation: str = "",
    snippets: list[dict[str, Any]] | None = None,
    turn: str = "follow_up",
    meeting: str = "",
) -> ReplyDraft:
    if snippets is None:
        snippets = classification.snippets if classification else []
    kind = classification.kind if classification else SenderKind.PROSPECT
    language_code = classification.language if classification else "en"
    language = language_name(language_code)
    facts = LeadFacts(
        lead_id=lead.pk,
        name=lead.name,
        company=lead.company,
        channel=channel,
        subject=inbound.subject if inbound else "",
        message=inbound.body if inbound else "",
        language=language,
        language_code=language_code,
        not_a_prospect="" if kind == SenderKind.PROSPECT else SenderKind(kind).label.lower(),
        conversation=conversation,
        turn=turn,
        meeting=meeting,
    )
    draft = draft_reply(lead=facts, intent=intent, snippets=snippets, template=template, operator_note=operator_note)
    checks = draft_checks(
        subject=draft.subject,
        body=draft.body,
        channel=channel,
        first_name=first_name(lead.name),
        knowledge="\n".join([*(s["text"] for s in snippets), draft.knowledge]),
        max_chars=template.max_chars,
    )
    checks += review_reasons(
        kind=kind,
        language=language,
        generated_by=draft.generated_by,
        translated=translated_fallback(language=language_code, template=template) is not None,
    )
    confidence = (classification.confidence if classification else 1 / 3) * (
        draft.confidence if draft.confidence is not None else 1.0
    )
    return ReplyDraft(
        inbound_id=inbound.pk if inbound else None,
        classification_id=classification.pk if classification else None,
        intent=intent,
        subject=draft.subject,
        body=draft.body,
        generated_by=draft.generated_by,
        reason=draft.reason,
        template_name=draft.template,
        prompt_template_id=draft.prompt_template_id,
        model_call_id=draft.model_call_id,
        confidence=round(confidence * 0.5 ** len(checks), 4),
        checks_failed=checks,
        injection_signals=injection_signals(inbound.subject, inbound.body, lead.name, lead.company) if inbound else [],
    )


def follow_up_draft(
    *,
    lead_id: int,
    channel: str,
    instructions: str,
    fallback_subject: str,
    fallback_body: str,
    conversation: str,
) -> ReplyDraft:
    """Draft one follow-up of a sequence on `channel`: the step's instructions and fallback text over the live prompt
    template of the lead's intent (its length limit), with the conversation so far as context, judged like a first
    reply (draft checks, not-a-prospect and language flags, confidence)."""
    lead = Lead.objects.get(pk=lead_id)
    inbound = InboundMessage.objects.filter(lead_id=lead_id).order_by("-received_at", "-id").first()
    classification = Classification.objects.filter(lead_id=lead_id).order_by("-created_at", "-id").first()
    intent = classification.intent if classification else (lead.intent or Intent.WARM)
    live = prompt_template_live(intent=intent, channel=channel)
    # The step's own instructions and fallback, within the live template's length limit (an unsaved version).
    template = PromptTemplate(
        intent=intent,
        channel_kind=live.channel_kind,
        version=live.version,
        instructions=instructions,
        max_chars=live.max_chars,
        fallback_subject=fallback_subject,
        fallback_body=fallback_body,
    )
    return _draft_and_judge(
        lead=lead,
        inbound=inbound,
        classification=classification,
        intent=intent,
        channel=channel,
        template=template,
        conversation=conversation,
    )


def review_reasons(*, kind: str, language: str, generated_by: str, translated: bool = False) -> list[str]:
    """Why a person must look at this draft whatever the confidence: the sender is not a prospect, or the lead
    wrote in another language and the reply is a fallback text (English, or BizPilot's own wording in the lead's
    language, quoting the business's facts as written)."""
    reasons = []
    if kind != SenderKind.PROSPECT:
        reasons.append(f"not a prospect: {SenderKind(kind).label.lower()}; reply only if you mean to")
    if language != "English" and generated_by != "llm":
        if translated:
            reasons.append(
                f"the lead wrote in {language}; this fallback reply is BizPilot's {language} wording, "
                "with the business's facts quoted as written"
            )
        else:
            reasons.append(f"the lead wrote in {language}; this fallback reply is in English")
    return reasons


def draft_reply(
    *,
    lead: LeadFacts,
    intent: str,
    snippets: list[dict[str, Any]],
    template: PromptTemplate | None = None,
    operator_note: str = "",
) -> DraftResult:
    """A reply from the LLM when one is configured and answers well, else from the template's fallback text."""
    if template is None:
        template = prompt_template_live(intent=intent, channel=lead.channel)
    client = get_llm_client()
    if client is None:
        return _fallback(
            lead,
            template,
            snippets,
            reason="no LLM configured (ANTHROPIC_API_KEY is not set and LLM_PROVIDER is not ollama)",
        )
    redactor = Redactor(name=lead.name) if flags().pii_redaction else None
    examples = voice_examples_for(
        text=f"{lead.subject}\n{lead.message}".strip(),
        intent=intent,
        channel=lead.channel,
        limit=settings.VOICE_EXAMPLES_IN_PROMPT,
    )
    # With Claude's prompt caching the whole knowledge base rides in the cached prefix (see build_prompt).
    knowledge = (
        knowledge_digest(max_tokens=settings.LLM_CACHED_KNOWLEDGE_TOKENS, chars_per_token=CHARS_PER_TOKEN)
        if client.provider == "anthropic" and settings.LLM_PROMPT_CACHING
        else None
    )
    prompt = build_prompt(
        lead=lead,
        template=template,
        snippets=snippets,
        redactor=redactor,
        examples=examples,
        operator_note=operator_note,
        knowledge=knowledge,
        cache_min_tokens=settings.LLM_CACHE_MIN_TOKENS,
    )
    try:
        reply = client.draft_reply(
            system=prompt.system,
            prompt=prompt.user,
            lead_id=lead.lead_id,
            voice_examples=[e.pk for e in prompt.examples],
        )
    except LlmError as exc:
        result = _fallback(lead, template, snippets, reason=f"LLM failed: {exc.reason}")
        result.model_call_id = exc.model_call_id
        result.prompt_tokens_estimate = prompt.tokens
        return result
    restore = redactor.restore if redactor else str
    return DraftResult(
        subject=restore(reply.subject) if lead.channel == "email" else "",
        body=restore(reply.body),
        generated_by="llm",
        reason=reply.reasoning,
        template=f"{client.provider}:{template}",
        confidence=reply.confidence,
        model_call_id=reply.model_call_id,
        prompt_template_id=template.pk,
        prompt_tokens_estimate=prompt.tokens,
        knowledge=knowledge.text if knowledge else "",
    )


def _fallback(lead: LeadFacts, template: PromptTemplate, snippets: list[dict[str, Any]], *, reason: str) -> DraftResult:
    subject, body = render_fallback(lead, template, snippets)
    return DraftResult(
        subject=subject,
        body=body,
        generated_by="fallback",
        reason=reason,
        template=f"fallback:{template}",
        prompt_template_id=template.pk,
    )

"""Answering a lead's reply: the latest message (or several in a row), read in the whole conversation, answered by
the LLM when one is configured, else by the reply kind's fallback text, which answers what it can (the knowledge
fact that answers the question, the meeting question) and hands the rest to a person, saying so in the draft's
checks. Judged like a first reply (draft checks, language and not-a-prospect flags, confidence)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from intelligence.drafting import ReplyDraft, _draft_and_judge
from intelligence.embeddings import get_embedder
from intelligence.facts import rank_snippets
from intelligence.models import Classification, PromptTemplate
from intelligence.prompt_templates import prompt_template_live
from intelligence.replies import OBJECTIONS, ReplyKind
from intelligence.retrieval import retrieve
from leads.models import InboundMessage, Intent, Lead


@dataclass(frozen=True)
class ReplyAnswer:
    """How to answer one kind of reply: what the model is told, and the fallback text (Django template syntax over
    first_name, company, fact, business_name, sender_name)."""

    instructions: str
    fallback_body: str
    hand_over: str = ""  # what a person must still do; shown as a failed check, so the draft waits for them


_SIGN = "\n\nBest wishes,\n{{ sender_name }}\n{{ business_name }}"
_FACT = "{% if fact %}{{ fact }}\n\n{% endif %}"

REPLY_ANSWERS: dict[str, ReplyAnswer] = {
    ReplyKind.MEETING: ReplyAnswer(
        "The lead proposes a time or asks to meet. Confirm warmly that you will meet, repeat the time they proposed "
        "if they gave one, and answer any question they added. Do not invent availability.",
        "Hi {{ first_name }},\n\nThank you, happy to find a time to talk. " + _FACT + "I'm checking the calendar now "
        "and will confirm the time with you shortly." + _SIGN,
        hand_over="the lead asked to meet: a person confirms the time (no calendar is connected)",
    ),
    ReplyKind.QUESTION: ReplyAnswer(
        "The lead asks a question. Answer it directly from the knowledge; if the knowledge does not answer it, say "
        "you will find out and come back to them. Then make the next step easy.",
        "Hi {{ first_name }},\n\nThanks for your question. {% if fact %}{{ fact }}{% else %}I'm finding out for you "
        "and will come back to you shortly.{% endif %}\n\nJust reply here if anything else comes up." + _SIGN,
    ),
    ReplyKind.OBJECTION_PRICE: ReplyAnswer(
        "The lead says the price is too high. Acknowledge it without being defensive, explain the value briefly "
        "from the knowledge, and offer to look at options that fit their budget. Never invent a discount.",
        "Hi {{ first_name }},\n\nThanks for being upfront about the budget; that really helps. " + _FACT + "I'd be "
        "glad to look at options that fit. What figure did you have in mind?" + _SIGN,
        hand_over="a price objection: a person decides what can be offered",
    ),
    ReplyKind.OBJECTION_TIMING: ReplyAnswer(
        "The lead says now is not the right time. Accept it graciously, leave the door open and say when you might "
        "check back, if they gave a time. Do not push.",
        "Hi {{ first_name }},\n\nNo problem at all, thank you for letting me know. Whenever the time is right, just "
        "reply to this message and we'll pick it up from there." + _SIGN,
    ),
    ReplyKind.OBJECTION_COMPETITOR: ReplyAnswer(
        "The lead is comparing us with another supplier. Thank them, say briefly what is included with us from the "
        "knowledge, and offer to compare like for like. Never criticise the competitor or invent a price match.",
        "Hi {{ first_name }},\n\nThanks for telling me, it makes sense to compare. " + _FACT + "Happy to walk you "
        "through exactly what's included, so you can compare like for like." + _SIGN,
        hand_over="the lead is comparing us with a competitor: a person decides how to answer",
    ),
    ReplyKind.OBJECTION_AUTHORITY: ReplyAnswer(
        "The lead must check with someone else before deciding. Make it easy: offer to answer that person's "
        "questions or to talk with them both.",
        "Hi {{ first_name }},\n\nOf course, thank you. If it helps, I'm happy to answer any questions they have, or "
        "to set up a short call with you both." + _SIGN,
    ),
    ReplyKind.YES: ReplyAnswer(
        "The lead wants to go ahead. Thank them and set out the next step clearly, using only the knowledge.",
        "Hi {{ first_name }},\n\nThat's great news, thank you! "
        + _FACT
        + "I'll send over the next steps shortly."
        + _SIGN,
        hand_over="the lead said yes: a person sends the contract, invoice or booking",
    ),
    ReplyKind.NO: ReplyAnswer(
        "The lead is not going ahead. Thank them briefly and graciously, wish them well and leave the door open. "
        "Do not try to change their mind.",
        "Hi {{ first_name }},\n\nThanks for letting us know, and all the best with it. If anything changes, just "
        "reply to this message." + _SIGN,
        hand_over="the lead said no: send a close only if you want to",
    ),
    ReplyKind.WRONG_PERSON: ReplyAnswer(
        "The person says we have the wrong person. Apologise briefly and say we will not contact them again about "
        "this.",
        "Hi,\n\nSorry for the mix-up, and thank you for letting us know. We won't contact you about this again."
        + _SIGN,
        hand_over="a wrong person: check the lead's contact details",
    ),
    ReplyKind.REFERRAL: ReplyAnswer(
        "The lead refers us to someone else. Thank them and say we will get in touch with that person.",
        "Hi {{ first_name }},\n\nThank you for pointing us in the right direction; we'll get in touch with them."
        + _SIGN,
        hand_over="the lead referred us to someone else: a person contacts them",
    ),
    ReplyKind.OTHER: ReplyAnswer(
        "The lead thanks us or acknowledges our message. Reply briefly and make the next step easy.",
        "Hi {{ first_name }},\n\nThank you! Just reply here if any questions come up." + _SIGN,
    ),
}


# The answer when BizPilot arranged the meeting itself (meetings.conversation): the arrangement, then the fact.
MEETING_ARRANGED = ReplyAnswer(
    "The lead answered about the meeting and it is arranged as the meeting section says. Tell them exactly that, "
    "and answer any question they added.",
    "Hi {{ first_name }},\n\n{{ meeting }}\n\n" + _FACT.replace("\n\n{% endif %}", "{% endif %}") + _SIGN,
)


def reply_answer_draft(
    *,
    lead_id: int,
    inbound_id: int,
    text: str,
    subject: str,
    kind: str,
    also: list[str],
    intent: str,
    channel: str,
    conversation: str,
    operator_note: str = "",
    meeting: str = "",
) -> ReplyDraft:
    """Draft the answer to a lead's reply (`text`: the messages not yet answered, joined), on `channel`, for the
    reply's kind. The knowledge is retrieved for what the lead just wrote. `meeting`: what BizPilot did about a
    meeting (booked, moved, cancelled, or new times offered), in the lead's language: the answer says it, and no
    person has to confirm the time. Calls the LLM: never in a transaction."""
    lead = Lead.objects.get(pk=lead_id)
    inbound = InboundMessage.objects.get(pk=inbound_id, lead_id=lead_id)
    answer = REPLY_ANSWERS.get(kind, REPLY_ANSWERS[ReplyKind.OTHER])
    others = [REPLY_ANSWERS[k] for k in also if k in REPLY_ANSWERS and k != kind]
    if meeting:  # the calendar answered the meeting: say what was arranged, and answer the rest
        answer = MEETING_ARRANGED
        others = [o for o in others if o is not REPLY_ANSWERS[ReplyKind.MEETING]]
    instructions = answer.instructions + "".join(f" They also wrote: {o.instructions}" for o in others)
    live = prompt_template_live(intent=intent or Intent.WARM, channel=channel)
    template = PromptTemplate(
        intent=live.intent,
        channel_kind=live.channel_kind,
        version=live.version,
        instructions=instructions,
        max_chars=live.max_chars,
        fallback_subject=_reply_subject(subject),
        fallback_body=answer.fallback_body,
    )
    classification = Classification.objects.filter(lead_id=lead_id).order_by("-created_at", "-id").first()
    snippets = _knowledge_for(text)
    draft = _draft_and_judge(
        lead=lead,
        inbound=InboundMessage(pk=inbound.pk, lead_id=lead_id, subject=subject, body=text, channel=inbound.channel),
        classification=classification,
        intent=intent or Intent.WARM,
        channel=channel,
        template=template,
        operator_note=operator_note,
        conversation=conversation,
        snippets=snippets,
        turn="reply",
        meeting=meeting,
    )
    hand_over = [f"handed to a person: {a.hand_over}" for a in [answer, *others] if a.hand_over]
    if kind == ReplyKind.QUESTION and not snippets and draft.generated_by != "llm":
        hand_over.append("handed to a person: no fact in the knowledge answers the question")
    if any(k in OBJECTIONS for k in [kind, *also]) or hand_over:
        checks = [*draft.checks_failed, *hand_over]
        confidence = round(draft.confidence * 0.5 ** len(hand_over), 4)
        return ReplyDraft(**{**draft.__dict__, "checks_failed": checks, "confidence": confidence})
    return draft


def _reply_subject(subject: str) -> str:
    subject = " ".join(subject.split())
    if not subject:
        return "Re: your message"
    return subject if subject.lower().startswith(("re:", "aw:", "sv:")) else f"Re: {subject}"


def _knowledge_for(text: str) -> list[dict]:
    """The knowledge that answers what the lead just wrote, best first (as the first reply's retrieval)."""
    from dataclasses import asdict

    embedder = get_embedder()
    vector = embedder.embed_one(text)
    _, snippets = retrieve(
        vector=vector,
        examples=0,
        chunks=max(settings.KNOWLEDGE_CANDIDATES, settings.KNOWLEDGE_TOP_K),
        model_name=embedder.model_name,
    )
    ranked = rank_snippets(text=text, vector=vector, snippets=snippets, embedder=embedder)
    # Only a chunk that answers it well is offered as the fact (a weak match would answer something else).
    return [asdict(s) for s in ranked[: settings.KNOWLEDGE_TOP_K] if s.similarity >= REPLY_FACT_MIN_SIMILARITY]


# How similar a knowledge chunk must be to a reply before it is offered (a weak match answers something else).
REPLY_FACT_MIN_SIMILARITY = 0.4

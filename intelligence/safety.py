"""Checks that decide whether a draft may go out without a human: prompt-injection signals on the lead's text, and
the draft's own checks (greets the lead, fits the channel, no unfilled placeholder, nothing ungrounded)."""

from __future__ import annotations

import re

from intelligence.redaction import unfilled_placeholders

INJECTION_PATTERNS = [
    (
        r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instruction|prompt|rule|guideline|direction|above|previous|prior|system)",
        "asks to ignore instructions",
    ),
    (r"\b(system|developer|hidden|initial)\s+(prompt|message|instruction)", "mentions the system prompt"),
    (
        r"\byou\s+are\s+(now|no longer)\b|\bact\s+as\b|\bpretend\s+(to\s+be|you)\b|\brole\s*-?\s*play\b",
        "tries to change the assistant's role",
    ),
    (r"\b(jailbreak|dan mode|developer mode|do anything now)\b", "jailbreak wording"),
    (
        r"\bnew\s+(instruction|rule|task)s?\b|\binstead,?\s+(write|say|reply|respond|send)\b",
        "gives the assistant new instructions",
    ),
    (
        r"\b(reply|respond|answer|write|say)\s+(only\s+)?(with|that)\b.{0,60}"
        r"\b(discount|free|refund|% off|percent off|password|link)\b",
        "dictates the reply",
    ),
    (r"\b\d{2,3}\s*%\s*(off|discount)\b|\b(100%|totally|completely)\s+free\b", "demands a discount"),
    (
        r"(<\|?/?(system|assistant|im_start|im_end|user)\|?>|\[/?(system|inst)\]|```\s*(system|assistant))",
        "contains chat-format markup",
    ),
    (r"\b(assistant|system)\s*:\s", "impersonates a chat role"),
    (
        r"\b(send|forward|email|reveal|print|show)\b.{0,40}"
        r"\b(api key|password|credentials|secret|all (?:leads|customers|emails))",
        "asks for secrets or data",
    ),
    (r"(https?://|www\.)\S+\s*$|\bclick\s+(here|this link)\b", "pushes a link"),
    (r"[A-Za-z0-9+/]{60,}={0,2}", "contains an encoded blob"),
]
_COMPILED = [(re.compile(pattern, re.IGNORECASE | re.DOTALL), reason) for pattern, reason in INJECTION_PATTERNS]


def injection_signals(*texts: str) -> list[str]:
    """Reasons the lead's text looks like an attempt to steer the model (empty when none fired)."""
    reasons: list[str] = []
    for text in texts:
        for pattern, reason in _COMPILED:
            if text and pattern.search(text) and reason not in reasons:
                reasons.append(reason)
    return reasons


CHANNEL_LIMITS = {"email": 2000, "sms": 480, "whatsapp": 1000}
_URL = re.compile(r"(https?://|www\.)[^\s)>\]]+", re.IGNORECASE)
_PRICE = re.compile(
    r"[£$€]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s?(?:gbp|usd|eur|pounds|dollars|euros)\b|\b\d{1,3}\s?%",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d{1,2}(?:st|nd|rd|th)?\b|"
    r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b",
    re.IGNORECASE,
)
_PROMISE = re.compile(r"\b(guarantee[sd]?|promise[sd]?|money[- ]back|risk[- ]free|no[- ]risk)\b", re.IGNORECASE)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace(",", ""))


def draft_checks(
    *, subject: str, body: str, channel: str, first_name: str, knowledge: str, max_chars: int | None = None
) -> list[str]:
    """Every reason this draft should not go out unreviewed (empty when all checks pass). `max_chars` is the prompt
    template's limit; the channel's own limit applies when it is higher or absent."""
    failed: list[str] = []
    opening = body.strip().split("\n", 1)[0].lower()
    if first_name and first_name.lower() not in opening:
        failed.append(f"does not greet the lead by name ({first_name})")
    limit = min(CHANNEL_LIMITS.get(channel, 2000), max_chars or 10**9)
    if len(body) > limit:
        failed.append(f"longer than the {channel} limit ({len(body)} > {limit} characters)")
    if channel == "email" and not subject.strip():
        failed.append("the email has no subject")
    leftovers = unfilled_placeholders(subject + "\n" + body) + re.findall(r"\{\{.*?\}\}|\{[a-z_]+\}", body)
    if leftovers:
        failed.append(f"unfilled placeholder(s): {', '.join(sorted(set(leftovers)))}")
    known = _normalise(knowledge)
    text = subject + "\n" + body
    for kind, pattern in [("link", _URL), ("price", _PRICE), ("date", _DATE), ("promise", _PROMISE)]:
        ungrounded = sorted({m.group().strip() for m in pattern.finditer(text) if _normalise(m.group()) not in known})
        if ungrounded:
            failed.append(f"{kind} not in the knowledge base: {', '.join(ungrounded)}")
    return failed

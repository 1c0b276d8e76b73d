"""The LLM client: Anthropic's Messages API through the official SDK, structured output through a tool.

ANTHROPIC_API_KEY switches it on. The SDK itself reads ANTHROPIC_BASE_URL, which is how tests point it at a local
stub that speaks the Messages API.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

SUBMIT_REPLY_TOOL = {
    "name": "submit_reply",
    "description": "Submit the reply to send to the lead.",
    "input_schema": {
        "type": "object",
        "properties": {
            "subject": {"type": "string", "description": "Email subject line (empty for SMS/WhatsApp)"},
            "body": {"type": "string", "description": "The reply text, signed by the sender"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reasoning": {"type": "string", "description": "One or two sentences on why this reply fits"},
            "facts_used": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["subject", "body", "confidence", "reasoning", "facts_used"],
    },
}


SUBMIT_INTENT_TOOL = {
    "name": "submit_intent",
    "description": "Submit how ready to buy the lead is.",
    "input_schema": {
        "type": "object",
        "properties": {
            "intent": {"type": "string", "enum": ["hot", "warm", "cold"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reasoning": {"type": "string", "description": "One sentence on the deciding signal"},
        },
        "required": ["intent", "confidence", "reasoning"],
    },
}


class LlmError(Exception):
    """The LLM could not produce a usable reply; `reason` says why (shown on the message)."""

    def __init__(self, reason: str, *, model_call_id: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.model_call_id = model_call_id


@dataclass
class LlmReply:
    subject: str
    body: str
    confidence: float
    reasoning: str
    facts_used: list[str] = field(default_factory=list)
    model_call_id: int | None = None


class AnthropicClient:
    provider = "anthropic"

    def __init__(self, *, api_key: str, model: str, timeout: float, max_retries: int, max_tokens: int):
        import anthropic

        self.model = model
        self.max_tokens = max_tokens
        self._anthropic = anthropic
        self.client = anthropic.Anthropic(api_key=api_key, timeout=timeout, max_retries=max_retries)

    def draft_reply(
        self, *, system: str, prompt: str, lead_id: int | None, voice_examples: list[int] | None = None
    ) -> LlmReply:
        return self._call_tool(
            operation="draft", system=system, prompt=prompt, tool=SUBMIT_REPLY_TOOL, lead_id=lead_id,
            parse=_parse_tool_reply, voice_examples=voice_examples,
        )  # fmt: skip

    def arbitrate_intent(self, *, system: str, prompt: str, lead_id: int | None) -> IntentOpinion:
        return self._call_tool(
            operation="classify", system=system, prompt=prompt, tool=SUBMIT_INTENT_TOOL, lead_id=lead_id,
            parse=_parse_intent,
        )  # fmt: skip

    def _call_tool(
        self,
        *,
        operation: str,
        system: str,
        prompt: str,
        tool: dict,
        lead_id: int | None,
        parse,
        voice_examples: list[int] | None = None,
    ):
        """One Messages API call forced to answer through `tool`; every call (ok or not) writes a ModelCall."""
        from intelligence.services import model_call_record

        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": prompt}],
            "tools": [tool],
            "tool_choice": {"type": "tool", "name": tool["name"]},
        }
        started = time.perf_counter()
        try:
            response = self.client.messages.create(**request)
        except self._anthropic.APIError as exc:
            reason = f"{type(exc).__name__}: {exc}"
            call = model_call_record(
                operation=operation, provider=self.provider, model=self.model,
                latency_ms=(time.perf_counter() - started) * 1000, status="error", error=reason, lead_id=lead_id,
                request=request, voice_examples=voice_examples,
            )  # fmt: skip
            raise LlmError(reason, model_call_id=call.pk) from exc
        usage = response.usage
        call = model_call_record(
            operation=operation,
            provider=self.provider,
            model=self.model,
            latency_ms=(time.perf_counter() - started) * 1000,
            lead_id=lead_id,
            input_tokens=usage.input_tokens or 0,
            output_tokens=usage.output_tokens or 0,
            cache_creation_tokens=getattr(usage, "cache_creation_input_tokens", 0) or 0,
            cache_read_tokens=getattr(usage, "cache_read_input_tokens", 0) or 0,
            request=request,
            response=response.model_dump(mode="json"),
            voice_examples=voice_examples,
        )
        try:
            return parse(_tool_input(response, tool["name"], call.pk), model_call_id=call.pk)
        except LlmError as exc:
            call.status = "error"
            call.error = exc.reason
            call.save(update_fields=["status", "error"])
            raise


def _tool_input(response: Any, name: str, model_call_id: int) -> dict:
    block = next((b for b in response.content if getattr(b, "type", "") == "tool_use" and b.name == name), None)
    if block is None:
        raise LlmError(f"the model did not call {name}", model_call_id=model_call_id)
    return block.input if isinstance(block.input, dict) else {}


@dataclass
class IntentOpinion:
    intent: str
    confidence: float
    reasoning: str
    model_call_id: int | None = None


def _parse_intent(data: dict, *, model_call_id: int) -> IntentOpinion:
    intent, confidence = data.get("intent"), data.get("confidence")
    if intent not in ("hot", "warm", "cold"):
        raise LlmError("submit_intent gave no valid intent", model_call_id=model_call_id)
    if not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        raise LlmError("submit_intent confidence was not a number from 0 to 1", model_call_id=model_call_id)
    return IntentOpinion(intent, float(confidence), str(data.get("reasoning", "")), model_call_id)


def _parse_tool_reply(data: dict, *, model_call_id: int) -> LlmReply:
    body = data.get("body")
    subject = data.get("subject", "")
    confidence = data.get("confidence", 0)
    if not isinstance(body, str) or not body.strip():
        raise LlmError("submit_reply had no body text", model_call_id=model_call_id)
    if not isinstance(subject, str):
        raise LlmError("submit_reply subject was not text", model_call_id=model_call_id)
    if not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        raise LlmError("submit_reply confidence was not a number from 0 to 1", model_call_id=model_call_id)
    facts = data.get("facts_used") or []
    return LlmReply(
        subject=subject.strip(),
        body=body.strip(),
        confidence=float(confidence),
        reasoning=str(data.get("reasoning", "")),
        facts_used=[str(f) for f in facts] if isinstance(facts, list) else [],
        model_call_id=model_call_id,
    )


_client: AnthropicClient | None = None
_client_key: tuple | None = None
_client_lock = threading.Lock()


def get_llm_client() -> AnthropicClient | None:
    """The process's LLM client, or None when no ANTHROPIC_API_KEY is configured (drafts use fallback templates)."""
    global _client, _client_key
    if not settings.ANTHROPIC_API_KEY:
        return None
    key = (
        settings.ANTHROPIC_API_KEY,
        os.environ.get("ANTHROPIC_BASE_URL", ""),  # the SDK reads it when the client is made
        settings.LLM_MODEL,
        settings.LLM_TIMEOUT_SECONDS,
        settings.LLM_MAX_RETRIES,
        settings.LLM_MAX_OUTPUT_TOKENS,
    )
    with _client_lock:
        if _client is None or _client_key != key:
            _client = AnthropicClient(
                api_key=settings.ANTHROPIC_API_KEY,
                model=settings.LLM_MODEL,
                timeout=settings.LLM_TIMEOUT_SECONDS,
                max_retries=settings.LLM_MAX_RETRIES,
                max_tokens=settings.LLM_MAX_OUTPUT_TOKENS,
            )
            _client_key = key
    return _client

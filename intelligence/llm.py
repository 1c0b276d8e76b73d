"""The LLM client: Anthropic's Messages API through the official SDK, structured output through a tool.

ANTHROPIC_API_KEY switches it on. The SDK itself reads ANTHROPIC_BASE_URL, which is how tests point it at a local
stub that speaks the Messages API.
"""

from __future__ import annotations

import abc
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from intelligence.model_calls import model_call_record

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


@dataclass
class Exchange:
    """What a provider answered: the raw response, token usage, and the tool's arguments (None, with `problem`
    saying why, when the answer has none)."""

    response: dict
    usage: dict[str, int]
    tool_input: dict | None
    problem: str = ""


class ProviderError(Exception):
    """The provider gave no answer (after its retries): network, timeout, HTTP error."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class LlmClient(abc.ABC):
    """The interface drafting and arbitration use. Providers implement `_request` (the body to send) and `_send`."""

    provider = ""
    model = ""

    def draft_reply(
        self, *, system: str, prompt: str, lead_id: int | None, voice_examples: list[int] | None = None
    ) -> LlmReply:
        return self._call_tool(
            operation="draft",
            system=system,
            prompt=prompt,
            tool=SUBMIT_REPLY_TOOL,
            lead_id=lead_id,
            parse=_parse_tool_reply,
            voice_examples=voice_examples,
        )

    def arbitrate_intent(self, *, system: str, prompt: str, lead_id: int | None) -> IntentOpinion:
        return self._call_tool(
            operation="classify",
            system=system,
            prompt=prompt,
            tool=SUBMIT_INTENT_TOOL,
            lead_id=lead_id,
            parse=_parse_intent,
        )

    @abc.abstractmethod
    def _request(self, *, system: str, prompt: str, tool: dict) -> dict[str, Any]:
        """The provider's request body for one call answered through `tool`."""

    @abc.abstractmethod
    def _send(self, request: dict[str, Any], tool: dict) -> Exchange:
        """Send it; raise ProviderError when the provider gave no answer."""

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
        """One call that must answer with `tool`'s arguments; every call, ok or not, writes a ModelCall."""
        request = self._request(system=system, prompt=prompt, tool=tool)
        logged: dict[str, Any] = dict(
            operation=operation,
            provider=self.provider,
            model=self.model,
            lead_id=lead_id,
            request=request,
            voice_examples=voice_examples,
        )
        started = time.perf_counter()
        try:
            exchange = self._send(request, tool)
        except ProviderError as exc:
            latency_ms = (time.perf_counter() - started) * 1000
            call = model_call_record(**logged, latency_ms=latency_ms, status="error", error=exc.reason)
            raise LlmError(exc.reason, model_call_id=call.pk) from exc
        latency_ms = (time.perf_counter() - started) * 1000
        usage: dict[str, Any] = dict(exchange.usage)
        call = model_call_record(**logged, latency_ms=latency_ms, response=exchange.response, **usage)
        try:
            if exchange.tool_input is None:
                raise LlmError(exchange.problem, model_call_id=call.pk)
            return parse(exchange.tool_input, model_call_id=call.pk)
        except LlmError as exc:
            call.status = "error"
            call.error = exc.reason
            call.save(update_fields=["status", "error"])
            raise


class AnthropicClient(LlmClient):
    """Claude through the official SDK (which retries 429/5xx/timeouts with backoff), forced to answer via a tool."""

    provider = "anthropic"

    def __init__(self, *, api_key: str, model: str, timeout: float, max_retries: int, max_tokens: int):
        import anthropic

        self.model = model
        self.max_tokens = max_tokens
        self._anthropic = anthropic
        self.client = anthropic.Anthropic(api_key=api_key, timeout=timeout, max_retries=max_retries)

    def _request(self, *, system: str, prompt: str, tool: dict) -> dict[str, Any]:
        return {
            "model": self.model,
            "max_tokens": self.max_tokens,
            # The system prompt (with the business knowledge) is the same for every lead: the cached prefix.
            "system": [
                {
                    "type": "text",
                    "text": system,
                    **({"cache_control": {"type": "ephemeral"}} if settings.LLM_PROMPT_CACHING else {}),
                }
            ],
            "messages": [{"role": "user", "content": prompt}],
            "tools": [tool],
            "tool_choice": {"type": "tool", "name": tool["name"]},
        }

    def _send(self, request: dict[str, Any], tool: dict) -> Exchange:
        try:
            response = self.client.messages.create(**request)
        except self._anthropic.APIError as exc:
            raise ProviderError(f"{type(exc).__name__}: {exc}") from exc
        usage = response.usage
        block = next(
            (b for b in response.content if getattr(b, "type", "") == "tool_use" and b.name == tool["name"]), None
        )
        return Exchange(
            response=response.model_dump(mode="json"),
            usage={
                "input_tokens": usage.input_tokens or 0,
                "output_tokens": usage.output_tokens or 0,
                "cache_creation_tokens": getattr(usage, "cache_creation_input_tokens", 0) or 0,
                "cache_read_tokens": getattr(usage, "cache_read_input_tokens", 0) or 0,
            },
            tool_input=(block.input if isinstance(block.input, dict) else {}) if block else None,
            problem=f"the model did not call {tool['name']}",
        )


class OllamaClient(LlmClient):
    """The same interface over Ollama's chat API (`POST /api/chat`), for businesses that keep every byte on their own
    machines. Structured output through Ollama's `format` (the tool's JSON schema); retries with backoff on
    connection errors, timeouts and 5xx. Local models cost nothing per token."""

    provider = "ollama"
    backoff_seconds = 0.5

    def __init__(self, *, base_url: str, model: str, timeout: float, max_retries: int, max_tokens: int):
        import requests

        self.model = model
        self.max_tokens = max_tokens
        self.max_retries = max_retries
        self.timeout = timeout
        self.url = base_url.rstrip("/") + "/api/chat"
        self._requests = requests
        self.session = requests.Session()

    def _request(self, *, system: str, prompt: str, tool: dict) -> dict[str, Any]:
        instruction = f"Answer with one JSON object only, the arguments of {tool['name']}: {tool['description']}"
        return {
            "model": self.model,
            "messages": [
                {"role": "system", "content": f"{system}\n\n{instruction}"},
                {"role": "user", "content": prompt},
            ],
            "format": tool["input_schema"],
            "stream": False,
            "options": {"temperature": 0.3, "num_predict": self.max_tokens},
        }

    def _send(self, request: dict[str, Any], tool: dict) -> Exchange:
        import json

        reason = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                response = self.session.post(self.url, json=request, timeout=self.timeout)
            except self._requests.Timeout as exc:
                reason = f"Ollama timed out: {exc}"
                continue
            except self._requests.RequestException as exc:
                reason = f"Ollama unreachable: {type(exc).__name__}: {exc}"
                continue
            if response.status_code == 200:
                break
            reason = f"Ollama HTTP {response.status_code}: {_ollama_error(response)}"
            if response.status_code < 500:
                raise ProviderError(reason)  # a missing model or a bad request does not get better by retrying
        else:
            raise ProviderError(reason)
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderError(f"Ollama answered with something other than JSON: {exc}") from exc
        tool_input, problem = None, ""
        try:
            tool_input = json.loads(body["message"]["content"])
            if not isinstance(tool_input, dict):
                tool_input, problem = None, "Ollama's JSON was not an object"
        except (ValueError, KeyError, TypeError) as exc:
            problem = f"Ollama returned no JSON object: {type(exc).__name__}: {exc}"
        return Exchange(
            response=body if isinstance(body, dict) else {"body": body},
            usage={
                "input_tokens": int(body.get("prompt_eval_count") or 0) if isinstance(body, dict) else 0,
                "output_tokens": int(body.get("eval_count") or 0) if isinstance(body, dict) else 0,
            },
            tool_input=tool_input,
            problem=problem,
        )


def _ollama_error(response) -> str:
    try:
        return str(response.json().get("error", ""))[:500] or response.reason
    except (ValueError, AttributeError):
        return response.text[:500]


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


_client: LlmClient | None = None
_client_key: tuple[object, ...] | None = None
_client_lock = threading.Lock()


def llm_configured() -> bool:
    """A provider is configured and the admin's LLM flag is on."""
    from bizpilot.flags import flags

    return (settings.LLM_PROVIDER == "ollama" or bool(settings.ANTHROPIC_API_KEY)) and flags().llm


def get_llm_client() -> LlmClient | None:
    """The process's LLM client: Ollama when LLM_PROVIDER=ollama, Claude when ANTHROPIC_API_KEY is set, else None
    (drafts use the fallback templates)."""
    global _client, _client_key
    if not llm_configured():
        return None
    common = (settings.LLM_TIMEOUT_SECONDS, settings.LLM_MAX_RETRIES, settings.LLM_MAX_OUTPUT_TOKENS)
    key: tuple[object, ...]
    if settings.LLM_PROVIDER == "ollama":
        key = ("ollama", settings.OLLAMA_BASE_URL, settings.OLLAMA_MODEL, *common)
    else:
        # The SDK reads ANTHROPIC_BASE_URL when the client is made, so a change of it needs a new client.
        key = ("anthropic", settings.ANTHROPIC_API_KEY, os.environ.get("ANTHROPIC_BASE_URL", ""), settings.LLM_MODEL)
        key += common
    with _client_lock:
        if _client is None or _client_key != key:
            timeout, max_retries, max_tokens = common
            if settings.LLM_PROVIDER == "ollama":
                _client = OllamaClient(
                    base_url=settings.OLLAMA_BASE_URL,
                    model=settings.OLLAMA_MODEL,
                    timeout=timeout,
                    max_retries=max_retries,
                    max_tokens=max_tokens,
                )
            else:
                _client = AnthropicClient(
                    api_key=settings.ANTHROPIC_API_KEY,
                    model=settings.LLM_MODEL,
                    timeout=timeout,
                    max_retries=max_retries,
                    max_tokens=max_tokens,
                )
            _client_key = key
    return _client

"""A local HTTP server that answers with queued JSON and records each request: it speaks Anthropic's Messages API
wire format for the real `anthropic` SDK, and Ollama's chat API for the Ollama provider."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from bizpilot.tests.http_stub import LocalServer, StubHandler


def tool_use_message(
    reply: dict[str, Any],
    *,
    model: str = "claude-sonnet-5-5",
    input_tokens: int = 812,
    output_tokens: int = 164,
    cache_read: int = 0,
) -> dict[str, Any]:
    return {
        "id": "msg_stub_01",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "tool_use", "id": "toolu_stub_01", "name": "submit_reply", "input": reply}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": cache_read,
        },
    }


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


@dataclass
class StubResponse:
    status: int
    body: dict[str, Any] | None  # None: an empty body (SendGrid answers 202 with none)
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes


# Claude's tokenizer averages about 3.5 characters per token on English text (the stub's count, not ours: ours
# over-counts on purpose). The API's own system prompt for a forced tool call is part of the prefix.
STUB_CHARS_PER_TOKEN = 3.5
TOOL_USE_SYSTEM_TOKENS = 313
CACHE_TTL_SECONDS = 300.0


class PromptCache:
    """What the Messages API bills for a request, as its documentation describes prompt caching: the prefix up to
    the last block marked `cache_control` (tools, then system, then messages) is cached when it is at least
    `min_tokens` long; a request whose prefix matches one used within five minutes reads it (cache_read_input_tokens)
    and refreshes it, else writes it (cache_creation_input_tokens). Unmarked or shorter prefixes are plain input."""

    def __init__(self, min_tokens: int):
        self.min_tokens = min_tokens
        self.entries: dict[str, float] = {}

    @staticmethod
    def tokens(value: Any) -> int:
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        return math.ceil(len(text) / STUB_CHARS_PER_TOKEN) if text else 0

    def usage(self, request: dict[str, Any], reply: dict[str, Any], now: float) -> dict[str, int]:
        tools = request.get("tools") or []
        system = request.get("system") or []
        system = [{"type": "text", "text": system}] if isinstance(system, str) else system
        parts: list[tuple[Any, bool]] = [(tool, "cache_control" in tool) for tool in tools]
        parts.append(("", False))  # where the tool-use system prompt sits
        parts += [(block.get("text", ""), "cache_control" in block) for block in system]
        for message in request.get("messages", []):
            content = message.get("content")
            blocks = [{"text": content}] if isinstance(content, str) else content
            parts += [(block.get("text", block), "cache_control" in block) for block in blocks]
        sizes = [self.tokens(part) for part, _ in parts]
        sizes[len(tools)] = TOOL_USE_SYSTEM_TOKENS if tools else 0
        total = sum(sizes)
        marked = [i for i, (_, mark) in enumerate(parts) if mark]
        prefix_tokens = sum(sizes[: marked[-1] + 1]) if marked else 0
        written = read = 0
        if marked and prefix_tokens >= self.min_tokens:
            key = hashlib.sha256(
                json.dumps([p for p, _ in parts[: marked[-1] + 1]], sort_keys=True).encode()
            ).hexdigest()
            if self.entries.get(key, 0) > now:
                read = prefix_tokens
            else:
                written = prefix_tokens
            self.entries[key] = now + CACHE_TTL_SECONDS
        return {
            "input_tokens": total - written - read,
            "output_tokens": self.tokens(reply),
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read,
        }


class AnthropicStub(LocalServer):
    """Answers every POST (and GET) with the queued responses (the last one repeats) and records each request, JSON
    or form-encoded (a GET's query string). Serves as the Anthropic, Ollama, SendGrid and Twilio stubs. With
    `cache_min_tokens`, a Messages API answer's usage is what the API would bill (PromptCache) instead of the
    queued numbers."""

    def __init__(self, *, cache_min_tokens: int | None = None):
        self.prompt_cache = PromptCache(cache_min_tokens) if cache_min_tokens else None
        self.responses: list[StubResponse] = []
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(StubHandler):
            def do_GET(self):
                # A lookup (Twilio's message list): the query string is recorded as the body.
                query = self.path.partition("?")[2]
                self._answer({k: v[0] if len(v) == 1 else v for k, v in parse_qs(query).items()}, b"")

            def do_POST(self):
                raw = self.body()
                if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    body = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw.decode()).items()}  # Twilio
                else:
                    body = json.loads(raw or b"{}")
                self._answer(body, raw)

            def _answer(self, body, raw):
                with stub._lock:
                    stub.requests.append(
                        RecordedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body, raw)
                    )
                    response = stub.responses.pop(0) if len(stub.responses) > 1 else stub.responses[0]
                if response.delay:
                    time.sleep(response.delay)
                answer = response.body
                if stub.prompt_cache and answer and "usage" in answer and self.path.endswith("/messages"):
                    tool_input = next((b.get("input") for b in answer["content"] if b.get("type") == "tool_use"), "")
                    with stub._lock:
                        usage = stub.prompt_cache.usage(body, tool_input or answer["content"], time.monotonic())
                    answer = {**answer, "usage": usage}
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    self.reply(
                        response.status,
                        b"" if answer is None else json.dumps(answer).encode(),
                        headers={"request-id": "req_stub", **response.headers},
                    )

        super().__init__(Handler)

    def queue(self, *responses: StubResponse) -> None:
        with self._lock:
            self.responses = list(responses)


def ollama_chat_response(reply: dict[str, Any] | str, *, model: str = "llama3.1:8b") -> dict[str, Any]:
    """A non-streaming `POST /api/chat` answer as Ollama sends it; the structured output is the message's text."""
    return {
        "model": model,
        "created_at": "2026-11-24T10:00:00.000000Z",
        "message": {"role": "assistant", "content": reply if isinstance(reply, str) else json.dumps(reply)},
        "done_reason": "stop",
        "done": True,
        "total_duration": 4_648_158_584,
        "load_duration": 4_071_084,
        "prompt_eval_count": 640,
        "prompt_eval_duration": 439_038_000,
        "eval_count": 180,
        "eval_duration": 4_196_918_000,
    }

"""A local HTTP server that answers with queued JSON and records each request: it speaks Anthropic's Messages API
wire format for the real `anthropic` SDK, and Ollama's chat API for the Ollama provider."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


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


class AnthropicStub:
    """Answers every POST (and GET) with the queued responses (the last one repeats) and records each request, JSON
    or form-encoded (a GET's query string). Serves as the Anthropic, Ollama, SendGrid and Twilio stubs."""

    def __init__(self):
        self.responses: list[StubResponse] = []
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                # A lookup (Twilio's message list): the query string is recorded as the body.
                query = self.path.partition("?")[2]
                self._answer({k: v[0] if len(v) == 1 else v for k, v in parse_qs(query).items()}, b"")

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
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
                payload = b"" if response.body is None else json.dumps(response.body).encode()
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("request-id", "req_stub")
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def queue(self, *responses: StubResponse) -> None:
        with self._lock:
            self.responses = list(responses)

    def start(self) -> AnthropicStub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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

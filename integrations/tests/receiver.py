"""A webhook receiver for tests: a local HTTP server that verifies each request with the `standardwebhooks`
reference verifier, processes each `webhook-id` once (idempotent), and can be told to fail the first attempts of
every delivery or to be down altogether."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    def __init__(self, secret: str, *, fail_first: int = 0):
        self.verifier = Webhook(secret)
        self.fail_first = fail_first
        self.attempts: dict[str, int] = defaultdict(int)
        self.processed: list[dict[str, Any]] = []  # each webhook-id once, in the order processed
        self.seen: set[str] = set()
        self.forged = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a web server
            disable_nagle_algorithm = True  # and each answer in one write (no delayed-ACK stall per request)
            wbufsize = 64 * 1024

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k: v for k, v in self.headers.items()}
                try:
                    body = receiver.verifier.verify(raw, headers)
                except WebhookVerificationError:
                    with receiver.lock:
                        receiver.forged += 1
                    self._answer(401)
                    return
                webhook_id = headers.get("webhook-id") or headers.get("Webhook-Id", "")
                with receiver.lock:
                    receiver.attempts[webhook_id] += 1
                    if receiver.attempts[webhook_id] <= receiver.fail_first:
                        status = 500
                    else:
                        status = 200
                        if webhook_id not in receiver.seen:  # idempotent: a retry already processed is acknowledged
                            receiver.seen.add(webhook_id)
                            receiver.processed.append({"id": webhook_id, **body})
                self._answer(status)

            def _answer(self, status: int) -> None:
                payload = json.dumps({"ok": status == 200}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/bizpilot"

    def start(self) -> Receiver:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def restart(self) -> None:
        """Up again on the same port (after `stop`)."""
        handler = self.server.RequestHandlerClass
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.server.daemon_threads = True
        self.start()

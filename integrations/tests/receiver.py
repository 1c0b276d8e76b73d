"""A webhook receiver for tests: a local HTTP server that verifies each request with the `standardwebhooks`
reference verifier, processes each `webhook-id` once (idempotent), and can be told to fail the first attempts of
every delivery or to be down altogether."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bizpilot.tests.http_stub import LocalServer, StubHandler


class Receiver(LocalServer):
    def __init__(self, secret: str, *, fail_first: int = 0):
        self.verifier = Webhook(secret)
        self.fail_first = fail_first
        self.attempts: dict[str, int] = defaultdict(int)
        self.processed: list[dict[str, Any]] = []  # each webhook-id once, in the order processed
        self.seen: set[str] = set()
        self.forged = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(StubHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a web server
            disable_nagle_algorithm = True  # and each answer in one write (no delayed-ACK stall per request)
            wbufsize = 64 * 1024

            def do_POST(self):
                raw = self.body()
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
                self.reply(status, {"ok": status == 200})

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"{self.base_url}/hooks/bizpilot"

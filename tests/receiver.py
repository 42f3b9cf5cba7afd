"""A real HTTP receiver on 127.0.0.1 for delivery tests: it answers 500 to the first `failures`
calls, can be taken down (connection refused) and brought back on the same port, and applies
each message once by its Idempotency-Key (a repeat gets the first receipt), as receivers must."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self, failures: int = 0, delay_s: float = 0.0) -> None:
        self.failures = failures
        self.delay_s = delay_s  # before answering: a worker killed meanwhile never records the attempt
        self.refuse_with: int | None = None  # a status answered to every call instead of taking it
        self.calls: list[dict[str, Any]] = []  # every request, in arrival order
        self.effects: dict[str, dict[str, Any]] = {}  # Idempotency-Key → the message, applied once
        self.lock = threading.Lock()
        self.port = 0
        self._httpd: ThreadingHTTPServer | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/messages"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers.get("Idempotency-Key", "")
                with outer.lock:
                    outer.calls.append(
                        {
                            "key": key,
                            "topic": self.headers.get("X-Gongjian-Topic"),
                            "authorization": self.headers.get("Authorization"),
                            "body": body,
                        }
                    )
                    failing = len(outer.calls) <= outer.failures or outer.refuse_with is not None
                    if not failing and key not in outer.effects:
                        outer.effects[key] = {"body": json.loads(body), "receipt": f"R-{len(outer.effects) + 1}"}
                time.sleep(outer.delay_s)
                if failing:
                    self.send_response(outer.refuse_with or 500)
                    self.end_headers()
                    return
                answer = json.dumps({"receipt": outer.effects[key]["receipt"]}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def start(self) -> None:
        """Listen (again, on the same port once it had one)."""
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Down: nothing listens on the port, so a connection is refused."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def duplicates(self) -> int:
        """Calls that repeated a message already applied (resends the receiver deduped)."""
        with self.lock:
            applied = [c["key"] for c in self.calls[self.failures :]]
        return len(applied) - len(set(applied))

"""外部推送 over HTTP: POST the message body to the destination's configured URL (httpx)."""

from __future__ import annotations

import httpx

from application.ports import DeliveryError

# a receiver's refusal that a resend cannot change (retries, not these, are for outages)
PERMANENT = frozenset({400, 401, 403, 404, 405, 409, 410, 413, 415, 422})


class HttpSender:
    """One URL per destination system (Settings.delivery_urls); a 2xx answer's body is the receipt."""

    def __init__(self, urls: dict[str, str], timeout_s: float = 10.0) -> None:
        self.urls = dict(urls)
        # connect fast (a down receiver is an ordinary failure), wait longer for the answer
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0))

    def send(self, destination: str, message_id: str, topic: str, body: bytes) -> str:
        url = self.urls.get(destination, "")
        if not url.startswith(("http://", "https://")):
            raise DeliveryError(f"no URL configured for destination {destination} (GONGJIAN_DELIVERY_URLS)")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": message_id,
            "X-Gongjian-Topic": topic,
        }
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{destination} unreachable: {type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return response.text.strip() or f"HTTP {response.status_code}"
        raise DeliveryError(
            f"HTTP {response.status_code} from {destination}: {response.text[:200]}",
            permanent=response.status_code in PERMANENT,
        )

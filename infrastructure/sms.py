"""移动签章短信 over HTTP: POST the code to the SMS gateway (短信平台) as JSON (httpx).

The body is what government SMS platforms take — the number, a template id and its parameters:

    {"phone": "13800138000", "template_id": "<GONGJIAN_SMS_TEMPLATE>",
     "params": {"code": "123456", "minutes": "5"}, "message_id": "<uuid>"}

with `Authorization: <GONGJIAN_SMS_TOKEN>` (sent as given: `Bearer …`, `APPCODE …`) and
`Idempotency-Key: <message_id>` (the same on every attempt of one code). A 2xx answer is taken;
the gateway's message id is the answer's `message_id` / `messageId` / `msgId` / `id` / `receipt`,
or its text. A 4xx other than 408 and 429 is a refusal a resend cannot change (permanent); 5xx,
408, 429, connection errors and timeouts are retried.
"""

from __future__ import annotations

import json

import httpx

from application.ports import CodeDeliveryError, CodeMessage

RETRIED_4XX = frozenset({408, 425, 429})
ID_FIELDS = ("message_id", "messageId", "msgId", "id", "receipt")


class HttpCodeSender:
    def __init__(self, url: str, token: str | None, template_id: str, timeout_s: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("GONGJIAN_SMS_URL must be an http(s) URL")
        self.url = url
        self.token = token
        self.template_id = template_id
        # connect fast (a gateway that is down is an ordinary failure), wait a little longer for the answer
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0))

    def __repr__(self) -> str:  # never the token
        return f"HttpCodeSender({self.url!r}, template={self.template_id!r})"

    def send(self, message: CodeMessage) -> str:
        if not message.phone:
            raise CodeDeliveryError("no mobile number recorded for the signer on this request", permanent=True)
        body = {
            "phone": message.phone,
            "template_id": self.template_id,
            "params": {"code": message.code, "minutes": str(message.minutes)},
            "message_id": message.message_id,
        }
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.message_id}
        if self.token:
            headers["Authorization"] = self.token
        try:
            response = httpx.post(self.url, content=json.dumps(body).encode(), headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:  # the exception text names the URL, never the body
            raise CodeDeliveryError(f"SMS gateway unreachable: {type(exc).__name__}") from exc
        if response.is_success:
            return _gateway_id(response)
        status = response.status_code
        raise CodeDeliveryError(
            f"HTTP {status} from the SMS gateway: {response.text[:200]}",
            permanent=400 <= status < 500 and status not in RETRIED_4XX,
        )


def _gateway_id(response: httpx.Response) -> str:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        for name in ID_FIELDS:
            if answer.get(name) not in (None, ""):
                return str(answer[name])[:200]
    return response.text.strip()[:200] or f"HTTP {response.status_code}"

"""移动签章短信 — one-time codes to signers' phones: one attempt at once, then retries until the code expires.

A code exists in clear only here, in this process's memory, until the gateway takes it or it
expires (`CODE_TTL`, 5 minutes): it is never stored, not even encrypted. Every outcome is recorded
on the signing request — `MobileCodeSent` (the gateway's message id, attempts) or
`MobileCodeDeliveryFailed` (the error, the next try or none) — with the request id of the command
that issued the code, so the audit trail links them. A crash loses the codes still waiting: their
last record is a failure with a next try (or `MobileCodeIssued` alone), and the signer asks for a
new code, as after an outage longer than the TTL. A code replaced by a newer one, or used by a
signature, is dropped from the queue without a record.

Retries: `base·2^(n-1)` s after the n-th failure, at most `cap` (`GONGJIAN_SMS_RETRY_BASE_S`,
`_CAP_S`); a next try that would fall at or after the code's expiry is not made: the failure is
then final. A refusal the gateway would repeat (`permanent`: a 4xx but 408, 425 and 429, or no number
on the request) is final at once.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from application.base import Service
from application.clock import Clock
from application.policy import Actor
from application.ports import CodeDeliveryError, CodeMessage, CodeSender
from domain.shared.events import Channel, Meta
from domain.shared.retry import RetrySchedule
from domain.signatures import SigningRequest
from domain.signatures.signing import code_message_id
from infrastructure.log import GongjianApplication

log = logging.getLogger("gongjian.sms")

# 移动签章短信: outcomes are recorded by this account, channel system_rule
SMS_SENDER = Actor("system:sms", "integration", "gongjian", "460000", "移动签章短信")


@dataclass
class _Pending:
    message: CodeMessage
    request_id: str  # of the command that issued the code: the outcome events carry it
    attempts: int = 0


@dataclass(frozen=True)
class Outcome:
    state: str  # sent | retrying | failed | superseded
    attempts: int
    gateway_message_id: str | None = None
    error: str | None = None


class CodeDispatcher(Service):
    """Sends codes and keeps the failed ones in an in-process queue, bounded by their expiry."""

    def __init__(
        self,
        app: GongjianApplication,
        clock: Clock,
        position_of: Callable[[UUID, int], int | None],
        sender: CodeSender,
        retry: RetrySchedule | None = None,
    ) -> None:
        super().__init__(app, clock, position_of)
        self.sender = sender
        self.retry = retry or RetrySchedule(base_s=2.0, cap_s=30.0, max_attempts=None)
        self._queue: list[tuple[float, int, _Pending]] = []  # (monotonic due time, tie-break, entry)
        self._count = 0
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    # — the caller's side —

    def submit(self, message: CodeMessage, request_id: str) -> Outcome:
        """The first attempt, in the caller's thread; a failure worth retrying goes to the queue."""
        return self._attempt(_Pending(message, request_id))

    def waiting(self) -> int:
        with self._lock:
            return len(self._queue)

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # — attempts —

    def _attempt(self, pending: _Pending) -> Outcome:
        message = pending.message
        unwanted = self._unwanted(message)
        if unwanted == "expired":  # e.g. the process was busy past the expiry: a final record all the same
            self._record_failure(pending, "the code expired unsent", None)
            return Outcome("failed", pending.attempts, error="the code expired unsent")
        if unwanted is not None:
            return Outcome("superseded", pending.attempts)
        pending.attempts += 1
        try:
            gateway_id = self.sender.send(message)
        except CodeDeliveryError as exc:
            return self._failed(pending, _redacted(str(exc), message), exc.permanent)
        except Exception as exc:  # a sender's bug must not kill the queue's thread
            log.exception("SMS sender failed on %s", message)
            return self._failed(pending, _redacted(f"{type(exc).__name__}: {exc}", message), False)
        gateway_id = _redacted(gateway_id, message)
        self._record(pending, "sent", gateway_id)
        return Outcome("sent", pending.attempts, gateway_message_id=gateway_id)

    def _failed(self, pending: _Pending, error: str, permanent: bool) -> Outcome:
        message = pending.message
        delay = self.retry.delay_s(pending.attempts)
        retry_at: datetime | None = self.clock.now() + timedelta(seconds=delay)
        if permanent or (retry_at is not None and retry_at >= message.expires_at):
            retry_at = None  # no try left that could arrive in time: final
        self._record_failure(pending, error, retry_at)
        if retry_at is None:
            log.warning("SMS code for %s given up after %d attempt(s): %s", message, pending.attempts, error)
            return Outcome("failed", pending.attempts, error=error)
        self._enqueue(pending, delay)
        return Outcome("retrying", pending.attempts, error=error)

    def _unwanted(self, message: CodeMessage) -> str | None:
        """Why the code is not to be sent (any more): superseded (a newer code, or used), expired; else None."""
        request = self.find(SigningRequest, UUID(message.signing_request_id))
        salt = request.code_salt_of(message.signer) if request is not None else None
        if (
            request is None
            or salt is None
            or str(code_message_id(request.id, message.signer, salt)) != message.message_id
        ):
            return "superseded"
        return "expired" if self.clock.now() >= message.expires_at else None

    def _record_failure(self, pending: _Pending, error: str, retry_at: datetime | None) -> None:
        self._record(pending, "failed", error, retry_at)

    def _record(self, pending: _Pending, outcome: str, text: str, retry_at: datetime | None = None) -> None:
        """`MobileCodeSent` (text: the gateway's message id) or `MobileCodeDeliveryFailed` (text: the error)."""
        message = pending.message

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            request = self.load(SigningRequest, UUID(message.signing_request_id), "signing request")
            if outcome == "sent":
                request.record_code_sent(meta, message.signer, message.message_id, text, pending.attempts)
            else:
                request.record_code_failure(meta, message.signer, message.message_id, pending.attempts, text, retry_at)
            return [request], {"id": str(request.id)}

        meta = self.meta(SMS_SENDER, pending.request_id, channel=Channel.SYSTEM_RULE)
        try:
            self.execute(meta, SMS_SENDER, None, work)
        except Exception:  # the outcome stands whether or not it could be written down
            log.exception("could not record the SMS outcome of %s", pending.message)

    # — the queue —

    def _enqueue(self, pending: _Pending, delay_s: float) -> None:
        with self._lock:
            self._count += 1
            heapq.heappush(self._queue, (time.monotonic() + delay_s, self._count, pending))
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._run, name="gongjian-sms-retries", daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and (not self._queue or self._queue[0][0] > time.monotonic()):
                    self._lock.wait(timeout=(self._queue[0][0] - time.monotonic()) if self._queue else None)
                if self._stopping:
                    return
                _due, _n, pending = heapq.heappop(self._queue)
            try:
                self._attempt(pending)
            except Exception:
                log.exception("SMS retry of %s failed", pending.message)


def _redacted(text: str, message: CodeMessage) -> str:
    """What a gateway echoed, without the code or the number: both stay out of the events."""
    text = text.replace(message.code, "******")
    return text.replace(message.phone, "***********") if message.phone else text

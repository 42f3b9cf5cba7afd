"""Ports: what the services need from the outside world, declared here and implemented by the
adapters in infrastructure/ (the only module of application/ that infrastructure may import:
.importlinter). Errors an adapter raises are part of its port."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID


class ArchiveStorage(Protocol):
    """Where package bytes are kept (infrastructure/archives.py: files under one directory)."""

    def put(self, archive_id: UUID, package_hash: str, data: bytes) -> str: ...
    def get(self, location: str) -> bytes: ...


class TransferError(Exception):
    """档案移交失败 — the archive management system did not take the package."""


class ArchiveSystem(Protocol):
    """The archive management system (infrastructure/archives.py: HTTP)."""

    @property
    def destination(self) -> str: ...
    def transfer(self, archive_id: str, manifest_hash: str, data: bytes) -> str: ...


class DeliveryError(Exception):
    """推送失败 — the destination did not take the message; `permanent`: retrying cannot help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Sender(Protocol):
    """Sends one message (infrastructure/delivery.py: HTTP); returns the receipt or raises DeliveryError."""

    def send(self, destination: str, message_id: str, topic: str, body: bytes) -> str: ...


class CodeDeliveryError(Exception):
    """验证码发送失败 — the gateway did not take the code; `permanent`: a resend cannot help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class CodeMessage:
    """One code for one signer. `repr` leaves out the code and the number (logs, tracebacks)."""

    message_id: str  # code_message_id(...): the gateway's Idempotency-Key, the same on every attempt
    signing_request_id: str
    signer: str
    phone: str | None = field(repr=False)
    code: str = field(repr=False)
    expires_at: datetime
    minutes: int  # how long the code lives, for the text


class CodeSender(Protocol):
    """Hands one code to the SMS gateway; returns the gateway's message id or raises CodeDeliveryError."""

    def send(self, message: CodeMessage) -> str: ...

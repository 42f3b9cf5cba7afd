"""Input checks of the Case commands (domain/approvals/case.py), kept apart so the aggregate stays short."""

from __future__ import annotations

from datetime import date

from domain.shared.errors import InvalidValue
from domain.shared.events import SHANGHAI, Channel, Meta


def required(value: str, field: str) -> str:
    if not value or not value.strip():
        raise InvalidValue(field, f"{field} is required", "required")
    return value.strip()


def pinned_fields(pinned: tuple[str, str, str] | None) -> dict[str, str | None]:
    """The catalogue versions a case runs under, as event fields (None: the seed, docs/catalogue.md)."""
    flow_code, flow_version, item_version = pinned if pinned else (None, None, None)
    return {"flow_code": flow_code, "flow_version": flow_version, "item_version": item_version}


def check_back_entry(meta: Meta, received_on: date | None, accepted_on: date | None, reason: str) -> str:
    """A back-entry's channel, business time, reason and date order; the reason, stripped."""
    if meta.channel != Channel.OFFLINE_BACKENTRY:
        raise InvalidValue("channel", "a back-entry is recorded through the offline_backentry channel", "channel")
    if meta.occurred_at is None:
        raise InvalidValue("decided_at", "a back-entry needs the business time of the decision", "required")
    if not reason.strip():
        raise InvalidValue("reason", "a back-entry needs the reason it was handled offline", "required")
    decided_on = meta.business_time.astimezone(SHANGHAI).date()
    if accepted_on and accepted_on > decided_on:
        raise InvalidValue("accepted_on", "acceptance is after the decision", "order")
    if received_on and accepted_on and received_on > accepted_on:
        raise InvalidValue("received_on", "receipt is after acceptance", "order")
    return reason.strip()

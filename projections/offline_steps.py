"""The facts of city cases as the off-system warnings read them (issue 15): the name mapping and
W6 grace of warning_rules.toml, the step an SPGL row records, and the summary of a judged city
case kept in its ow_city_cases row (projections/offline_imported.py uses them)."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from importlib import resources
from typing import Any

from domain.exchange import spgl
from domain.shared.events import SHANGHAI
from domain.supervision.rules import CaseFacts, Kind, Limits, Step
from domain.supervision.rules.facts import CLOSINGS, STATUS_KINDS
from domain.supervision.rules.lifecycle import clock_pauses
from domain.supervision.rules.mapping import NameMapping
from projections.rules import Thresholds


def load_config(text: str | None = None) -> tuple[NameMapping, int]:
    """The city-name mapping and the W6 open-case grace of warning_rules.toml."""
    if text is None:
        text = resources.files("projections").joinpath("warning_rules.toml").read_text(encoding="utf-8")
    raw: dict[str, Any] = tomllib.loads(text)
    mapping = raw.get("mapping", {})
    names = NameMapping(dict(mapping.get("items", {})), dict(mapping.get("departments", {})))
    return names, int(raw["W6"]["open_overdue_days"])


NAMES, OPEN_OVERDUE_DAYS = load_config()


def limits(t: Thresholds, open_overdue_days: int = OPEN_OVERDUE_DAYS) -> Limits:
    return Limits(
        max_business_lag_hours=t.max_business_lag_hours,
        min_minutes_receipt_to_approval=t.min_minutes_receipt_to_approval,
        promised_limit_above_days=t.promised_limit_above_days,
        exempt_channels=t.exempt_channels,
        synthetic_equal_gaps=t.synthetic_equal_gaps,
        max_corrections=t.max_corrections,
        open_overdue_days=open_overdue_days,
        consulted=t.consulted,
    )


def _code_region(project_code: str | None) -> str | None:
    """The division segment of a national project code (`2611-460100-…`)."""
    parts = (project_code or "").split("-")
    return parts[1] if len(parts) > 1 and len(parts[1]) == 6 and parts[1].isdigit() else None


def _moment(text: str | None) -> str | None:
    """An SPGL time as an ISO string with its offset (local time unless it names one)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)).isoformat()


def _int(text: str | None) -> int | None:
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def row_ref(system: str, table: str, row: dict[str, str]) -> str:
    return f"{system} {table}/{row.get('DFSJZJ', '')} LSH {row.get('LSH', '')}"


def step_of(table: str, row: dict[str, str]) -> dict[str, Any] | None:
    """The step an SPGL child row of a case records (None: a row that is no step, e.g. materials)."""
    if table == spgl.STATUS:
        kind = STATUS_KINDS.get(_int(row.get("BLZT")) or 0)
        return None if kind is None else {"kind": kind, "business_time": _moment(row.get("BLSJ"))}
    if table == spgl.OPINION:
        name = row.get("SPBMMC") or row.get("SPBMBM")
        return {
            "kind": Kind.OPINION,
            "business_time": _moment(row.get("BLSJ")),
            "department": NAMES.department(name),
            "department_name": name,
        }
    if table == spgl.SPECIAL:
        return {
            "kind": Kind.SPECIAL_STARTED,
            "business_time": _moment(row.get("TBCXKSSJ")),
            "limit_days": _int(row.get("TBCXSX")),
            "name": row.get("TBCXMC") or row.get("TBCX"),
        }
    if table == spgl.DOCUMENT:
        return {"kind": Kind.DOCUMENT, "business_time": _moment(row.get("PFRQ"))}
    return None


UPDATE_JUDGED = (
    "UPDATE ow_city_cases SET due_on = ?, summary = ?, started_day = ?, started_position = ?, started_ref = ?"
    " WHERE case_ref = ?"
)


def _summary(facts: CaseFacts) -> dict[str, Any]:
    """A city case's acceptance, approval, closing (day and log position) and pauses, as the stage
    rule reads them; and its earliest step (W1 reads it as the case's receipt)."""
    steps = [s for s in facts.ordered() if s.business_time is not None]
    first: dict[Kind, Step] = {}
    for s in steps:
        first.setdefault(s.kind, s)
    accepted = first.get(Kind.ACCEPTED)
    approved = first.get(Kind.APPROVED) or first.get(Kind.DOCUMENT)
    closed = next((s for s in steps if s.kind in CLOSINGS or s.kind == Kind.DOCUMENT), None)
    pauses, _ = clock_pauses(steps, None)
    earliest = min(steps, key=lambda s: (s.business_time, s.source.ref), default=None)

    def day(step: Step | None) -> str | None:
        return step.business_time.astimezone(SHANGHAI).date().isoformat() if step and step.business_time else None

    def position(step: Step | None) -> int | None:
        return step.source.position if step else None

    return {
        "accepted_on": day(accepted),
        "accepted_position": position(accepted),
        "approved_on": day(approved),
        "approved_position": position(approved),
        "closed_on": day(closed),
        "closed_position": position(closed),
        "pauses": json.dumps(
            [
                {"kind": p.kind, "start": p.start.isoformat(), "end": p.end.isoformat() if p.end else None}
                for p in pauses
            ]
        ),
        "started": {"day": day(earliest), "position": earliest.source.position, "ref": earliest.source.ref}
        if earliest
        else None,
    }

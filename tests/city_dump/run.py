"""Feeding a dump through the real application services, in nightly batches or monthly dumps and
in several orders, and scoring the open warnings against the labels."""

from __future__ import annotations

import importlib
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast

from application.bootstrap import Container
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.exchange import ReportExternalRecord
from application.commands.spgl import ImportSpglTables
from application.policy import Actor
from domain.exchange import spgl
from projections.offline_warnings import OfflineWarnings
from tests.city_dump.model import SHANGHAI, Dump, Label, Row

CITY_ACTOR = Actor("haikou-system", "integration", "460100-gongjian", "460100", "海口市工建系统")
ORDERS = ("nightly", "shuffled", "reversed", "monthly")
START = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


def deliveries(d: Dump, order: str = "nightly") -> list[tuple[datetime, str, Any]]:
    """What arrives when: the city's batches (nightly, or one dump a month) and each certificate."""
    batches: dict[datetime, list[Row]] = defaultdict(list)
    for row in d.rows:
        at = row.uploaded
        if order == "monthly":
            local = at.astimezone(SHANGHAI)
            first = (local.replace(day=1) + timedelta(days=32)).replace(day=1)
            at = datetime.combine(first.date() + timedelta(days=2), time(2, 0), SHANGHAI)
        batches[at].append(row)
    out: list[tuple[datetime, str, Any]] = [(at, "rows", rows) for at, rows in batches.items()]
    out += [(c.reported, "certificate", c.fields) for c in d.certificates]
    rng = random.Random(d.seed + 1)
    if order == "shuffled":
        for _, kind, rows in out:
            if kind == "rows":
                rng.shuffle(rows)
        rng.shuffle(out)  # certificates of the same moment in another order
    elif order == "reversed":
        for _, kind, rows in out:
            if kind == "rows":
                rows.reverse()
        out.reverse()
    out.sort(key=lambda x: (x[0], x[1] == "certificate"))  # stable: ties keep the order chosen above
    return out


@dataclass
class Fed:
    batches: int = 0
    certificates: int = 0
    rows: int = 0
    unexpected_errors: list[dict[str, Any]] = field(default_factory=list)
    expected_errors: int = 0


def feed(
    c: Container,
    clock: SimulatedClock,
    d: Dump,
    order: str = "nightly",
    tag: str = "cd",
    *,
    catch_up: bool = True,
    after_each: Callable[[Container], object] | None = None,
) -> Fed:
    """Every delivery through the application services at its time (the clock follows); then the
    warnings are caught up (`catch_up`). `after_each` runs after every delivery (bench/detection.py)."""
    fed = Fed()
    tick, ticked = _ticker(c, clock), None
    for n, (at, kind, payload) in enumerate(deliveries(d, order)):
        clock.set(at.astimezone(UTC))
        if tick is not None and at.astimezone(SHANGHAI).date() != ticked:
            tick()  # the automation worker's daily round (time-driven rules: W6 open cases)
            ticked = at.astimezone(SHANGHAI).date()
        if kind == "certificate":
            c.exchange.report(Invocation(CITY_ACTOR, f"{tag}-{payload['source_id']}"), ReportExternalRecord(payload))
            fed.certificates += 1
            if after_each is not None:
                after_each(c)
            continue
        tables: dict[str, list[dict[str, Any]]] = {t: [] for t in spgl.ORDER}
        for row in payload:
            tables[row.table].append(row.fields)
        result = c.spgl.import_tables(
            Invocation(CITY_ACTOR, f"{tag}-batch-{n}"),
            ImportSpglTables("haikou", {t: r for t, r in tables.items() if r}),
        )
        fed.batches += 1
        fed.rows += len(payload)
        for error in result.errors:
            if any(error["local_key"] == k or error["local_key"].startswith(f"{k}-") for k in d.rejected):
                fed.expected_errors += 1
            else:
                fed.unexpected_errors.append(error)
        if after_each is not None:
            after_each(c)
    if catch_up:
        c.engine.catch_up([OfflineWarnings.name])  # the measured read model only; the others are not needed
    return fed


def _ticker(c: Container, clock: SimulatedClock) -> Callable[[], object] | None:
    """The supervision clock's daily tick, when the application has one."""
    service = getattr(c, "supervision_clock", None)
    if service is None:
        try:
            module = importlib.import_module("application.supervision_clock")
        except ImportError:
            return None
        service = module.SupervisionClockService(c.app, clock, lambda *_: None)
    return cast(Callable[[], object], service.tick)


def open_warnings(c: Container) -> list[dict[str, Any]]:
    c.engine.catch_up([OfflineWarnings.name])
    rows, _, _ = OfflineWarnings(c.db).list(first=1_000_000, status="open")
    return rows


_SPLIT = re.compile(r"[\s|,;/:]+")


def names(w: dict[str, Any], label: Label) -> bool:
    """Does the warning name the label's subject? Its subject (whole, or one of its parts), its
    case id, or — for a project label — its project code."""
    subject = str(w.get("subject") or "")
    if label.subject in (subject, w.get("case_id")) or label.subject in _SPLIT.split(subject):
        return True
    return label.by_project and w.get("project_code") == label.subject


@dataclass
class Score:
    recall: float
    precision: float
    per_rule: dict[str, dict[str, Any]]
    missed: list[Label]
    false: list[dict[str, Any]]
    warnings: int
    consequences: int = 0  # true warnings that match only as a documented consequence

    def false_by_reason(self) -> dict[str, int]:
        return dict(Counter(w["reason"] for w in self.false).most_common())


def score(d: Dump, warnings: list[dict[str, Any]]) -> Score:
    """Recall: labels named by an open warning of their rule. Precision: open warnings that match a
    label (its rule naming its subject, or a documented consequence on the label's project)."""
    caught = [lb for lb in d.labels if any(w["rule"] == lb.rule and names(w, lb) for w in warnings)]
    true: list[dict[str, Any]] = []
    false: list[dict[str, Any]] = []
    consequences = 0
    for w in warnings:
        direct = any(w["rule"] == lb.rule and names(w, lb) for lb in d.labels)
        ok = direct or any(
            w["rule"] in lb.consequences and (w.get("project_code") == lb.project or names(w, lb)) for lb in d.labels
        )
        consequences += ok and not direct
        (true if ok else false).append(w)
    per_rule: dict[str, dict[str, Any]] = {}
    for rule in sorted({lb.rule for lb in d.labels}, key=lambda r: int(r[1:])):
        labels = [lb for lb in d.labels if lb.rule == rule]
        raised = [w for w in warnings if w["rule"] == rule]
        good = [w for w in raised if w in true]
        per_rule[rule] = {
            "labels": len(labels),
            "caught": sum(lb in caught for lb in labels),
            "recall": round(sum(lb in caught for lb in labels) / len(labels), 3),
            "warnings": len(raised),
            "precision": round(len(good) / len(raised), 3) if raised else None,
        }
    return Score(
        recall=round(len(caught) / len(d.labels), 3) if d.labels else 1.0,
        precision=round(len(true) / len(warnings), 3) if warnings else 1.0,
        per_rule=per_rule,
        missed=[lb for lb in d.labels if lb not in caught],
        false=false,
        warnings=len(warnings),
        consequences=consequences,
    )


def clock() -> SimulatedClock:
    return SimulatedClock(START)

"""The facts the off-system warning rules judge, whatever channel brought them (issue 15).

A case's life is a set of `Step`s: a status change, an opinion, a special procedure, an approval
document. The same step is the same fact whether our own events, an imported SPGL row (with its
table and serial LSH) or an external record reported it; each keeps its `Source` — channel, log
position and where it came from — so that an explanation can name it.

Rules read a `CaseFacts` and return `Finding`s; they never look at the order the facts arrived
in: steps are judged in business-time order, ties broken by kind and by the source's reference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache


class Kind(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    CORRECTION_REQUESTED = "correction_requested"
    CORRECTION_COMPLETED = "correction_completed"
    REVIEW = "review"
    SPECIAL_STARTED = "special_started"
    SPECIAL_ENDED = "special_ended"
    OPINION = "opinion"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    DOCUMENT = "document"  # an approval document (批复文件): approves on its date
    # facts our own events carry and SPGL status rows do not (appended: the ranks above stay)
    REVOKED = "revoked"  # 撤销: a decision revoked (a status transition)
    FOLLOW_UP = "follow_up"  # after or beside the transitions: materials supplied, commitments verified …


# the BLZT codes of reference/case_status.csv as steps
STATUS_KINDS: dict[int, Kind] = {
    1: Kind.RECEIVED,
    2: Kind.WITHDRAWN,
    3: Kind.ACCEPTED,
    4: Kind.NOT_ACCEPTED,
    5: Kind.NOT_ACCEPTED,
    6: Kind.CORRECTION_REQUESTED,
    7: Kind.CORRECTION_COMPLETED,
    8: Kind.REVIEW,
    9: Kind.SPECIAL_STARTED,
    10: Kind.SPECIAL_ENDED,
    11: Kind.APPROVED,
    12: Kind.APPROVED,
    13: Kind.REFUSED,
    14: Kind.WITHDRAWN,
    15: Kind.WITHDRAWN,
}
# the order of two steps with the same business time: the life of a case reads this way
RANK = {kind: n for n, kind in enumerate(Kind)}
DECISIONS = frozenset({Kind.APPROVED, Kind.REFUSED, Kind.NOT_ACCEPTED})
CLOSINGS = DECISIONS | {Kind.WITHDRAWN}
# status transitions (opinions, documents, follow-ups and special-procedure rows are facts beside them)
TRANSITIONS = frozenset(STATUS_KINDS.values()) | {Kind.REVOKED}


@dataclass(frozen=True)
class Source:
    """Where a fact came from: its channel, its log position and a reference an officer can follow
    (`our case …`, `海口 SPGL_XMSPSXBLXXXXB LSH 123`, `license_library cert-7`)."""

    channel: str
    position: int
    ref: str

    def describe(self) -> str:
        return f"{self.ref}（日志位置{self.position}）"


@dataclass(frozen=True)
class Step:
    kind: Kind
    business_time: datetime | None
    source: Source
    recorded_at: datetime | None = None  # when the producing system recorded it (our event time, GXSJ)
    department: str | None = None  # opinions: the opining department, already mapped to our codes
    department_name: str | None = None  # as the source wrote it
    limit_days: int | None = None  # special procedures: their own limit
    name: str | None = None  # special procedures: their name
    # opinions: the item's flow (its department, the consulted ones) in force when the opinion was
    # read — W10 judges an opinion by the edition in force then; None: the case's allowed departments
    flow: frozenset[str] | None = None
    back_entry: bool = False  # a decision entered afterwards (补录, W2.back_entry); recorded_at: when

    def keyed(self, moment: str) -> Step:
        """The step, its sort key's time given: `moment` is `business_time.isoformat()` (a caller
        that parsed the time from that text has it: not written again)."""
        object.__setattr__(self, "_key", (moment, RANK[self.kind], self.source.ref, self.source.position))
        return self

    def sort_key(self) -> tuple[str, int, str, int]:
        known: tuple[str, int, str, int] | None = self.__dict__.get("_key")
        if known is None:  # kept (a cache, not a field): a case's steps are sorted again at each judging
            moment = self.business_time.isoformat() if self.business_time else "9999"
            known = moment, RANK[self.kind], self.source.ref, self.source.position
            object.__setattr__(self, "_key", known)
        return known


@dataclass(frozen=True)
class CaseFacts:
    """One case (ours, or a city system's) and every step known of it, in no particular order."""

    case_id: str
    item_code: str | None  # our catalogue code (after the city's code was mapped); None: unknown
    limit_days: int | None  # the promised limit that binds the case (working days)
    allowed_departments: frozenset[str] = frozenset()  # the item's flow: its department, consulted ones
    steps: tuple[Step, ...] = ()
    origin: Source | None = None  # the case row / event that made the case known
    system: str = ""  # the system that handled it ("" for ours: our events' log positions never change)
    promised_days: int | None = None  # the item's promised limit, when it differs from limit_days (W3)

    def ordered(self) -> list[Step]:
        """The steps by business time (then kind, then source). Sorted once per instance: the rules
        ask for it several times per case."""
        known: list[Step] | None = self.__dict__.get("_ordered")
        if known is None:
            known = sorted(self.steps, key=Step.sort_key)
            object.__setattr__(self, "_ordered", known)  # a cache, not a field: frozen, equal, hashed alike
        return list(known)

    def timed(self) -> list[Step]:
        """The ordered steps that have a business time (cached like `ordered`: read, never change it)."""
        known: list[Step] | None = self.__dict__.get("_timed")
        if known is None:
            known = [s for s in self.ordered() if s.business_time is not None]
            object.__setattr__(self, "_timed", known)
        return known

    def _index(self) -> tuple[dict[Kind, tuple[int, Step]], dict[Kind, list[Step]]]:
        """The `timed` steps by kind: each kind's first (with its rank) and all of them, in order."""
        index: tuple[dict[Kind, tuple[int, Step]], dict[Kind, list[Step]]] | None = self.__dict__.get("_kinds")
        if index is None:
            firsts: dict[Kind, tuple[int, Step]] = {}
            kinds: dict[Kind, list[Step]] = {}
            for n, s in enumerate(self.timed()):
                if s.kind in kinds:
                    kinds[s.kind].append(s)
                else:
                    firsts[s.kind], kinds[s.kind] = (n, s), [s]
            index = firsts, kinds
            object.__setattr__(self, "_kinds", index)
        return index

    def of_kind(self, kind: Kind) -> list[Step]:
        """The `timed` steps of this kind, in order (read, never change it)."""
        return self._index()[1].get(kind) or []

    def first(self, *kinds: Kind) -> Step | None:
        """The first of the `timed` steps of one of these kinds (None: none)."""
        firsts = self._index()[0]
        best: tuple[int, Step] | None = None
        for kind in kinds:
            held = firsts.get(kind)
            if held is not None and (best is None or held[0] < best[0]):
                best = held
        return best[1] if best is not None else None


@dataclass(frozen=True)
class Finding:
    """A violated rule: its id keys (stable, order-free), reason, one-sentence explanation naming
    the facts, and the log positions that prove it."""

    rule: str
    keys: tuple[str, ...]
    reason: str
    explanation: str
    evidence: tuple[int, ...]
    department: str | None = None  # when the finding concerns another department than the case's


@dataclass(frozen=True)
class Limits:
    """Thresholds of warning_rules.toml the lifecycle rules use, and the items' consulted departments
    (W10: the catalogue in force, projections/rules ConsultedInForce)."""

    max_business_lag_hours: float = 72
    min_minutes_receipt_to_approval: float = 30
    promised_limit_above_days: int = 1
    exempt_channels: frozenset[str] = frozenset({"system_rule"})
    synthetic_equal_gaps: int = 3
    max_corrections: int = 1
    open_overdue_days: int = 10  # an open case this many working days past its deadline is W6
    consulted: Mapping[str, frozenset[str]] = field(default_factory=dict)


@lru_cache(maxsize=1 << 16)  # a case's warnings are named again at each of its events
def warning_id(rule: str, *keys: str) -> str:
    """A warning's stable id: the rule and a hash of its subject keys (the same on every replay)."""
    return f"{rule}-" + hashlib.sha1("|".join((rule, *keys)).encode()).hexdigest()[:20]  # noqa: S324 — an id, not a secret

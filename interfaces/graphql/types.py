"""GraphQL types of the read side. Nodes are built from read-model rows, or — for `asOf` — from
aggregates replayed from the log, through the same view dataclasses."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.approvals import CaseClock
from domain.blueprint.check import area_m2
from domain.catalog import CATALOG
from domain.shared.events import SHANGHAI
from domain.shared.reference import REFERENCE
from interfaces.graphql.blueprint import ProjectLand, land_of
from interfaces.graphql.context import Context
from interfaces.graphql.follow_up import CommitmentApproval, PendingMaterials, follow_ups
from interfaces.graphql.industry_lists import IndustryOverview, industry_overview
from interfaces.graphql.intermediaries import AssessmentReviewNode, reviews_of
from interfaces.graphql.ledger import InclusionProof, StoredEvent, inclusion_proof, may_read_raw, stored_event
from interfaces.graphql.personal import Withheld, personal
from projections.audit_subjects import SECRET_EVENT_TYPES

T = TypeVar("T")


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"pos:{position}".encode()).decode()


class InvalidCursor(GraphQLError, ValueError):
    """A client's bad `after`: a coded 422, not an internal error (found by tests/e2e/test_fuzz.py)."""


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "pos":
            raise ValueError(kind)
        return int(value)
    except ValueError as exc:
        raise InvalidCursor(f"invalid cursor {cursor!r}", extensions={"code": "BAD_USER_INPUT", "status": 422}) from exc


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int | None = None


def connection(nodes: list[tuple[int, T]], has_next: bool, total: int | None = None) -> Connection[T]:
    edges: list[Edge[T]] = [_PositionEdge(pos, node) for pos, node in nodes]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=has_next, end_cursor=encode_cursor(nodes[-1][0]) if nodes else None),
        total_count=total,
    )


@strawberry.type(description="业主 — the project owner (建设单位).")
class Owner:
    name: str | None = personal("建设单位名称")
    uscc: str | None = personal("统一社会信用代码")


@strawberry.type(description="单位工程 — a unit of works with its system-assigned code.")
class UnitWork:
    code: str
    name: str


@strawberry.type(description="办理状态 — a BLZT status code (reference/case_status.csv) and its name.")
class Status:
    code: int
    name: str


@strawberry.type(description="计时暂停 — a correction or special procedure that stopped the clock.")
class Pause:
    kind: str
    start: date
    end: date | None
    procedure_type: str | None
    limit_days: int | None
    paused_working_days: int


@strawberry.type(description="办理环节 — one transition of a case: status, business and recorded time, actor, channel.")
class Transition:
    seq: int
    position: int | None
    event_type: str
    status: Status
    business_time: datetime
    recorded_at: datetime
    actor_id: str | None = personal()
    actor_role: str
    actor_org: str | None = personal()
    channel: str
    request_id: str
    detail: JSON | None = personal("the event's fields: opinions, notes, reasons as written")


@strawberry.type(description="办件 — a case: current status, clock (working days, deadline, overdue) and timeline.")
class Case:
    id: strawberry.ID
    project_code: str
    item_code: str
    item_name: str
    stage: int
    department: str
    region_code: str
    applicant_org: str | None = personal("the applicant's USCC")
    status: Status
    received_at: datetime | None
    accepted_on: date | None
    limit_days: int | None
    legal_limit_days: int | None
    working_days_used: int | None
    deadline: date | None
    overdue: bool
    paused: bool
    calendar_estimated: bool = strawberry.field(
        description="true when part of the span (acceptance to the later of today and the deadline) lies in a "
        "year with no working calendar (工作日历: none published, none in the package): weekends only"
    )
    pauses: list[Pause]
    corrections: int
    back_entered: bool
    channel: str
    position: int | None
    timeline: list[Transition]
    pending_materials: PendingMaterials | None = strawberry.field(
        default=None, description="容缺受理: the materials an approval left to follow (null: none)"
    )
    commitment: CommitmentApproval | None = strawberry.field(
        default=None, description="告知承诺制: the commitments an approval rests on (null: not on commitment)"
    )

    @strawberry.field(
        description="办理部门 — the body handling the item for the case's region in the item catalogue in force "
        "(事项库: the department of the item's function nearest up the region chain; null: none)"
    )
    def department_name(self) -> str | None:
        if self.item_code not in CATALOG.items:
            return None
        found = CATALOG.department_for(self.item_code, self.region_code)
        return found.name if found is not None else None

    @strawberry.field(
        description="评估评审 — the case's expert reviews (its special procedures of type expert_review)."
    )
    async def assessment_reviews(self, info: Info[Context, None]) -> list[AssessmentReviewNode]:
        return await reviews_of(info, str(self.id))


@strawberry.type(description="项目 — a project: codes, owner, region, land, stage reached, cases.")
class Project:
    code: str
    name: str
    owner: Owner
    region_code: str
    region_name: str
    unit_code: str
    flow_type: int
    flow_type_name: str
    investment_type: str
    category: str
    total_investment: str = strawberry.field(description="总投资 in 万元 (decimal string)")
    planned_start: date
    planned_end: date
    red_line: JSON | None
    land_supply_mode: str | None
    parcel_codes: list[str]
    unit_works: list[UnitWork]
    stage_reached: int = strawberry.field(description="the highest main stage (1–4) with an approved item; 0 if none")
    approved_items: list[str]
    case_count: int | None = strawberry.field(description="cases received; null when replayed with asOf")
    merged_into: str | None
    merged_codes: list[str]
    generated_at: datetime
    position: int | None

    @strawberry.field(
        description="用地面积 — the red line's geodesic area in m² (CGCS2000 ellipsoid); null without one"
    )
    def red_line_area_m2(self) -> float | None:
        return float(area_m2(self.red_line)) if self.red_line else None  # type: ignore[arg-type]

    @strawberry.field(description="用地 — the red line checked against the blueprint: zones, conflicts, assessments")
    async def land(self, info: Info[Context, None]) -> ProjectLand | None:
        return await land_of(info, self.code)

    @strawberry.field(
        description="工程行业系统 — 多规合一 opinions and control lines, drawing sets, open BIM findings, survey"
    )
    async def industry_overview(self, info: Info[Context, None]) -> IndustryOverview:
        return await industry_overview(info, self.code)


@strawberry.type(description="审计记录 — one event about a subject, in global order.")
class AuditEntry:
    position: int
    event_type: str
    aggregate_type: str
    originator_id: str
    version: int
    actor_id: str | None = personal()
    actor_role: str
    actor_org: str | None = personal()
    channel: str
    request_id: str
    occurred_at: datetime | None
    recorded_at: datetime
    business_time: datetime
    data: JSON | None = personal("the event's fields")

    @strawberry.field(description="存在性证明 — this event's inclusion proof in the ledger (null until it is in).")
    async def proof(self, info: Info[Context, None]) -> InclusionProof | None:
        return await inclusion_proof(info, self.position)

    @strawberry.field(
        description="存储事件 — the event as the store holds it (read from the events table, not from this read"
        " model): the leaf recomputed from it must be `proof.leafHash` and fold to a signed root, and the fields"
        " above must be those of its `state` (docs/evidence.md); 个人信息: null without personal-data.read",
        extensions=[Withheld()],
    )
    async def event(self, info: Info[Context, None]) -> StoredEvent | None:
        if self.event_type in SECRET_EVENT_TYPES and not may_read_raw(info):
            return None  # it holds a one-time code's salted hash: auditors only (docs/security.md)
        return await stored_event(info, self.position)


@strawberry.type(description="读模型 — a read model's position and its lag behind the log.")
class ProjectionStatus:
    name: str
    position: int
    log_position: int
    lag: int


# --- builders from read-model rows ---------------------------------------------------------


def today() -> date:
    return datetime.now(SHANGHAI).date()


def status_of(code: int) -> Status:
    return Status(code=code, name=REFERENCE.case_statuses[code].name)


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass
class CaseFacts:
    """What a Case node needs, whichever way it was obtained."""

    row: dict[str, Any]
    clock: CaseClock
    transitions: list[Transition]


def case_node(facts: CaseFacts, on: date | None = None) -> Case:
    row, clock = facts.row, facts.clock
    day = on or today()
    pending, commitment = follow_ups(row["case_id"], facts.transitions, day)
    return Case(
        id=strawberry.ID(row["case_id"]),
        project_code=row["project_code"],
        item_code=row["item_code"],
        item_name=row["item_name"],
        stage=row["stage"],
        department=row["department"],
        region_code=row["region_code"],
        applicant_org=row["applicant_org"],
        status=status_of(row["status_code"]),
        received_at=_dt(row["received_at"]) if "T" in (row["received_at"] or "") else None,
        accepted_on=clock.accepted_on,
        limit_days=row["limit_days"],
        legal_limit_days=row["legal_limit_days"],
        working_days_used=clock.working_days_used(day),
        deadline=clock.deadline(day),
        overdue=clock.overdue(day),
        paused=clock.is_paused(),
        calendar_estimated=clock.estimated(day),
        pauses=[
            Pause(
                kind=p.kind,
                start=p.start,
                end=p.end,
                procedure_type=p.procedure_type,
                limit_days=p.limit_days,
                paused_working_days=p.paused_days(min(clock.stopped_on or day, day)),
            )
            for p in clock.pauses
        ],
        corrections=row["corrections"],
        back_entered=bool(row["back_entered"]),
        channel=row["channel"],
        position=row.get("last_position"),
        timeline=facts.transitions,
        pending_materials=pending,
        commitment=commitment,
    )


def transition_node(t: dict[str, Any]) -> Transition:
    return Transition(
        seq=t["seq"],
        position=t.get("position"),
        event_type=t["event_type"],
        status=status_of(t["status_code"]),
        business_time=datetime.fromisoformat(t["business_time"]),
        recorded_at=datetime.fromisoformat(t["recorded_at"]),
        actor_id=t["actor_id"],
        actor_role=t["actor_role"],
        actor_org=t["actor_org"],
        channel=t["channel"],
        request_id=t["request_id"],
        detail=json.loads(t["detail"]) if isinstance(t["detail"], str) else t["detail"],
    )


V = TypeVar("V")


class _lazy(Generic[V]):
    """functools.cached_property without its per-access lock (Python 3.11): computed on first read,
    then an ordinary attribute of the instance."""

    def __init__(self, compute: Callable[[Any], V]) -> None:
        self.compute, self.name = compute, compute.__name__

    def __get__(self, instance: Any, owner: Any = None) -> V:
        if instance is None:
            return self  # type: ignore[return-value]
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


def project_node(row: dict[str, Any]) -> Project:
    return _RowProject(row)


class _RowProject(Project):
    """A Project from a read-model row. The JSON, date and reference columns are decoded when a query
    selects them: a dashboard page asks for three fields of twenty projects, not for every column."""

    def __init__(self, row: dict[str, Any]) -> None:  # no super().__init__: the columns are set here or decoded lazily
        self._row = row
        self.code = row["code"]
        self.name = row["name"]
        self.region_code = row["region_code"]
        self.unit_code = row["unit_code"]
        self.flow_type = row["flow_type"]
        self.investment_type = row["investment_type"]
        self.category = row["category"]
        self.total_investment = row["total_investment"]
        self.land_supply_mode = row["land_supply_mode"]
        self.stage_reached = row["stage_reached"]
        self.case_count = row["case_count"]
        self.merged_into = row["merged_into"]
        self.position = row.get("last_position")

    @_lazy
    def owner(self) -> Owner:  # type: ignore[override]
        return Owner(name=self._row["owner_name"], uscc=self._row["owner_uscc"])

    @_lazy
    def region_name(self) -> str:  # type: ignore[override]
        return REFERENCE.regions[self._row["region_code"]].name

    @_lazy
    def flow_type_name(self) -> str:  # type: ignore[override]
        return REFERENCE.flow_types[self._row["flow_type"]]

    @_lazy
    def planned_start(self) -> date:  # type: ignore[override]
        return date.fromisoformat(self._row["planned_start"])

    @_lazy
    def planned_end(self) -> date:  # type: ignore[override]
        return date.fromisoformat(self._row["planned_end"])

    @_lazy
    def red_line(self) -> Any:  # type: ignore[override]
        return json.loads(self._row["red_line"]) if self._row["red_line"] else None

    @_lazy
    def parcel_codes(self) -> list[str]:  # type: ignore[override]
        return list(json.loads(self._row["parcel_codes"]))

    @_lazy
    def unit_works(self) -> list[UnitWork]:  # type: ignore[override]
        return [UnitWork(code=w["code"], name=w["name"]) for w in json.loads(self._row["unit_works"])]

    @_lazy
    def approved_items(self) -> list[str]:  # type: ignore[override]
        return list(json.loads(self._row["approved_items"]))

    @_lazy
    def merged_codes(self) -> list[str]:  # type: ignore[override]
        return list(json.loads(self._row["merged_codes"]))

    @_lazy
    def generated_at(self) -> datetime:  # type: ignore[override]
        return datetime.fromisoformat(self._row["generated_at"])


class _PositionEdge(Edge[T]):
    """An Edge whose cursor is encoded only when a query selects it (a page's nodes rarely need it)."""

    def __init__(self, position: int, node: T) -> None:  # no super().__init__: the cursor is lazy
        self._position = position
        self.node = node

    @_lazy
    def cursor(self) -> str:  # type: ignore[override]
        return encode_cursor(self._position)


class _StoredTime(datetime):
    """A time the audit trail stored as `isoformat()` text (projections/audit_trail.py): `isoformat()`
    gives that text back instead of formatting it again (≈ 1 µs with an offset; DateTime's output is
    `isoformat()`). The same text: parsing an isoformat() text and formatting it again is exact."""

    _text: str | None = None  # None: made by arithmetic or replace(), formatted as any datetime

    @classmethod
    def of(cls, text: str) -> datetime:
        value = cls.fromisoformat(text)
        value._text = text
        return value

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        if self._text is not None and sep == "T" and timespec == "auto":
            return self._text
        return super().isoformat(sep, timespec)


def audit_node(row: dict[str, Any]) -> AuditEntry:
    return _RowAuditEntry(row)


class _RowAuditEntry(AuditEntry):
    """An AuditEntry from a read-model row; the event's data (JSON) and times decoded when selected."""

    def __init__(self, row: dict[str, Any]) -> None:  # no super().__init__: the columns are set here or decoded lazily
        self._row = row
        self.position = row["position"]
        self.event_type = row["event_type"]
        self.aggregate_type = row["aggregate_type"]
        self.originator_id = row["originator_id"]
        self.version = row["originator_version"]
        self.actor_id = row["actor_id"]
        self.actor_role = row["actor_role"]
        self.actor_org = row["actor_org"]
        self.channel = row["channel"]
        self.request_id = row["request_id"]

    @_lazy
    def occurred_at(self) -> datetime | None:  # type: ignore[override]
        text = self._row["occurred_at"]
        return _StoredTime.of(text) if text else None

    @_lazy
    def recorded_at(self) -> datetime:  # type: ignore[override]
        return _StoredTime.of(self._row["recorded_at"])

    @_lazy
    def business_time(self) -> datetime:  # type: ignore[override]
        return _StoredTime.of(self._row["business_time"])

    @_lazy
    def data(self) -> Any:  # type: ignore[override]
        return json.loads(self._row["data"])

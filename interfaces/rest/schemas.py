"""Request and response bodies (snake_case, unknown fields refused).

Field validators call the domain's own validators, so a 422 names the field path and the rule;
the domain checks again when the command runs (defence in depth). Text and dates follow
domain/shared/hygiene.py: every string of every body refuses controls, bidi controls, noncharacters and
lone surrogates; `Name` and `Short` are single-line, `Text` and `Note` multi-line; `BusinessDate` and
`BusinessTime` lie within 1949-10-01 … 2100-12-31 (docs/security.md, text and dates).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_args

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from domain.approvals import Decision
from domain.catalog import CATALOG
from domain.projects.project import InvestmentType, LandSupplyMode
from domain.shared.codes import validate_parcel_code, validate_project_code, validate_region, validate_uscc
from domain.shared.errors import InvalidValue
from domain.shared.geometry import validate_red_line
from domain.shared.hygiene import check_business_date, check_line, check_lines, forbidden_in
from domain.shared.reference import REFERENCE

T = TypeVar("T")


def domain_rule(check: Callable[..., T], *args: Any) -> Callable[[Any], T]:
    """Run a domain validator inside pydantic: its rule becomes the error type, its message the msg."""

    def run(value: Any) -> T:
        try:
            return check(value, *args)
        except InvalidValue as exc:
            raise PydanticCustomError(exc.rule, exc.message) from None

    return run


def _item_code(code: str) -> str:
    return CATALOG.item(code).code


def _flow_type(value: int) -> int:
    if value not in REFERENCE.flow_types:
        raise InvalidValue("flow_type", f"unknown flow type {value} (flow_types.csv)", "flow_type_unknown")
    return value


Uscc = Annotated[str, AfterValidator(domain_rule(validate_uscc))]
ProjectCode = Annotated[str, AfterValidator(domain_rule(validate_project_code))]
RegionCode = Annotated[str, AfterValidator(domain_rule(validate_region))]
ParcelCode = Annotated[str, AfterValidator(domain_rule(validate_parcel_code))]
ItemCode = Annotated[str, AfterValidator(domain_rule(_item_code))]
FlowType = Annotated[int, AfterValidator(domain_rule(_flow_type))]
SingleLine = AfterValidator(domain_rule(check_line))
MultiLine = AfterValidator(domain_rule(check_lines))
Name = Annotated[str, Field(min_length=1, max_length=2000), SingleLine]  # names, titles, departments
Text = Annotated[str, Field(min_length=1, max_length=2000), MultiLine]  # reasons, opinions, explanations
Note = Annotated[str, Field(max_length=2000), MultiLine]  # optional notes
Line = Annotated[str, Field(max_length=2000), SingleLine]  # optional titles
Short = Annotated[str, Field(max_length=200), SingleLine]  # numbers, ids, codes
BusinessDate = Annotated[date, AfterValidator(domain_rule(check_business_date))]
BusinessTime = Annotated[AwareDatetime, AfterValidator(domain_rule(check_business_date))]
GeoJSON = dict[str, Any]
MAX_STR = 10_000  # any string of any body, unless a field says less (docs/security.md, limits)
MAX_LIST = 500  # materials, codes and ids in one command


def _holds_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(arg) for arg in get_args(annotation))


@cache
def _nested_models(model: type[BaseModel]) -> frozenset[str]:
    """The fields of a body whose values are (lists of) bodies."""
    return frozenset(name for name, field in model.model_fields.items() if _holds_model(field.annotation))


class Checked(BaseModel):
    """Every request body: strings bounded, and none holding NUL, which PostgreSQL text cannot hold
    (a fact carrying one would stop a read model later), nor another code point no text may hold
    (domain/shared/hygiene.py); unknown fields refused. Body adds: surrounding whitespace stripped."""

    model_config = ConfigDict(str_max_length=MAX_STR, extra="forbid")  # an unknown field is a 422 naming it
    # fields whose rows the command checks one by one, refusing a bad row rather than the request
    rows_checked_by_the_import: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _no_forbidden_text(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name in _nested_models(cls) or info.field_name in cls.rows_checked_by_the_import:
            return value  # a nested body checks its own fields, so the error names the full path
        problem = forbidden_in(value)
        if problem is not None:
            raise PydanticCustomError(*problem)
        return value


class Body(Checked):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, str_max_length=MAX_STR)


# --- projects -------------------------------------------------------------------------


class Owner(Body):
    """项目单位 — the owner organisation."""

    name: Name
    uscc: Uscc


class ProjectGeneration(Body):
    """项目策划生成 — the data a project is generated with."""

    code: ProjectCode
    name: Name
    owner: Owner
    region_code: RegionCode
    flow_type: FlowType
    investment_type: InvestmentType
    category: Name
    total_investment: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=4, description="万元")]
    red_line: GeoJSON | None = None
    planned_start: BusinessDate
    planned_end: BusinessDate
    # checked against the blueprint's zones at generation (conflicts listed, not refused)
    planned_land_use: Annotated[str, Field(pattern=r"^\d{2}(\d{2}){0,2}$", description="用地用海分类 code")] | None = (
        None
    )
    plot_ratio: Annotated[Decimal, Field(gt=0, description="容积率")] | None = None
    height_m: Annotated[Decimal, Field(gt=0, description="建筑高度 m")] | None = None
    land_area_m2: Annotated[Decimal, Field(gt=0, description="用地面积 m², must match the red line")] | None = None

    @field_validator("red_line")
    @classmethod
    def _red_line(cls, value: GeoJSON | None, info: ValidationInfo) -> GeoJSON | None:
        if value is None:
            return None
        return domain_rule(validate_red_line, info.data.get("region_code"))(value)

    @field_validator("planned_end")
    @classmethod
    def _end_after_start(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("planned_start")
        if start is not None and value < start:
            raise PydanticCustomError("end_before_start", "planned end is before planned start")
        return value


class LandSupply(Body):
    """供地 — allocation (划拨) or transfer (出让) with the official red line."""

    mode: LandSupplyMode
    red_line: GeoJSON
    supplied_on: BusinessDate
    contract_number: Short | None = None

    @field_validator("red_line")
    @classmethod
    def _red_line(cls, value: GeoJSON) -> GeoJSON:
        return domain_rule(validate_red_line)(value)


class ParcelLink(Body):
    """宗地关联."""

    parcel_code: ParcelCode


class UnitWork(Body):
    """单位工程."""

    name: Name
    floor_area_m2: Annotated[Decimal, Field(gt=0)] | None = None
    storeys: Annotated[int, Field(gt=0)] | None = None


class Merge(Body):
    """重复赋码合并 — merge this code into the canonical one."""

    canonical_code: ProjectCode
    reason: Text


# --- cases ----------------------------------------------------------------------------


class CaseSubmission(Body):
    """收件."""

    project_code: ProjectCode
    item_code: ItemCode
    situation_codes: list[Short] = Field(default_factory=list, max_length=MAX_LIST)
    materials: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_LIST)
    parallel_application_id: Short | None = None
    acceptance_mode: Literal[1, 4] = Field(1, description="1 window, 4 fully online")
    item_version: Short | None = Field(None, description="事项版本 expected (R1: must be the flow's, else 422)")


class OfflineEntry(Body):
    """补录 — a decision taken outside the system, with its business time and the reason."""

    project_code: ProjectCode
    item_code: ItemCode
    decision: Decision
    decided_at: BusinessTime
    received_on: BusinessDate | None = None
    accepted_on: BusinessDate | None = None
    document_number: Short | None = None
    reason: Text


class Action(Body):
    """Every case action may carry `occurred_at`; only the integration role may (the service enforces)."""

    occurred_at: BusinessTime | None = None


class Accept(Action):
    """受理."""


class Reasoned(Action):
    reason: Text


class NotAccept(Reasoned):
    """不受理."""


class RefuseAcceptance(Reasoned):
    """不予受理."""


class RequestCorrection(Action):
    """补正开始 — 一次性告知: every material to correct at once."""

    materials: Annotated[list[Note], Field(min_length=1, max_length=MAX_LIST)]
    note: Note = ""


class CompleteCorrection(Action):
    """补正结束."""

    note: Note = ""


class StartReview(Action):
    """部门开始办理."""


class RecordOpinion(Action):
    """审查意见."""

    department: Name
    opinion: Text
    result: Literal["agree", "disagree", "note"] = "note"


class StartSpecialProcedure(Action):
    """特别程序开始."""

    procedure_type: Name
    procedure_name: Name
    limit_days: Annotated[int, Field(gt=0, le=3650)]
    reason: Note = ""


class EndSpecialProcedure(Action):
    """特别程序结束."""

    result: Note = ""


class Approve(Action):
    """办结（通过）."""

    document_number: Short | None = None
    document_title: Line | None = None
    valid_until: BusinessDate | None = None


class ApprovePendingMaterials(Action):
    """办结（容缺通过）."""

    document_number: Short | None = None
    pending_materials: Annotated[list[Note], Field(min_length=1, max_length=MAX_LIST)]
    materials_due_on: BusinessDate | None = Field(
        None, description="容缺材料 due date; default: the item's period after the decision (docs/catalogue.md)"
    )


class SupplyMaterials(Action):
    """补齐容缺材料 — some or all of the materials to follow were supplied."""

    supplied_materials: Annotated[list[Note], Field(min_length=1, max_length=MAX_LIST)]
    note: Note = ""


class ApproveOnCommitment(Action):
    """承诺制审批 — approved (11) on the applicant's commitments (告知承诺制), to be verified."""

    document_number: Short | None = None
    document_title: Line | None = None
    valid_until: BusinessDate | None = None
    commitments: Annotated[list[Text], Field(min_length=1, max_length=MAX_LIST)]


class VerifyCommitment(Action):
    """承诺核查 — the commitments verified true, or false (the approval is revoked)."""

    verified: bool
    finding: Text
    false_commitments: Annotated[list[Text], Field(max_length=MAX_LIST)] = Field(default_factory=list)


class Refuse(Reasoned):
    """办结（不通过）."""


class Withdraw(Action):
    """撤件/撤回."""

    reason: Note = ""


class Revoke(Reasoned):
    """撤销."""


ACTION_BODIES: dict[str, type[Action]] = {
    "accept": Accept,
    "not-accept": NotAccept,
    "refuse-acceptance": RefuseAcceptance,
    "request-correction": RequestCorrection,
    "complete-correction": CompleteCorrection,
    "start-review": StartReview,
    "record-opinion": RecordOpinion,
    "start-special-procedure": StartSpecialProcedure,
    "end-special-procedure": EndSpecialProcedure,
    "approve": Approve,
    "approve-pending-materials": ApprovePendingMaterials,
    "supply-materials": SupplyMaterials,
    "approve-on-commitment": ApproveOnCommitment,
    "verify-commitment": VerifyCommitment,
    "refuse": Refuse,
    "withdraw": Withdraw,
    "revoke": Revoke,
}


# --- responses ------------------------------------------------------------------------


class CommandResult(BaseModel):
    """What every command answers: the subject's id and the position of the last event written."""

    model_config = ConfigDict(extra="allow")

    id: str
    position: int
    replayed: bool = False

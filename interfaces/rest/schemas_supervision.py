"""Request bodies of external records, warning dispositions and inquiries (snake_case, unknown
fields refused). The domain validates again when the command runs; its InvalidValue names the field."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from domain.supervision.inquiry import validate_department
from interfaces.rest.schemas import (
    Body,
    BusinessDate,
    BusinessTime,
    ItemCode,
    MultiLine,
    Name,
    Note,
    ProjectCode,
    RegionCode,
    SingleLine,
    Text,
    domain_rule,
)

Department = Annotated[str, AfterValidator(domain_rule(validate_department))]


class ExternalRecordReport(Body):
    """外部数据 — a fact reported by another system. Source and kind are checked by the domain."""

    source: Annotated[str, Field(min_length=1, max_length=64), SingleLine]
    source_id: Annotated[str, Field(min_length=1, max_length=200), SingleLine]
    kind: Annotated[str, Field(min_length=1, max_length=64), SingleLine]
    project_code: ProjectCode | None = None
    item_code: ItemCode | None = None
    number: Annotated[str, Field(max_length=200), SingleLine] | None = None
    issued_on: BusinessDate | None = None
    upstream: Annotated[dict[str, str], Field(max_length=20)] | None = Field(
        None, description="upstream certificate numbers by field: YDGHXKZBH, GCGHXKZBH, SCHGSBH, SGXKZBH, ZBTZSBH"
    )
    case_ref: Annotated[str, Field(max_length=200), SingleLine] | None = None
    status_code: int | None = None
    source_system: Annotated[str, Field(max_length=200), SingleLine] | None = Field(None, description="SJLY")
    department: Annotated[str, Field(max_length=200), SingleLine] | None = None
    occurred_at: BusinessTime | None = Field(None, description="business time of the fact")
    payload: dict[str, Any] | None = Field(None, description="the raw row, kept as reported")


class Acknowledgement(Body):
    """预警签收."""

    note: Note = ""


class WarningClosure(Body):
    """说明后关闭."""

    explanation: Text


class InquiryOpening(Body):
    """问责立案 — on one or more warnings."""

    warning_ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]], Field(min_length=1, max_length=100)
    ]
    subject: Name
    department: Department
    reason: Text
    region_code: RegionCode | None = Field(None, description="defaults to the first warning's region")


class RequestExplanation(Body):
    """要求说明."""

    department: Department
    deadline: BusinessDate
    questions: Annotated[list[Text], Field(min_length=1, max_length=100)]


class RecordExplanation(Body):
    """情况说明."""

    department: Department
    explanation: Text


class RecordFinding(Body):
    """调查结论."""

    finding: Literal["violation_confirmed", "justified", "false_alarm"]
    summary: Text


class RecordSanction(Body):
    """问责处理."""

    sanction_type: Name
    target: Name
    decision_number: Annotated[str, Field(min_length=1, max_length=200), SingleLine]
    detail: Annotated[str, Field(max_length=4000), MultiLine] = ""


class CloseInquiry(Body):
    """问责结案."""

    conclusion: Text


INQUIRY_BODIES: dict[str, type[Body]] = {
    "request-explanation": RequestExplanation,
    "record-explanation": RecordExplanation,
    "record-finding": RecordFinding,
    "record-sanction": RecordSanction,
    "close": CloseInquiry,
}

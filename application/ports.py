"""Ports: what the services need from the outside world, declared here and implemented by the
adapters in infrastructure/ (the only module of application/ that infrastructure may import:
.importlinter) or by read models in projections/ (the read side; the composition root passes them in).
Errors an adapter raises are part of its port."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from domain.approvals.selection import CaseSelection
from domain.blueprint.check import Area, Zone
from domain.shared.workdays import Calendar
from infrastructure.db import Database


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


# --- the read side ------------------------------------------------------------------------------


class LedgerSettings(Protocol):
    @property
    def every(self) -> int: ...  # leaves per checkpoint


class InclusionPath(Protocol):
    @property
    def leaf_index(self) -> int: ...
    @property
    def path(self) -> list[bytes]: ...


class ConsistencyPath(Protocol):
    @property
    def path(self) -> list[bytes]: ...


class LedgerReader(Protocol):
    """账本 as the ledger read model holds it (projections/ledger.py `Ledger`): leaves, signed
    checkpoints and proofs, for archive packages, `audit verify`, bundles and the witnesses."""

    @property
    def db(self) -> Database: ...
    @property
    def config(self) -> LedgerSettings: ...
    def algorithm(self) -> str: ...
    def size(self) -> int: ...
    def latest_checkpoint(self) -> dict[str, Any] | None: ...
    def checkpoint_rows(self, up_to: int | None = None) -> list[dict[str, Any]]: ...
    def leaves(self, batch: int = 5000, columns: str = "*") -> Iterator[dict[str, Any]]: ...
    def inclusion_proof(self, position: int, tree_size: int | None = None) -> InclusionPath | None: ...
    def consistency_proof(self, first: int, second: int) -> ConsistencyPath: ...


class CaseFigures(Protocol):
    """What statistics, the monthly report and data quality read (projections/case_figures.py)."""

    def calendar(self) -> Calendar: ...  # 工作日历 as case_timeline has read it from the log
    def cases(self, selection: CaseSelection) -> list[dict[str, Any]]: ...  # `cases` rows, creation order
    def summary_rows(
        self, by: Sequence[str], selection: CaseSelection, calendar: str, today: str
    ) -> list[dict[str, Any]]: ...  # projections/case_summary.py `statistics_rows`


class QualityFacts(Protocol):
    """What data quality reads (projections/quality_facts.py); `regions` None: the whole province."""

    def projects(self, regions: Sequence[str] | None) -> list[dict[str, Any]]: ...  # code, name, owner, merge
    def duplicate_threshold(self) -> float: ...  # duplicate_rules.toml
    def duplicate_candidates(
        self, region_scope: str, first: int
    ) -> tuple[list[dict[str, Any]], bool, int]: ...  # rows, more, total
    def import_errors(self) -> list[dict[str, Any]]: ...  # rows SPGL imports kept out, by rule
    def open_industry_findings(self, regions: Sequence[str] | None) -> dict[str, list[tuple[str, int]]]: ...


class SupervisionFacts(Protocol):
    """What the monthly report's supervisor sections read (projections/supervision_facts.py), whole
    periods in one call: warnings raised in [raised_from, raised_to) (UTC), inquiries opened
    in [opened_from, opened_to], ratings, import errors, feedback and window assessment of a month."""

    def warnings(self, scope: str, raised_from: str, raised_to: str) -> list[dict[str, Any]]: ...
    def inquiries(self, scope: str, opened_from: date, opened_to: date) -> list[dict[str, Any]]: ...
    def rating_groups(self, group_by: str, today: date, scope: str, month: str) -> list[dict[str, Any]]: ...
    def bad_reviews(self, month: str, scope: str) -> list[dict[str, Any]]: ...
    def import_errors(self) -> list[dict[str, Any]]: ...
    def feedback(self, month: str, scope: str) -> list[dict[str, Any]]: ...
    def windows(self, month: str, scope: str) -> list[dict[str, Any]]: ...


# --- what commands need from the read side (projections/lookups.py) ------------------------------
# A command never waits for a read model inside its transaction (its save in Service.execute): a port
# that answers "as of the log head" brings its read model up to date when asked, before the command's
# `work` runs, and what it answers is a candidate list the command checks again on the aggregates.


class BlueprintLookup(Protocol):
    """一张蓝图 as project commands see it (the `blueprint` read model, as of the log head)."""

    def candidates(self, red_line: dict[str, Any]) -> tuple[list[Zone], list[Area]]: ...  # boxes meet the line


class LicenceLookup(Protocol):
    """电子证照库 as commands and the applicant's side see it (the `licence_library` read model)."""

    # 智能审批: numbers worth checking (as the library stands, no wait: application/rule_approval.py
    # reads the project's own documents from the log and judges every number on its aggregate)
    def numbers(self, project_code: str, holder_uscc: str, licence_type: str) -> list[str]: ...
    # 智能引导/智能表单: a licence valid `today` whose topic fields match (as of the log head), or None
    def valid_licence(self, licence_type: str, topic: list[tuple[str, str]], today: date) -> dict[str, Any] | None: ...
    # BIM 图审: the building area of the project's latest engineering planning permit (as of the log head)
    def permit_area(self, project_code: str, owner_uscc: str) -> Decimal | None: ...


class AgencyPool(Protocol):
    """中介超市: USCCs of the active agencies offering a service type (as of the log head; each is
    checked again on its aggregate)."""

    def pool(self, service_type: str) -> list[str]: ...


class OpenCases(Protocol):
    """工作日历: accepted, not stopped cases accepted on or before the end of `year` (as of the log head;
    each is judged again on its aggregate)."""

    def open_cases(self, year: int) -> list[UUID]: ...


class SpglKeys(Protocol):
    """数据共享交换 as the `spgl_exchange` read model holds it."""

    # the keys the store's rows (and the catalogue) make known to the import's rules: brought up to the
    # log head once, then asked row by row
    def known_keys(self) -> Callable[[str, str], bool]: ...
    # every table's rows after log position `since` (0: all, with the catalogue's flows), as of the log head
    def export(self, since: int) -> dict[str, list[dict[str, str]]]: ...


class WarningLookup(Protocol):
    """监督: one warning row of the offline_warnings read model (None: unknown or not installed)."""

    def warning(self, warning_id: str) -> dict[str, Any] | None: ...

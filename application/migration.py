"""在建工程迁移 — projects already under construction when the system starts, with the licences
and approvals they obtained before (`gongjian import projects FILE --official NAME`, CSV or XLSX).

The file has one row per licence or approval document: the project's columns (those of the
historical import, application/project_import.py; on a project's later rows they may be left
blank) and `item_code`, `licence_number`, `issuing_authority`, `issued_on`, optional `holder_name`,
`holder_uscc`, `valid_until` and `topic.<field>` (the licence type's 主题字段). Per row:

- the project is generated (channel import) unless its code already is;
- the approval is a back-entered case through the import channel (`Case.BackEntered` v3 with its
  provenance), decided on `issued_on`, and the project records the item as approved, so the next
  stages' prerequisites are met;
- an item that issues a licence gets it as `License.Issued` v2 with the same provenance, signed
  with the department's seal by the system signer (存量证照电子化: the same opt-in as automatic issue).

All or nothing per file: every row is checked first, and with one bad row nothing is written and
every bad row is reported (row, column, rule). Otherwise everything is saved in one transaction.
Ids derive from the project code and the licence number, so the same file again writes nothing.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from application.base import Service
from application.commands import Invocation
from application.commands.migration import MigrateProjects
from application.policy import LICENCE_ISSUER, Actor, authorize, department_org
from application.project_import import OPTIONAL, REQUIRED, parse_row
from application.projects import ProjectService
from domain.approvals import Case
from domain.approvals.migration import issued_at, migrate_approval, migrated_case_id
from domain.catalog import CATALOG, Item
from domain.licences import License, licence_id, prepare
from domain.projects import Project, project_id
from domain.shared.codes import validate_project_code
from domain.shared.errors import DomainError, InvalidValue
from domain.shared.events import Channel, Meta
from domain.signatures import Seal
from domain.signatures.crypto import sign
from infrastructure.catalogue_files import cell_text
from infrastructure.keystore import KeyStore, KeyStoreError

LICENCE_REQUIRED = ("item_code", "licence_number", "issuing_authority", "issued_on")
LICENCE_OPTIONAL = ("holder_name", "holder_uscc", "valid_until")
TOPIC_PREFIX = "topic."
PROJECT_COLUMNS = (*REQUIRED, *OPTIONAL)
# a domain error's field → the file's column
COLUMN_OF = {
    "number": "licence_number",
    "licence_type": "item_code",
    "project_code": "code",
    "occurred_at": "issued_on",
}
SEAL_REGISTERED = get_topic(Seal.Registered)


def is_migration(header: list[str]) -> bool:
    """A file with licence columns migrates projects under construction (else: historical projects)."""
    return "licence_number" in header


def read_table(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and (row number, cells) of a CSV or an XLSX file's first sheet; row 1 is the header."""
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in reader.fieldnames or []]
        rows = [
            (n, {k.strip(): (v or "").strip() for k, v in r.items() if k is not None})
            for n, r in enumerate(reader, start=2)
        ]
    return header, rows


def _read_xlsx(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    from openpyxl import load_workbook  # only XLSX files need it

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        header = [cell_text(c) for c in next(lines, ())]
        rows = []
        for n, values in enumerate(lines, start=2):
            cells = {h: cell_text(v) for h, v in zip(header, values, strict=False) if h}
            if any(cells.values()):  # spreadsheets keep formatted empty rows
                rows.append((n, cells))
    finally:
        book.close()
    return header, rows


def check_header(header: list[str]) -> None:
    missing = [c for c in (*REQUIRED, *LICENCE_REQUIRED) if c not in header]
    if missing:
        raise InvalidValue("header", f"columns missing: {', '.join(missing)}", "csv_header")


@dataclass
class MigrationReport:
    source_file: str
    source_sha256: str
    rows: int = 0
    projects: int = 0  # newly generated
    approvals: int = 0  # migrated cases written
    licences: int = 0  # migrated licences written
    unchanged: int = 0  # rows already migrated (an earlier run)
    errors: list[dict[str, Any]] = field(default_factory=list)
    position: int | None = None

    @property
    def written(self) -> bool:
        return self.position is not None


class _RowError(Exception):
    def __init__(self, column: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.column, self.rule, self.message = column, rule, message


def _error(exc: DomainError) -> _RowError:
    if isinstance(exc, InvalidValue):
        column = COLUMN_OF.get(exc.field, exc.field)
        return _RowError(column, exc.rule, exc.message)
    return _RowError("", type(exc).__name__, str(exc))


class MigrationService(Service):
    """Builds every aggregate of a file in memory, then saves them together, or nothing."""

    def __init__(self, projects: ProjectService, keys: KeyStore) -> None:
        super().__init__(projects.app, projects.clock, projects.position_of)
        self.projects = projects
        self.keys = keys

    def migrate(self, by: Invocation, command: MigrateProjects) -> MigrationReport:
        """在建工程迁移 of the rows read from `path` (its name and SHA-256 are the provenance)."""
        actor, request_id, official, path, rows = by.actor, by.request_id, command.official, command.path, command.rows
        authorize(actor, "project.generate", region_code="460000")
        authorize(actor, "licence.issue", region_code="460000")
        if not official.strip():
            raise InvalidValue("official", "the migrating official is required", "required")
        report = MigrationReport(path.name, hashlib.sha256(path.read_bytes()).hexdigest(), rows=len(rows))
        plan = _Plan(self, actor, official.strip(), request_id, report)

        def work(meta: Meta) -> tuple[list[Aggregate], dict[str, Any]]:
            plan.reset(meta)
            for number, cells in rows:
                try:
                    plan.row(number, dict(cells))
                except _RowError as exc:
                    report.errors.append(
                        {"row": number, "column": exc.column, "rule": exc.rule, "message": exc.message}
                    )
                except DomainError as exc:
                    e = _error(exc)
                    report.errors.append({"row": number, "column": e.column, "rule": e.rule, "message": e.message})
            return ([] if report.errors else plan.changed()), {}

        result = self.execute(self.meta(actor, request_id, channel=Channel.IMPORT), actor, None, work)
        if not report.errors and plan.changed():
            report.position = result["position"]
        return report


class _Plan:
    """The aggregates one file adds, row by row; each row's checks run before anything is saved."""

    def __init__(
        self, service: MigrationService, actor: Actor, official: str, request_id: str, report: MigrationReport
    ):
        self.service, self.actor, self.official, self.request_id, self.report = (
            service, actor, official, request_id, report
        )  # fmt: skip

    def reset(self, meta: Meta) -> None:
        """A fresh plan (execute runs `work` again after a concurrent write)."""
        self.meta = meta
        self.new_projects: dict[str, Project] = {}
        self.touched: dict[str, Project] = {}
        self.first_row: dict[str, tuple[int, dict[str, str]]] = {}
        self.numbers: dict[str, int] = {}
        self.aggregates: list[Aggregate] = []
        self.seals: dict[str, Seal | str] = {}
        r = self.report
        r.projects = r.approvals = r.licences = r.unchanged = 0
        r.errors.clear()

    def changed(self) -> list[Aggregate]:
        """What to save: new aggregates, and the existing projects that record approvals."""
        touched = [p for p in self.touched.values() if p.pending_events and p.code not in self.new_projects]
        return [*self.new_projects.values(), *self.aggregates, *touched]

    def _meta(self, number: int, occurred_at: datetime | None, column: str) -> Meta:
        if occurred_at is not None and occurred_at > self.meta.now:
            raise _RowError(column, "occurred_in_future", "the date lies in the future")
        return replace(self.meta, request_id=f"{self.request_id}-row{number}", occurred_at=occurred_at)

    def row(self, number: int, cells: dict[str, str]) -> None:
        for name in LICENCE_REQUIRED:
            if not cells.get(name):
                raise _RowError(name, "required", "required")
        project = self._project(number, cells)
        item = CATALOG.item(cells["item_code"])
        doc = cells["licence_number"]
        if doc in self.numbers:
            raise _RowError("licence_number", "duplicate_number_in_file", f"the same number as row {self.numbers[doc]}")
        self.numbers[doc] = number
        issued_on = _date(cells, "issued_on")
        assert issued_on is not None
        provenance = {
            "source_file": self.report.source_file,
            "source_sha256": self.report.source_sha256,
            "row": number,
            "migrated_by": self.official,
            "issuing_authority": cells["issuing_authority"],
        }
        meta = self._meta(number, issued_at(issued_on), "issued_on")
        case_id = migrated_case_id(project.code, item.code, doc)
        content = self._content(project, item, cells, issued_on, case_id) if item.licence_type else None
        done_case = self.service.find(Case, case_id) is not None
        done_licence = content is None or self._licence_done(content, project)
        if done_case and done_licence:
            self.report.unchanged += 1
            return
        if not done_case:
            case = migrate_approval(
                meta,
                project_id=project.id,
                project_code=project.code,
                region_code=project.region_code,
                applicant_org=project.owner_uscc,
                item=item,
                document_number=doc,
                provenance=provenance,
            )
            project.record_item_approved(meta, case_id=case.id, item_code=item.code)
            self.touched.setdefault(project.code, project)
            self.aggregates.append(case)
            self.report.approvals += 1
        if content is not None and not done_licence:
            self.aggregates.append(self._licence(meta, content, item, project, provenance))
            self.report.licences += 1

    def _project(self, number: int, cells: dict[str, str]) -> Project:
        code = validate_project_code(cells.get("code", ""), "code")
        if code in self.first_row:  # a later row of a project: its cells are blank or the same
            first_number, first = self.first_row[code]
            for column in PROJECT_COLUMNS:
                if cells.get(column) and cells[column] != first.get(column, ""):
                    raise _RowError(column, "project_cells_differ", f"differs from row {first_number}")
            project = self.new_projects.get(code) or self.touched.get(code)
            if project is None:
                raise _RowError("code", "project_rejected", f"the project of row {first_number} was rejected")
            return project
        self.first_row[code] = (number, cells)
        existing = self.service.find(Project, project_id(code))
        if existing is not None:  # generated before (online, an earlier import or run): kept as it is
            existing.check_active("migrate")  # a code merged into another: migrate onto the canonical one
            self.touched[code] = existing
            return existing
        fields = parse_row(cells)
        meta = self._meta(number, fields.pop("occurred_at"), "generated_on")
        projects = self.service.projects
        authorize(
            self.actor, "project.generate", owner_org=fields["owner_uscc"].upper(), region_code=fields["region_code"]
        )
        project = Project.generate(meta, **fields, land_area_tolerance=projects.land_area_tolerance)
        projects._check_blueprint(meta, project, "generation")  # the same checks as an online generation
        self.new_projects[code] = project
        self.report.projects += 1
        return project

    def _content(
        self, project: Project, item: Item, cells: dict[str, str], issued_on: date, case_id: UUID
    ) -> dict[str, Any]:
        topic = {k.removeprefix(TOPIC_PREFIX): v for k, v in cells.items() if k.startswith(TOPIC_PREFIX) and v}
        topic.setdefault("project_name", project.name)
        topic.setdefault("document_number", cells["licence_number"])
        return prepare(
            number=cells["licence_number"],
            licence_type=str(item.licence_type),
            holder_name=cells.get("holder_name") or project.owner_name,
            holder_uscc=cells.get("holder_uscc") or project.owner_uscc,
            project_code=project.code,
            item_code=item.code,
            region_code=project.region_code,
            valid_from=issued_on,
            valid_until=_date(cells, "valid_until"),
            topic=topic,
            case_id=str(case_id),
        )

    def _licence_done(self, content: dict[str, Any], project: Project) -> bool:
        """Migrated by an earlier run (True), new (False), or the number is another licence's (a conflict)."""
        found = self.service.find(License, licence_id(content["number"]))
        if found is None:
            return False
        if found.provenance is not None and (found.project_code, found.item_code) == (
            project.code,
            content["item_code"],
        ):
            return True
        raise _RowError(
            "licence_number",
            "licence_number_taken",
            f"licence {content['number']} exists already (project {found.project_code}, item {found.item_code})",
        )

    def _licence(
        self, meta: Meta, content: dict[str, Any], item: Item, project: Project, provenance: dict[str, Any]
    ) -> License:
        """存量证照电子化: signed with the department's seal by the system signer, as automatic issue."""
        seal = self._seal(department_org(project.region_code, item.department))
        payload = License.payload(content, str(seal.id), LICENCE_ISSUER.actor_id, meta.now)
        signature = sign(seal.algorithm, self.service.keys.get(str(seal.id)), payload)
        return License.issue(meta, content, seal, LICENCE_ISSUER.actor_id, signature, provenance=provenance)

    def _seal(self, org: str) -> Seal:
        """The newest seal of `org` the system signer may use now and whose key we hold."""
        if org not in self.seals:
            self.seals[org] = self._find_seal(org)
        found = self.seals[org]
        if isinstance(found, str):
            raise _RowError(
                "item_code", "no_usable_seal", f"no usable seal of {org} for {LICENCE_ISSUER.actor_id}: {found}"
            )
        return found

    def _find_seal(self, org: str) -> Seal | str:
        reasons: list[str] = []
        registered = self.service.app.recorder.select_notifications(0, 10_000, topics=[SEAL_REGISTERED])
        for n in reversed(registered):
            seal = self.service.find(Seal, UUID(str(n.originator_id)))
            if seal is None or seal.holder_org != org:
                continue
            problem = seal.problem_at(LICENCE_ISSUER.actor_id, self.meta.now)
            if problem is None:
                try:
                    self.service.keys.get(str(seal.id))
                except KeyStoreError:
                    problem = "its private key is not in the key store"
            if problem is None:
                return seal
            reasons.append(f"seal {seal.id}: {problem.replace('_', ' ')}")
        return "; ".join(reasons) or "none registered"


def _date(cells: dict[str, str], name: str) -> date | None:
    if not cells.get(name):
        return None
    try:
        return date.fromisoformat(cells[name])
    except ValueError:
        raise _RowError(name, "date", f"{cells[name]!r} is not an ISO date (YYYY-MM-DD)") from None

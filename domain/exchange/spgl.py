"""数据共享交换标准 — rows of the national data-sharing tables (SPGL_*), their checks and the
SpglRow aggregate that records an imported row.

The tables, their key fields and the uploaders' six validation rules are read from our copy of
reference/spgl.md, so the wording a rejected row is reported with is the standard's own.
A row is keyed by (table, local primary key `DFSJZJ`), and the rows of one key apply in serial
(`LSH`) order: a row whose serial is not above the last one taken, or whose content equals the
current one, writes nothing; changed content is a correction (`Corrected`), and a row with valid
flag 0 invalidates the earlier one (`Invalidated`). Nothing is deleted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.projects.project import NAMESPACE
from domain.shared.codes import PROJECT_CODE_RE, validate_project_code, validate_uscc
from domain.shared.errors import InvalidValue
from domain.shared.events import AuditedEvent, Meta
from domain.shared.hygiene import forbidden
from domain.shared.reference import REFERENCE

COMMON = ("LSH", "DFSJZJ", "XZQHDM", "SJYXBS", "SJWXYY", "SJSCZT", "SBYY", "GXSJ")
# upload state and failure reason describe our upload of a row, not its content
UPLOAD_FIELDS = frozenset({"SJSCZT", "SBYY"})
# not part of a row's content: a row re-sent with a new serial or update time is the same row
VOLATILE = UPLOAD_FIELDS | {"LSH", "GXSJ"}

FLOW = "SPGL_DFXMSPLCXXB"
STAGE = "SPGL_DFXMSPLCJDXXB"
STAGE_ITEM = "SPGL_DFXMSPLCJDSXXXB"
PROJECT = "SPGL_XMJBXXB"
CASE = "SPGL_XMSPSXBLXXB"
STATUS = "SPGL_XMSPSXBLXXXXB"
DOCUMENT = "SPGL_XMSPSXPFWJXXB"
MATERIAL = "SPGL_XMSQCLJQTFJXXB"
OPINION = "SPGL_XMSPSXZQYJXXB"
SPECIAL = "SPGL_XMSPSXBLTBCXXXB"
RED_LINE = "SPGL_XMYDHXJZXXB"
LAND_PERMIT = "SPGL_JSYDGHXKXXB"
WORKS_PERMIT = "SPGL_JSGCGHXKXXB"
BUILD_PERMIT = "SPGL_JZGCSGXKXXB"
COMPLETION = "SPGL_JSGCJGYSBAXXB"
UNIT_WORK = "SPGL_XMDTXXB"
PARTY = "SPGL_ZRZTXXB"

# Import order: what a row refers to is imported before it (rules 1–3 look the referents up).
ORDER = (
    FLOW,
    STAGE,
    STAGE_ITEM,
    PROJECT,
    CASE,
    STATUS,
    DOCUMENT,
    MATERIAL,
    OPINION,
    SPECIAL,
    RED_LINE,
    LAND_PERMIT,
    WORKS_PERMIT,
    BUILD_PERMIT,
    COMPLETION,
    UNIT_WORK,
    PARTY,
)

# Our choice of what a row cannot do without (the standard's key fields that identify or link it).
REQUIRED: dict[str, tuple[str, ...]] = {
    FLOW: ("SPLCBM", "SPLCMC", "SPLCBBH", "SPLCLX"),
    STAGE: ("SPLCBM", "SPLCBBH", "SPJDXH", "SPJDMC", "DYBZSPJDXH"),  # SPJDSX: rule 4
    STAGE_ITEM: ("SPLCBM", "SPLCBBH", "SPJDXH", "SPSXBM", "SPSXBBH", "SPSXMC"),
    PROJECT: ("XMDM", "GCDM", "XMMC", "SPLCBM", "SPLCBBH", "JSDW", "JSDWDM"),
    CASE: ("GCDM", "SPSXBM", "SPSXBBH", "SPLCBM", "SPLCBBH", "SPSXSLBM"),
    STATUS: ("GCDM", "SPSXSLBM", "BLZT", "BLSJ"),
    DOCUMENT: ("GCDM", "SPSXSLBM", "PFRQ", "PFWH"),
    MATERIAL: ("SPSXSLBM", "CLMC"),
    OPINION: ("SPSXSLBM",),
    SPECIAL: ("SPSXSLBM", "TBCX"),
    RED_LINE: ("GCDM",),
    LAND_PERMIT: ("YDGHXKZBH",),
    WORKS_PERMIT: ("GCGHXKZBH",),
    BUILD_PERMIT: ("SGXKZBH",),
    COMPLETION: ("JGYSBABH",),
    UNIT_WORK: ("XMDM", "GCDM", "DTBM", "DTMC"),
    PARTY: ("XMDM", "GCDM", "DWLX", "DWMC", "DWTYSHXYDM"),
}
CASE_CHILDREN = frozenset({STATUS, DOCUMENT, MATERIAL, OPINION, SPECIAL})
# unit name field beside each USCC field (rule 5: both must resolve)
USCC_FIELDS = {"JSDWDM": "JSDW", "DWTYSHXYDM": "DWMC"}
REGION_FIELDS = ("XZQHDM", "JSDDXZQH")
DECIMAL_FIELDS = ("SPLCBBH", "SPSXBBH", "ZTZE", "YDMJ", "JZMJ", "CD")
INTEGER_FIELDS = ("SPJDXH", "SPJDSX", "DYBZSPJDXH", "SPLCLX", "BLZT", "SXBLSX", "SLFS", "TBCXSX")
TIME_FIELDS = ("BLSJ", "GXSJ", "SPLCSXSJ", "SBSJ", "TBCXKSSJ")
DATE_FIELDS = ("PFRQ", "PFWJYXQX", "NKGSJ", "NJCSJ", "FZRQ", "BARQ")
# the one old division code reference/codes.md names, with its current code
OLD_REGION_CODES = {"469003": "460400"}
PARALLEL_STAGE = 5
_FIELD = re.compile(r"^[A-Z][A-Z0-9_]*$")
_TOKEN = re.compile(r"\b[A-Z][A-Z0-9]+\b")


@dataclass(frozen=True)
class Table:
    name: str
    meaning: str
    fields: tuple[str, ...]  # the common columns, then the key fields in the standard's order


@cache
def _spec() -> str:
    return resources.files("domain.catalog").joinpath("data", "spgl.md").read_text(encoding="utf-8")


@cache
def tables() -> dict[str, Table]:
    """The tables of reference/spgl.md with their key fields."""
    found: dict[str, Table] = {}
    for line in _spec().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("SPGL_"):
            continue
        key_text = re.sub(r"\([^)]*\)", " ", cells[2])  # parentheses explain, they name no field
        names = list(COMMON)
        words = key_text.replace("/", ", ").split()
        for before, word in zip(["", *words], words, strict=False):
            # a capitalised word right after a field name describes it ("DWTYSHXYDM USCC")
            token = word.rstrip(",;.")
            if _TOKEN.fullmatch(token) and not _TOKEN.fullmatch(before) and token not in names:
                names.append(token)
        found[cells[0]] = Table(cells[0], cells[1], tuple(names))
    return found


@cache
def rule_texts() -> dict[str, str]:
    """The uploaders' validation rules, numbered as in reference/spgl.md: {'R1': wording, …}."""
    text = _spec().split("## Validation rules", 1)[1].split("\n## ", 1)[0]
    return {f"R{m.group(1)}": m.group(2).strip() for m in re.finditer(r"^(\d)\. (.+)$", text, re.MULTILINE)}


# Code checks beside the six rules (reference/codes.md, case_status.csv, flow_types.csv, stages.csv).
CHECK_TEXTS = {
    "required": "a key field of the table is missing",
    "format": "a field does not have the form the standard gives it (number, date, time, field name)",
    "valid_flag": "SJYXBS is 1 (valid) or 0 (invalid, with the reason SJWXYY)",
    "project_code": "XMDM/GCDM must be a national investment project code (GB/T 40058-2021 or legacy form)",
    "region": "XZQHDM must be a current Hainan division code (GB/T 2260); old codes are refused with the current one",
    "status": "BLZT must be a case status code of case_status.csv (1–15)",
    "flow_type": "SPLCLX must be a flow type of flow_types.csv",
    "standard_stage": "DYBZSPJDXH must be a standard stage of stages.csv",
    "invalidates_unknown": "a row with valid flag 0 must invalidate a row imported earlier",
    "table": "the table is not one of the national data-sharing tables",
    "text": "a field holds a control character, a bidi control, a noncharacter or a lone surrogate (docs/security.md)",
}


def wording(rule: str) -> str:
    """The standard's wording of a rule (R1..R6) or our code check's description."""
    return rule_texts().get(rule) or CHECK_TEXTS.get(rule, rule)


@dataclass(frozen=True)
class RowError:
    """One rejected row: which rule it broke, on which field, and why."""

    table: str
    local_key: str
    lsh: str
    rule: str
    field: str
    message: str
    region_code: str = ""  # the row's XZQHDM as given (may be the invalid value itself)

    def as_dict(self) -> dict[str, str]:
        return {
            "region_code": self.region_code,
            "table": self.table,
            "local_key": self.local_key,
            "lsh": self.lsh,
            "rule": self.rule,
            "field": self.field,
            "message": self.message,
            "wording": wording(self.rule),
        }


class RowRejected(Exception):
    def __init__(self, rule: str, field: str, message: str) -> None:
        super().__init__(f"{rule} {field}: {message}")
        self.rule = rule
        self.field = field
        self.message = message


def normalise_row(raw: Mapping[str, Any]) -> dict[str, str]:
    """Values as the text a CSV cell holds; an empty cell and a missing one are the same."""
    row: dict[str, str] = {}
    for name, value in raw.items():
        key = str(name).strip().upper()
        if not _FIELD.match(key):
            raise RowRejected("format", key or "(empty)", f"'{name}' is not a field name of the standard")
        text = "" if value is None else str(value).strip()
        problem = forbidden(text)
        if problem is not None:
            raise RowRejected("text", key, problem[1])
        if text:
            row[key] = text
    return row


def content_hash(table: str, row: Mapping[str, str]) -> str:
    content = {k: v for k, v in row.items() if k not in VOLATILE}
    return hashlib.sha256(json.dumps([table, content], sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def gcdm_project_code(gcdm: str) -> str | None:
    """The project code an engineering code derives from (its first 24 characters)."""
    return gcdm[:24] if PROJECT_CODE_RE.match(gcdm[:24]) else None


def stage_item_key(row: Mapping[str, str]) -> str:
    return "|".join(_norm_version(row.get(f, "")) if f.endswith("BBH") else row.get(f, "") for f in _SI_FIELDS)


_SI_FIELDS = ("SPLCBM", "SPLCBBH", "SPSXBM", "SPSXBBH")


def flow_key(row: Mapping[str, str]) -> str:
    return f"{row.get('SPLCBM', '')}|{_norm_version(row.get('SPLCBBH', ''))}"


def _norm_version(text: str) -> str:
    try:
        return str(Decimal(text).normalize())
    except InvalidOperation:
        return text


class Known:
    """What rows may refer to: keys of rows already in the store plus those of this import."""

    def __init__(self, lookup: Callable[[str, str], bool]) -> None:
        self._lookup = lookup
        self._added: set[tuple[str, str]] = set()

    def has(self, kind: str, key: str) -> bool:
        return (kind, key) in self._added or self._lookup(kind, key)

    def add(self, kind: str, key: str) -> None:
        self._added.add((kind, key))


def keys_of(table: str, row: Mapping[str, str]) -> list[tuple[str, str]]:
    """The keys a valid row makes known to the rules (stage items, engineering codes, case ids, flows)."""
    if table == STAGE_ITEM:
        return [("stage_item", stage_item_key(row))]
    if table == PROJECT:
        return [("engineering", row["GCDM"])]
    if table == CASE:
        return [("case", row["SPSXSLBM"])]
    if table == FLOW:
        return [("flow", flow_key(row)), ("flow_type_at", f"{row['XZQHDM']}|{int(row['SPLCLX'])}")]
    return []


def check_row(table: str, row: Mapping[str, str], known: Known) -> None:
    """Raise RowRejected with the first rule the row breaks (code checks, then the six rules)."""
    if table not in tables():
        raise RowRejected("table", "table", f"{table} is not a national data-sharing table")
    for name in ("LSH", "DFSJZJ", "XZQHDM", "SJYXBS", *REQUIRED[table]):
        if not row.get(name):
            raise RowRejected("required", name, f"{name} is required in {table}")
    if row["SJYXBS"] not in ("0", "1"):
        raise RowRejected("valid_flag", "SJYXBS", f"'{row['SJYXBS']}' is neither 1 nor 0")
    if row["SJYXBS"] == "0" and not row.get("SJWXYY"):
        raise RowRejected("valid_flag", "SJWXYY", "an invalidated row needs the reason SJWXYY")
    _check_forms(row)
    for name in REGION_FIELDS:
        if name in row and not REFERENCE.is_region(row[name]):
            current = OLD_REGION_CODES.get(row[name])
            hint = f"; the current code is {current}" if current else ""
            raise RowRejected("region", name, f"{row[name]} is not a current Hainan division code{hint}")
    if "XMDM" in row:
        _project_code(row["XMDM"], "XMDM")
    if "GCDM" in row and gcdm_project_code(row["GCDM"]) is None:
        raise RowRejected("project_code", "GCDM", f"{row['GCDM']} does not derive from a project code")
    if "BLZT" in row and int(row["BLZT"]) not in REFERENCE.case_statuses:
        raise RowRejected("status", "BLZT", f"{row['BLZT']} is not a BLZT code of case_status.csv")
    if "SPLCLX" in row and int(row["SPLCLX"]) not in REFERENCE.flow_types:
        raise RowRejected("flow_type", "SPLCLX", f"{row['SPLCLX']} is not a flow type of flow_types.csv")
    if "DYBZSPJDXH" in row and int(row["DYBZSPJDXH"]) not in REFERENCE.stages:
        raise RowRejected("standard_stage", "DYBZSPJDXH", f"{row['DYBZSPJDXH']} is not a stage of stages.csv")
    if table == CASE and not known.has("stage_item", stage_item_key(row)):
        raise RowRejected("R1", "SPSXBM", f"no stage item {stage_item_key(row)} in {STAGE_ITEM}")
    if table == CASE and not known.has("engineering", row["GCDM"]):
        raise RowRejected("R2", "GCDM", f"engineering {row['GCDM']} is not in {PROJECT}")
    if table in CASE_CHILDREN and not known.has("case", row["SPSXSLBM"]):
        raise RowRejected("R3", "SPSXSLBM", f"case {row['SPSXSLBM']} is not in {CASE}")
    if table == STAGE and int(row["DYBZSPJDXH"]) != PARALLEL_STAGE and not 1 <= int(row.get("SPJDSX", "0")) <= 50:
        limit = row.get("SPJDSX", "missing")
        raise RowRejected("R4", "SPJDSX", f"stage limit {limit} is outside 1..50 working days")
    for uscc_field, name_field in USCC_FIELDS.items():
        if uscc_field in row:
            try:
                validate_uscc(row[uscc_field], uscc_field)
            except InvalidValue as bad:
                raise RowRejected("R5", uscc_field, bad.message) from None
            if not row.get(name_field):
                raise RowRejected("R5", name_field, f"the unit name {name_field} beside {uscc_field} is missing")
    if table == FLOW:
        _county_flow(row, known)


def _county_flow(row: Mapping[str, str], known: Known) -> None:
    """R6: a flow of a district or county maps to a flow of the same type one level up (the
    prefecture; for the counties and county-level cities under the province, the province)."""
    region = REFERENCE.regions[row["XZQHDM"]]
    if region.level not in ("district", "county", "county_city") or region.parent_code is None:
        return
    if not known.has("flow_type_at", f"{region.parent_code}|{int(row['SPLCLX'])}"):
        raise RowRejected(
            "R6", "SPLCLX", f"no flow of type {row['SPLCLX']} at {region.parent_code} for this {region.level} flow"
        )


def _project_code(value: str, name: str) -> None:
    try:
        validate_project_code(value, name)
    except InvalidValue as bad:
        raise RowRejected("project_code", name, bad.message) from None


def _check_forms(row: Mapping[str, str]) -> None:
    for name in DECIMAL_FIELDS:
        if name in row:
            try:
                Decimal(row[name])
            except InvalidOperation:
                raise RowRejected("format", name, f"'{row[name]}' is not a decimal number") from None
    for name in ("LSH", *INTEGER_FIELDS):
        if name in row and not re.fullmatch(r"-?\d+", row[name]):
            raise RowRejected("format", name, f"'{row[name]}' is not a whole number")
    for name in (*TIME_FIELDS, *DATE_FIELDS):
        if name in row:
            try:
                datetime.fromisoformat(row[name])
            except ValueError:
                raise RowRejected(
                    "format", name, f"'{row[name]}' is not a date or time (YYYY-MM-DD[ HH:MM:SS])"
                ) from None


def spgl_row_id(table: str, local_key: str) -> UUID:
    return uuid5(NAMESPACE, f"spgl:{table}:{local_key}")


def spgl_import_id(source_system: str, digest: str) -> UUID:
    return uuid5(NAMESPACE, f"spgl-import:{source_system}:{digest}")


class SpglRow(Aggregate):
    """共享交换数据行 — a row of a national data-sharing table reported by another system."""

    class Event(AuditedEvent):
        table: str
        row: dict[str, str]
        content_hash: str
        source_system: str

        def apply(self, aggregate: SpglRow) -> None:
            aggregate.row = dict(self.row)
            aggregate.content_hash = self.content_hash
            aggregate.last_serial = max(aggregate.last_serial, int(self.row.get("LSH", "0")))

    class Imported(Event, Aggregate.Created):
        """交换数据导入 — a row of another system entered the log (channel import)."""

        local_key: str

        def apply(self, aggregate: SpglRow) -> None:
            super().apply(aggregate)
            aggregate.valid = True

    class Corrected(Event):
        """交换数据更正 — the same row (table, local key) arrived again with other content."""

        def apply(self, aggregate: SpglRow) -> None:
            super().apply(aggregate)
            aggregate.valid = True

    class Invalidated(Event):
        """交换数据作废 — the source marked the row invalid (SJYXBS 0) with its reason (SJWXYY)."""

        reason: str

        def apply(self, aggregate: SpglRow) -> None:
            super().apply(aggregate)
            aggregate.valid = False

    def __init__(self, table: str, local_key: str) -> None:
        self.table = table
        self.local_key = local_key
        self.row: dict[str, str] = {}
        self.content_hash = ""
        self.valid = True
        self.last_serial = 0  # the highest serial (LSH) taken: rows of a key apply in serial order

    @classmethod
    def import_row(cls, meta: Meta, table: str, row: dict[str, str], source_system: str) -> SpglRow:
        return cls._create(
            cls.Imported,
            id=spgl_row_id(table, row["DFSJZJ"]),
            table=table,
            local_key=row["DFSJZJ"],
            row=_content(row),
            content_hash=content_hash(table, row),
            source_system=source_system,
            **meta.fields(),
        )

    def receive(self, meta: Meta, row: dict[str, str], source_system: str) -> str | None:
        """Apply a later row of the same key; returns what happened, None when it changes nothing."""
        digest = content_hash(self.table, row)
        if int(row["LSH"]) <= self.last_serial:
            return None  # taken before, or older than what was taken (a re-import, a late resend)
        if row["SJYXBS"] == "0":
            if not self.valid and digest == self.content_hash:
                return None
            self.trigger_event(
                self.Invalidated,
                table=self.table,
                row=_content(row),
                content_hash=digest,
                reason=row["SJWXYY"],
                source_system=source_system,
                **meta.fields(),
            )
            return "invalidated"
        if self.valid and digest == self.content_hash:
            return None
        self.trigger_event(
            self.Corrected,
            table=self.table,
            row=_content(row),
            content_hash=digest,
            source_system=source_system,
            **meta.fields(),
        )
        return "corrected"


def _content(row: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in row.items() if k not in UPLOAD_FIELDS}


@dataclass
class TableCounts:
    rows: int = 0
    imported: int = 0
    corrected: int = 0
    invalidated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class ImportReport:
    counts: dict[str, TableCounts] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    def count(self, table: str) -> TableCounts:
        return self.counts.setdefault(table, TableCounts())


class SpglImport(Aggregate):
    """交换数据导入批次 — one import of a dump: what it held, what entered the log, and every row
    kept out with the rule it broke (the rows themselves are not facts and stay out of the log)."""

    class Event(AuditedEvent):
        pass

    class Completed(Event, Aggregate.Created):
        """交换数据导入完成 — a dump from a source system was imported; rejected rows by rule."""

        source_system: str
        digest: str
        counts: dict[str, dict[str, int]]
        errors: list[dict[str, str]]

    def __init__(self, source_system: str, digest: str, counts: dict[str, dict[str, int]], errors: list[Any]) -> None:
        self.source_system = source_system
        self.digest = digest
        self.counts = counts
        self.errors = errors

    @classmethod
    def complete(cls, meta: Meta, source_system: str, digest: str, report: ImportReport) -> SpglImport:
        return cls._create(
            cls.Completed,
            id=spgl_import_id(source_system, digest),
            source_system=source_system,
            digest=digest,
            counts={t: c.as_dict() for t, c in report.counts.items()},
            errors=[e.as_dict() for e in report.errors],
            **meta.fields(),
        )


# Certificate tables as the facts the off-system rules check (ExternalRecord's kinds and fields).
CERTIFICATE_TABLES: dict[str, tuple[str, str, str | None, tuple[str, ...]]] = {
    # table: (record kind, number field, issue-date field, upstream number fields)
    LAND_PERMIT: ("planning_permit", "YDGHXKZBH", None, ()),
    WORKS_PERMIT: ("planning_permit", "GCGHXKZBH", None, ()),
    BUILD_PERMIT: ("construction_permit", "SGXKZBH", "FZRQ", ("YDGHXKZBH", "GCGHXKZBH", "SCHGSBH", "ZBTZSBH")),
    COMPLETION: ("completion_filing", "JGYSBABH", "BARQ", ("SGXKZBH", "SCHGSBH")),
}


def as_record(table: str, row: Mapping[str, str], source_system: str) -> dict[str, Any] | None:
    """An imported status row or certificate as the fields of an external record, so the warning
    rules weigh it like a report through `POST /api/v1/external-records`; None for other tables."""
    project = row.get("XMDM") or gcdm_project_code(row.get("GCDM", ""))
    base: dict[str, Any] = {
        "project_code": project,
        "item_code": None,
        "number": None,
        "issued_on": None,
        "upstream": {},
        "case_ref": None,
        "status_code": None,
        "source_system": row.get("SJLY") or source_system,
        "department": None,
    }
    if table == STATUS:
        return {**base, "kind": "status_row", "case_ref": row["SPSXSLBM"], "status_code": int(row["BLZT"])}
    if table in CERTIFICATE_TABLES:
        kind, number, issued, upstream = CERTIFICATE_TABLES[table]
        return {
            **base,
            "kind": kind,
            "number": row[number],
            "issued_on": datetime.fromisoformat(row[issued]).date() if issued and row.get(issued) else None,
            "upstream": {f: row[f] for f in upstream if row.get(f)},
            "department": row.get("FZJG"),
        }
    return None


# what the platform answered (SJSCZT, SBYY) is checked in domain/exchange/spgl_export.py
def spgl_upload_id(digest: str) -> UUID:
    return uuid5(NAMESPACE, f"spgl-upload:{digest}")


class SpglUpload(Aggregate):
    """上报结果 — what the national platform answered for rows we uploaded."""

    class Event(AuditedEvent):
        pass

    class Recorded(Event, Aggregate.Created):
        """上报结果登记 — the national platform's answer per row (uploaded, or failed with the reason)."""

        results: list[dict[str, str]]

    def __init__(self, results: list[dict[str, str]]) -> None:
        self.results = results

    @classmethod
    def record(cls, meta: Meta, results: list[dict[str, str]]) -> SpglUpload:
        digest = hashlib.sha256(json.dumps(results, sort_keys=True).encode()).hexdigest()
        return cls._create(cls.Recorded, id=spgl_upload_id(digest), results=results, **meta.fields())

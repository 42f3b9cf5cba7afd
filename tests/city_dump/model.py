"""The dump's building blocks: rows with the city's recording time, cases with office-hour status
rows, certificates, labels, and the working-day calendar (the chinesecalendar package, not ours).

Times: business times (`BLSJ`) are Asia/Shanghai wall-clock strings, as the city writes them. A
row's `GXSJ` is when the city system recorded it; the city uploads every row in the nightly batch
after that (02:00 the next night), so `Row.uploaded` is the delivery time of a nightly feed.
"""

from __future__ import annotations

import csv
import itertools
import random
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

from domain.exchange import spgl
from tests.imported_scenario import SYSTEM, Scenario
from tests.imported_scenario import uscc as scenario_uscc

SHANGHAI = ZoneInfo("Asia/Shanghai")
CITY = "460100"
DISTRICTS = ("460105", "460106", "460107", "460108")
FOREIGN_SYSTEM = "海南省住房和城乡建设厅行业审批系统"
ROOT = Path(__file__).resolve().parents[2]
THRESHOLDS: dict[str, Any] = tomllib.loads((ROOT / "projections" / "warning_rules.toml").read_text("utf-8"))
# the province's catalogue data (items, promised limits, stage limits, project targets): the seed
# edition's sheets as files (docs/catalogue.md), read here without the project's parser
SEED = ROOT / "domain" / "catalog" / "data" / "seed"


def _sheet(name: str) -> list[dict[str, str]]:
    with (SEED / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


_INTS = ("stage", "legal_limit_days", "promised_limit_days", "limit_days", "flow_type", "target_days")
CATALOGUE: dict[str, Any] = {
    sheet: [{k: int(v) if k in _INTS else v for k, v in row.items()} for row in _sheet(sheet)]
    for sheet in ("items", "stages", "project_targets")
}
for _item in CATALOGUE["items"]:
    _item["milestone"] = _item["milestone"] == "yes"
ITEMS: dict[str, dict[str, Any]] = {i["code"]: i for i in CATALOGUE["items"]}
STAGE_LIMITS: dict[int, int] = {s["stage"]: s["limit_days"] for s in CATALOGUE["stages"]}
DEPARTMENT_NAMES = {"fgw": "海口市发展和改革委员会", "zrzy": "海口市自然资源和规划局", "zjj": "海口市住房和城乡建设局"}


def uscc(n: int) -> str:
    """A valid USCC for owner `n` (offset away from tests/imported_scenario's owners)."""
    return scenario_uscc(5000 + n)


def is_workday(day: date) -> bool:
    return bool(chinese_calendar.is_workday(day))


def add_workdays(day: date, n: int) -> date:
    """The n-th working day after `day` (start-exclusive, as 受理次日起算)."""
    while n > 0:
        day += timedelta(days=1)
        n -= is_workday(day)
    return day


def next_workday(day: date) -> date:
    return add_workdays(day, 1)


def office(day: date, rng: random.Random, after: time | None = None) -> datetime:
    """A business time in office hours (09:00–11:50, 14:30–17:20) on `day`, after `after` if given."""
    while True:
        minutes = rng.choice((rng.randrange(9 * 60, 11 * 60 + 50), rng.randrange(14 * 60 + 30, 17 * 60 + 20)))
        moment = datetime.combine(day, time(minutes // 60, minutes % 60, rng.randrange(60)), SHANGHAI)
        if after is None or moment.time() > after:
            return moment
        after = None if after >= time(17, 0) else after


def stamp(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def nightly(recorded: datetime) -> datetime:
    """The nightly batch that carries a row recorded at `recorded`: 02:00 the next night."""
    local = recorded.astimezone(SHANGHAI)
    return datetime.combine(local.date() + timedelta(days=1), time(2, 0), SHANGHAI)


@dataclass(frozen=True)
class Label:
    """A planted anomaly: the rule that must report it, on which subject, and the project it is on.
    `consequences` are rules whose warnings on the same project are documented consequences."""

    rule: str
    kind: str
    subject: str
    project: str
    consequences: tuple[str, ...] = ()
    by_project: bool = False  # the subject is a project code (W8, W9): also named by `projectCode`


@dataclass
class Row:
    table: str
    fields: dict[str, Any]
    uploaded: datetime  # when the city's uploader sends it


@dataclass
class Certificate:
    fields: dict[str, Any]  # ExternalRecord fields
    reported: datetime


@dataclass
class Dump:
    """Rows and certificates with their delivery times, the labels, and which projects are what."""

    seed: int
    end: date
    rows: list[Row] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    clean: set[str] = field(default_factory=set)
    lookalikes: dict[str, str] = field(default_factory=dict)  # project code → look-alike kind
    planted: set[str] = field(default_factory=set)  # project codes carrying a label
    rejected: set[str] = field(default_factory=set)  # planted local keys / case ids the uploader rules refuse
    _serial: Any = field(default_factory=lambda: itertools.count(1))
    _records: Scenario = field(default_factory=Scenario)

    def row(self, table: str, key: str, region: str, recorded: datetime, *, uploaded: datetime | None = None,
            **fields: Any) -> dict[str, Any]:  # fmt: skip
        """A row recorded by the city at `recorded` (GXSJ), sent in the nightly batch after it."""
        data = {"LSH": next(self._serial), "DFSJZJ": key, "XZQHDM": region, "SJYXBS": 1, "GXSJ": stamp(recorded)}
        data.update(fields)
        self.rows.append(Row(table, data, uploaded or nightly(recorded)))
        return data

    def certificate(self, reported: datetime, **fields: Any) -> dict[str, Any]:
        """An ExternalRecord reported at `reported` (tests/imported_scenario's record with its defaults)."""
        self._records.certificate(**{"source_id": f"CD-{len(self.certificates):05d}", **fields})
        record = self._records.certificates.pop()
        self.certificates.append(Certificate(record, reported))
        return record

    def label(self, rule: str, kind: str, subject: str, project: str, *consequences: str, by_project: bool = False) -> None:  # fmt: skip
        self.labels.append(Label(rule, kind, subject, project, consequences, by_project))
        self.planted.add(project)

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {t: [] for t in spgl.ORDER}
        for r in self.rows:
            out[r.table].append(r.fields)
        return out

    @property
    def kinds(self) -> set[str]:
        return {label.kind for label in self.labels}


__all__ = ["SYSTEM", "Certificate", "Dump", "Label", "Row"]

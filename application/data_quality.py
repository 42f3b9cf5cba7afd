"""数据质量 — error-data counts by category, from what the read models show today.

Covered: duplicate project codes (same owner USCC and same normalised name, neither merged yet),
legacy project codes still in use, USCC check characters (always 0: the domain refuses bad
USCCs), cases left on a project code merged into another (broken link), cases stuck open longer
than N working days, and the rows SPGL imports kept out, by rule. Not yet covered (documented in
docs/operations.md): external records citing unknown projects or certificate numbers (they need
the external-records read model). Duplicate candidates (智能查重: owner, name similarity, red-line
overlap, legacy/current code forms; scored in projections/duplicates.py) are counted above the
threshold of duplicate_rules.toml, for periodic review. Open BIM findings and joint-survey
discrepancies (projections/industry.py) are counted per region as `industry_findings`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from application.ports import CaseFigures, QualityFacts
from application.statistics import OPEN, PROVINCE, StatisticsFilter, matching_cases, received_on
from domain.approvals.clock import clock_of
from domain.exchange.spgl import CHECK_TEXTS, rule_texts, wording
from domain.shared.codes import is_legacy_project_code
from domain.shared.reference import regions_within
from domain.shared.workdays import PACKAGE, Calendar, workdays_between

MAX_EXAMPLES = 5
STUCK_AFTER_WORKING_DAYS = 30
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass
class QualityCount:
    category: str
    rule: str
    description: str
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def hit(self, subject: str) -> None:
        self.count += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(subject)


def normalised_name(name: str) -> str:
    """Full-width to half-width, no spaces or punctuation, lower case: 海口（一期）== 海口(一期)."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", name)).lower()


def _regions(scope: str) -> list[str] | None:
    return None if scope == PROVINCE else regions_within(scope)


def compute_data_quality(
    figures: CaseFigures,
    facts: QualityFacts,
    filter: StatisticsFilter,
    today: date,
    stuck_after: int = STUCK_AFTER_WORKING_DAYS,
) -> list[QualityCount]:
    f = filter.check()
    projects = facts.projects(_regions(f.region_code or PROVINCE))
    live = [p for p in projects if not p["merged_into"]]
    duplicates = QualityCount(
        "duplicate_project_codes",
        "same_owner_same_name",
        "重复赋码 — two live project codes with the same owner USCC and the same normalised name",
    )
    by_key: dict[tuple[str, str], list[str]] = defaultdict(list)
    for p in live:
        by_key[(p["owner_uscc"], normalised_name(p["name"]))].append(p["code"])
    for codes in by_key.values():
        for extra in codes[1:]:
            duplicates.hit(f"{extra} = {codes[0]}")
    legacy = QualityCount(
        "invalid_codes", "legacy_project_code", "旧版项目代码 — a legacy-form project code (year segment) still in use"
    )
    for p in live:
        if is_legacy_project_code(p["code"]):
            legacy.hit(p["code"])
    uscc = QualityCount(
        "invalid_codes",
        "uscc_check_character",
        "统一社会信用代码校验位 — always 0: the domain refuses a USCC whose check character is wrong",
    )
    merged = {p["code"]: p["merged_into"] for p in projects if p["merged_into"]}
    broken = QualityCount(
        "broken_links",
        "case_on_merged_project",
        "关联断链 — a case still filed under a project code merged into another",
    )
    stuck = QualityCount(
        "stuck_cases",
        f"open_over_{stuck_after}_working_days",
        f"办件积压 — a case open for more than {stuck_after} working days (since acceptance, or since receipt if not accepted)",
    )
    working = figures.calendar()  # 工作日历 as case_timeline has it from the log
    for row in matching_cases(figures, f):
        if row["project_code"] in merged:
            broken.hit(f"{row['case_id']} → {row['project_code']} ⇒ {merged[row['project_code']]}")
        if row["status_code"] in OPEN and _open_days(row, today, working) > stuck_after:
            stuck.hit(row["case_id"])
    return [
        duplicates,
        _duplicate_candidates(facts, f.region_code or PROVINCE),
        legacy,
        uscc,
        broken,
        stuck,
        *_import_errors(facts, f.region_code or PROVINCE),
        *_industry_findings(facts, f.region_code or PROVINCE),
    ]


def _duplicate_candidates(facts: QualityFacts, scope: str) -> QualityCount:
    """智能查重 — the periodic review: live pairs at or above the threshold, both inside the scope."""
    count = QualityCount(
        "duplicate_candidates",
        "score_over_threshold",
        f"疑似重复赋码 — two live project codes scoring at least {facts.duplicate_threshold()} "
        "(owner, name similarity, red-line overlap, legacy/current code; docs/duplicates.md)",
    )
    rows, _more, total = facts.duplicate_candidates(scope, MAX_EXAMPLES)
    count.count = total
    count.examples = [
        f"{r['code_a']} ≈ {r['code_b']} ({r['score']:.2f}: {', '.join(json.loads(r['reasons']))})" for r in rows
    ]
    return count


def _import_errors(facts: QualityFacts, scope: str) -> list[QualityCount]:
    """导入错误数据 — rows of SPGL imports kept out of the log, one count per rule (the six rules
    of the standard's uploaders and our code checks), with the standard's wording."""
    counts = {
        rule: QualityCount("import_errors", rule, f"导入错误数据 — {wording(rule)}")
        for rule in (*rule_texts(), *CHECK_TEXTS)
    }
    within = None if scope == PROVINCE else set(regions_within(scope))
    for err in facts.import_errors():
        if within is not None and err["region_code"] not in within:
            continue
        counts[err["rule"]].hit(f"{err['tbl']}/{err['local_key']} {err['field']}: {err['message']}")
    return list(counts.values())


def _industry_findings(facts: QualityFacts, scope: str) -> list[QualityCount]:
    """工程行业系统 — open BIM findings (of each project's latest model per stage) and the joint
    survey's discrepancies against the planning conditions and the approved design, one hit each."""
    bim = QualityCount(
        "industry_findings",
        "open_bim_findings",
        "模型审查问题 — findings of the latest BIM model of a project and stage",
    )
    survey = QualityCount(
        "industry_findings",
        "survey_discrepancies",
        "联合测绘差异 — survey results beyond the planning conditions or design",
    )
    found = facts.open_industry_findings(_regions(scope))
    for count, rows in ((bim, found["bim"]), (survey, found["survey"])):
        for code, n in rows:
            count.count += n
            if len(count.examples) < MAX_EXAMPLES:
                count.examples.append(f"{code}: {n}")
    return [bim, survey]


def _open_days(row: dict[str, Any], today: date, calendar: Calendar = PACKAGE) -> int:
    used = clock_of(row, calendar).working_days_used(today)
    if used is not None:
        return used
    return workdays_between(received_on(row), today, calendar)

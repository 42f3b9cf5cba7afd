"""duplicates — 智能查重: per live project the facts duplicate detection compares (code form, owner,
normalised name, region, red line with its bounding box, merged_into), and the scored, explained
candidate pairs of codes that may stand for one project (重复赋码).

Pairs are only scored inside blocks, never province-wide n²: the same owner USCC, the same red-line
grid cell, and — only when `keep_from` is low enough for them to matter — the same unit and name
prefix or suffix, and the same region segment and random digits of the code. A pair with neither
the same owner nor overlapping red lines scores at most name + region + code bonus (0.55 with the
weights of duplicate_rules.toml, below `keep_from` 0.6): the owner and grid blocks then find every
pair worth keeping, and the name and code blocks are left out (`Rules.name_blocks`).

A merge (Project.MergedInto) removes every pair of the alias, and `family` / `canonical` answer
which codes stand for one project (the GraphQL layer follows aliases with them).
Consumes: Project.Generated, Project.LandSupplied, Project.MergedInto.
Tables: `dup_projects`, `dup_blocks`, `dup_candidates`.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from importlib import resources
from typing import Any, cast

from rapidfuzz.distance import Indel
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from domain.blueprint.check import geodesic_area_m2
from domain.projects import Project
from domain.shared.codes import is_legacy_project_code
from domain.shared.reference import REFERENCE, regions_within
from infrastructure.db import Cursor
from projections.base import Envelope, Events, ReadModel, Rows, Where, bigint, to_json

PROJECT_COLUMNS = (
    "code", "project_id", "code_form", "owner_uscc", "owner_name", "name", "name_key", "region_code",
    "unit_code", "red_line", "minx", "miny", "maxx", "maxy", "area_m2", "merged_into", "position",
    "last_position",
)  # fmt: skip
CANDIDATE_COLUMNS = (
    "code_a", "code_b", "score", "reasons", "signals", "region_a", "region_b", "position",
)  # fmt: skip
EVENTS = Events(Project.Generated, Project.LandSupplied, Project.MergedInto)
MAX_ALIAS_HOPS = 10
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
# generic endings carry no identity: 江东总部大厦 and 江东总部大厦项目 are one name
_GENERIC_SUFFIXES = ("建设项目", "建设工程", "项目", "工程")


# --- the scoring (pure) ---------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    threshold: float
    keep_from: float
    owner: float
    name: float
    red_line: float
    region: float
    legacy_current_bonus: float
    name_match: float
    grid_degrees: float
    name_key_chars: int

    @property
    def name_blocks(self) -> bool:
        """Whether a pair of other owners with no red-line overlap can be kept at all (name, region
        and code bonus reach `keep_from`): only then are the name and code blocks needed."""
        return self.name + self.region + self.legacy_current_bonus >= self.keep_from


def load_rules(text: str | None = None) -> Rules:
    if text is None:
        text = resources.files("projections").joinpath("duplicate_rules.toml").read_text(encoding="utf-8")
    raw: dict[str, Any] = tomllib.loads(text)
    w = raw["weights"]
    rules = Rules(
        threshold=float(raw["threshold"]),
        keep_from=float(raw["keep_from"]),
        owner=float(w["owner"]),
        name=float(w["name"]),
        red_line=float(w["red_line"]),
        region=float(w["region"]),
        legacy_current_bonus=float(raw["code"]["legacy_current_bonus"]),
        name_match=float(raw["code"]["name_match"]),
        grid_degrees=float(raw["blocking"]["grid_degrees"]),
        name_key_chars=int(raw["blocking"]["name_key_chars"]),
    )
    if not math.isclose(rules.owner + rules.name + rules.red_line + rules.region, 1.0):
        raise ValueError("duplicate_rules.toml: the weights must sum to 1")
    if not 0 <= rules.keep_from <= rules.threshold <= 1:
        raise ValueError("duplicate_rules.toml: 0 ≤ keep_from ≤ threshold ≤ 1 needed")
    return rules


RULES = load_rules()


def normalised_name(name: str) -> str:
    """Full-width to half-width, no spaces or punctuation, lower case, no generic ending:
    海口（一期）项目 == 海口(一期)."""
    text = _NOISE.sub("", unicodedata.normalize("NFKC", name)).lower()
    for suffix in _GENERIC_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def _place_names() -> tuple[str, ...]:
    names: set[str] = set()
    for region in REFERENCE.regions.values():
        names.add(region.name)
        short = re.sub(r"(黎族苗族自治县|黎族自治县|省|市|区|县)$", "", region.name)
        if len(short) >= 2:
            names.add(short)
    return tuple(sorted(names, key=len, reverse=True))


_PLACES = _place_names()


def blocking_name(name_key: str) -> str:
    """The name without leading place names (海口市江东新区… → 江东新区…): names are bucketed by
    their own words, not by the city most of them start with."""
    stripped = True
    while stripped:
        stripped = False
        for place in _PLACES:
            if name_key.startswith(place) and len(name_key) > len(place):
                name_key, stripped = name_key[len(place) :], True
                break
    return name_key


def name_similarity(a: str, b: str) -> float:
    """Of two normalised names, 0–1 (rapidfuzz Indel ratio: 1 - edits / total length). Chinese names
    have no word boundaries left after normalisation, so token-set matching would add nothing."""
    if not a or not b:
        return 0.0
    return float(Indel.normalized_similarity(a, b))


def overlap_ratio(a: BaseGeometry | None, b: BaseGeometry | None) -> float | None:
    """Shared area over the smaller red line's area, both geodesic m² (None: a red line is missing)."""
    if a is None or b is None:
        return None
    if not a.intersects(b):
        return 0.0
    smaller = min(geodesic_area_m2(a), geodesic_area_m2(b))
    if smaller <= 0:
        return 0.0
    shared = geodesic_area_m2(a.intersection(b))
    return min(1.0, float(shared / smaller))


@dataclass(frozen=True)
class Facts:
    """What the comparison needs of one project."""

    code: str
    owner_uscc: str
    owner_name: str
    name_key: str
    region_code: str
    unit_code: str
    red_line: BaseGeometry | None

    @cached_property
    def legacy(self) -> bool:
        return is_legacy_project_code(self.code)

    @cached_property
    def region_segment(self) -> str:
        return self.code[5:11]

    @cached_property
    def random_digits(self) -> str:
        return self.code[-6:-1]

    @cached_property
    def bbox(self) -> tuple[float, float, float, float] | None:
        if self.red_line is None:
            return None
        minx, miny, maxx, maxy = self.red_line.bounds
        return float(minx), float(miny), float(maxx), float(maxy)


@dataclass(frozen=True)
class Signals:
    same_owner: bool
    name: float
    overlap: float | None  # None: one of the two has no red line
    same_unit: bool
    legacy_current: bool


def score(s: Signals, rules: Rules = RULES) -> float:
    """Sum of weight x signal, plus the legacy↔current bonus, capped at 1; 4 decimals. A missing red
    line counts as no overlap (no evidence either way)."""
    total = (
        rules.owner * s.same_owner
        + rules.name * s.name
        + rules.red_line * (s.overlap or 0.0)
        + rules.region * s.same_unit
        + rules.legacy_current_bonus * s.legacy_current
    )
    return round(min(1.0, max(0.0, total)), 4)


def signals(a: Facts, b: Facts, rules: Rules = RULES) -> Signals:
    same_owner = a.owner_uscc == b.owner_uscc
    name = name_similarity(a.name_key, b.name_key)
    legacy_current = (
        a.legacy != b.legacy
        and a.region_segment == b.region_segment
        and (a.random_digits == b.random_digits or (same_owner and name >= rules.name_match))
    )
    return Signals(same_owner, name, overlap_ratio(a.red_line, b.red_line), a.unit_code == b.unit_code, legacy_current)


def may_reach(a: Facts, b: Facts, floor: float, rules: Rules = RULES) -> bool:
    """A cheap upper bound of the pair's score (full overlap if the bounding boxes meet, the bonus
    if the code forms differ) reaches `floor`: a big owner block is mostly settled by this."""
    boxes_meet = (
        a.bbox is not None
        and b.bbox is not None
        and a.bbox[0] <= b.bbox[2]
        and b.bbox[0] <= a.bbox[2]
        and a.bbox[1] <= b.bbox[3]
        and b.bbox[1] <= a.bbox[3]
    )
    bound = (
        rules.owner * (a.owner_uscc == b.owner_uscc)
        + rules.red_line * boxes_meet
        + rules.region * (a.unit_code == b.unit_code)
        + rules.legacy_current_bonus * (a.legacy != b.legacy)
    )
    return bound + rules.name >= floor and bound + rules.name * name_similarity(a.name_key, b.name_key) >= floor


def reasons(a: Facts, b: Facts, s: Signals) -> list[str]:
    """Why the pair is a candidate, in Chinese, strongest evidence first."""
    found: list[str] = []
    if s.same_owner:
        renamed = a.owner_name != b.owner_name
        found.append(f"同一建设单位（已更名：{a.owner_name} / {b.owner_name}）" if renamed else "同一建设单位")
    if s.name >= 0.5:
        found.append(f"名称相似 {s.name:.2f}")
    if s.overlap:
        found.append(f"红线重叠 {s.overlap:.0%}")
    if s.legacy_current:
        found.append("旧版/新版代码")
    if s.same_unit:
        found.append(f"同一区域 {a.unit_code}")
    return found


def block_keys(f: Facts, rules: Rules = RULES) -> set[str]:
    """The blocks a project is compared within (see the module docstring)."""
    keys = {f"o:{f.owner_uscc}"}
    n, name = rules.name_key_chars, blocking_name(f.name_key)
    if rules.name_blocks:
        keys.add(f"c:{f.region_segment}:{f.random_digits}")
        if name:
            keys |= {f"n:{f.unit_code}:^{name[:n]}", f"n:{f.unit_code}:{name[-n:]}$"}
    if f.bbox is not None:
        g = rules.grid_degrees
        minx, miny, maxx, maxy = f.bbox
        for ix in range(math.floor(minx / g), math.floor(maxx / g) + 1):
            for iy in range(math.floor(miny / g), math.floor(maxy / g) + 1):
                keys.add(f"g:{ix}:{iy}")
    return keys


def facts_of(row: dict[str, Any]) -> Facts:
    return Facts(
        code=row["code"],
        owner_uscc=row["owner_uscc"],
        owner_name=row["owner_name"],
        name_key=row["name_key"],
        region_code=row["region_code"],
        unit_code=row["unit_code"],
        red_line=shape(json.loads(row["red_line"])) if row["red_line"] else None,
    )


def _red_line_columns(red_line: dict[str, Any] | None) -> dict[str, Any]:
    if not red_line:
        return {"red_line": None, "minx": None, "miny": None, "maxx": None, "maxy": None, "area_m2": None}
    geom = shape(red_line)
    minx, miny, maxx, maxy = (float(v) for v in geom.bounds)
    area: Decimal = geodesic_area_m2(geom)
    return {
        "red_line": to_json(red_line),
        "minx": minx,
        "miny": miny,
        "maxx": maxx,
        "maxy": maxy,
        "area_m2": str(area),
    }


# --- the read model -------------------------------------------------------------------


class Duplicates(ReadModel):
    name = "duplicates"
    tables = ("dup_projects", "dup_blocks", "dup_candidates")
    reads = EVENTS
    rules = RULES

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        real = "DOUBLE PRECISION"
        cur.execute(
            "CREATE TABLE IF NOT EXISTS dup_projects ("
            " code TEXT PRIMARY KEY, project_id TEXT NOT NULL, code_form TEXT NOT NULL, owner_uscc TEXT NOT NULL,"
            " owner_name TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL, region_code TEXT NOT NULL,"
            f" unit_code TEXT NOT NULL, red_line TEXT, minx {real}, miny {real}, maxx {real}, maxy {real},"
            f" area_m2 TEXT, merged_into TEXT, position {big} NOT NULL, last_position {big} NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS dup_blocks (block TEXT NOT NULL, code TEXT NOT NULL, PRIMARY KEY (block, code))"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS dup_candidates ("
            f" code_a TEXT NOT NULL, code_b TEXT NOT NULL, score {real} NOT NULL, reasons TEXT NOT NULL,"
            " signals TEXT NOT NULL, region_a TEXT NOT NULL, region_b TEXT NOT NULL,"
            f" position {big} NOT NULL, PRIMARY KEY (code_a, code_b))"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS dup_projects_id ON dup_projects (project_id)")
        cur.execute("CREATE INDEX IF NOT EXISTS dup_projects_merged ON dup_projects (merged_into)")
        cur.execute("CREATE INDEX IF NOT EXISTS dup_blocks_code ON dup_blocks (code)")
        cur.execute("CREATE INDEX IF NOT EXISTS dup_candidates_score ON dup_candidates (score)")
        cur.execute("CREATE INDEX IF NOT EXISTS dup_candidates_b ON dup_candidates (code_b)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        batch = EVENTS.of(batch)
        if not batch:
            return
        projects = Rows("dup_projects", "code", PROJECT_COLUMNS)
        code_of = {
            r["project_id"]: r["code"]
            for r in projects.load_by(
                cur,
                "project_id",
                {
                    str(cast(Any, env.event).originator_id)
                    for env in batch
                    if not isinstance(env.event, Project.Generated)
                },
            )
        }
        touched: dict[str, int] = {}  # code → position of its last change in this batch
        merged: dict[str, None] = {}
        for env in batch:
            e: Any = env.event
            if isinstance(e, Project.Generated):
                code_of[str(e.originator_id)] = e.code
                projects.insert(
                    {
                        "code": e.code,
                        "project_id": str(e.originator_id),
                        "code_form": "legacy" if is_legacy_project_code(e.code) else "current",
                        "owner_uscc": e.owner_uscc,
                        "owner_name": e.owner_name,
                        "name": e.name,
                        "name_key": normalised_name(e.name),
                        "region_code": e.region_code,
                        "unit_code": REFERENCE.unit_of(e.region_code),
                        **_red_line_columns(e.red_line),
                        "merged_into": None,
                        "position": env.position,
                        "last_position": env.position,
                    }
                )
                touched[e.code] = env.position
                continue
            code = code_of.get(str(e.originator_id))
            if code is None:
                raise LookupError(f"project {e.originator_id} not in the duplicates read model")
            if isinstance(e, Project.LandSupplied):
                projects.update(code, {**_red_line_columns(e.red_line), "last_position": env.position})
                if code not in merged:
                    touched[code] = env.position
            else:  # MergedInto: the code is an alias from now on
                projects.update(code, {"merged_into": e.canonical_code, "last_position": env.position})
                merged[code] = None
                touched.pop(code, None)
        projects.flush(cur)
        if merged:
            self._forget(cur, list(merged))
        if touched:
            self._rescore(cur, projects, touched)

    def _forget(self, cur: Cursor, codes: list[str]) -> None:
        for start in range(0, len(codes), 500):
            part = codes[start : start + 500]
            marks = ", ".join("?" for _ in part)
            cur.execute(f"DELETE FROM dup_blocks WHERE code IN ({marks})", part)  # noqa: S608 — marks only
            cur.execute(
                f"DELETE FROM dup_candidates WHERE code_a IN ({marks}) OR code_b IN ({marks})",  # noqa: S608
                [*part, *part],
            )

    def _rescore(self, cur: Cursor, projects: Rows, touched: dict[str, int]) -> None:
        """Re-block the touched projects and score them against every live project sharing a block."""
        codes = list(touched)
        projects.load(cur, codes)
        facts = {c: facts_of(projects.rows[c]) for c in codes}  # type: ignore[arg-type]
        keys = {c: block_keys(facts[c], self.rules) for c in codes}
        self._forget(cur, codes)  # old blocks and pairs of the touched codes
        cur.insert_rows("dup_blocks", ("block", "code"), sorted({(k, c) for c in codes for k in keys[c]}))
        neighbours: dict[str, set[str]] = {}
        for part in _chunks(sorted({k for ks in keys.values() for k in ks})):
            cur.execute(
                f"SELECT block, code FROM dup_blocks WHERE block IN ({', '.join('?' for _ in part)})",  # noqa: S608
                part,
            )
            for row in cur.fetchall():
                neighbours.setdefault(row["block"], set()).add(row["code"])
        others = {o for c in codes for k in keys[c] for o in neighbours.get(k, ()) if o != c}
        projects.load(cur, others)
        for o in others:
            if o not in facts and projects.rows.get(o) is not None:
                facts[o] = facts_of(projects.rows[o])  # type: ignore[arg-type]
        pairs: set[tuple[str, str]] = set()
        for c in codes:
            for k in keys[c]:
                pairs.update((c, o) if c < o else (o, c) for o in neighbours.get(k, ()) if o != c and o in facts)
        rows: list[tuple[Any, ...]] = []
        for a, b in pairs:
            if not may_reach(facts[a], facts[b], self.rules.keep_from, self.rules):
                continue
            position = max(touched.get(a, 0), touched.get(b, 0))  # the later change of the two
            s = signals(facts[a], facts[b], self.rules)
            value = score(s, self.rules)
            if value < self.rules.keep_from:
                continue
            rows.append(
                (
                    a,
                    b,
                    value,
                    json.dumps(reasons(facts[a], facts[b], s), ensure_ascii=False),
                    json.dumps(
                        {
                            "same_owner": s.same_owner,
                            "name": round(s.name, 4),
                            "overlap": None if s.overlap is None else round(s.overlap, 4),
                            "same_unit": s.same_unit,
                            "legacy_current": s.legacy_current,
                        }
                    ),
                    facts[a].region_code,
                    facts[b].region_code,
                    position,
                )
            )
        cur.insert_rows("dup_candidates", CANDIDATE_COLUMNS, rows)

    # --- queries ----------------------------------------------------------------------

    def candidates(
        self, *, min_score: float | None = None, region_scope: str | None = None, after: int = 0, first: int = 50
    ) -> tuple[list[dict[str, Any]], bool, int]:
        """Pairs scoring at least `min_score` (the threshold by default), highest score first, after
        the first `after` of them (an offset: the list is a review queue, not a log); a region scope
        keeps the pairs whose two projects both lie in it. (rows, has_next, total)."""
        where = Where()
        where.conditions.append("score >= ?")
        where.params.append(self.rules.threshold if min_score is None else min_score)
        if region_scope and region_scope != "460000":
            codes = regions_within(region_scope)
            where.any_of("region_a", codes).any_of("region_b", codes)
        clause = " AND ".join(where.conditions)
        rows = self.db.query(
            f"SELECT * FROM dup_candidates WHERE {clause} ORDER BY score DESC, code_a, code_b LIMIT ? OFFSET ?",  # noqa: S608
            [*where.params, first + 1, after],
        )
        total = self.db.query(f"SELECT COUNT(*) AS n FROM dup_candidates WHERE {clause}", where.params)  # noqa: S608
        return rows[:first], len(rows) > first, int(total[0]["n"])

    def get(self, code: str) -> dict[str, Any] | None:
        rows = self.db.query("SELECT * FROM dup_projects WHERE code = ?", (code,))
        return rows[0] if rows else None

    def canonical(self, code: str) -> str:
        """The code a (possibly merged) code stands for now; an unknown code stands for itself."""
        for _ in range(MAX_ALIAS_HOPS):
            row = self.get(code)
            if row is None or not row["merged_into"]:
                return code
            code = row["merged_into"]
        return code

    def family(self, code: str) -> list[str]:
        """The canonical code of `code` first, then every code merged into it (directly or through
        another alias), oldest merge first."""
        # the usual case in one statement (every auditTrail and list by project code asks): the code's
        # own row and the codes merged straight into it; an alias starts over from its canonical code
        rows = self.db.query(
            "SELECT code, merged_into FROM dup_projects WHERE code = ? OR merged_into = ? ORDER BY last_position",
            (code, code),
        )
        if any(r["code"] == code and r["merged_into"] for r in rows):
            canonical, hops = self.canonical(code), MAX_ALIAS_HOPS
            found, frontier = [canonical], [canonical]
        else:
            canonical, hops = code, MAX_ALIAS_HOPS - 1
            frontier = [r["code"] for r in rows if r["merged_into"] == code and r["code"] != code]
            found = [canonical, *frontier]
        for _ in range(hops):
            if not frontier:
                break
            marks = ", ".join("?" for _ in frontier)
            rows = self.db.query(
                f"SELECT code FROM dup_projects WHERE merged_into IN ({marks}) ORDER BY last_position",  # noqa: S608
                frontier,
            )
            frontier = [r["code"] for r in rows if r["code"] not in found]
            found.extend(frontier)
        return found


def _chunks(values: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def candidate_signals(row: dict[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(row["signals"]))

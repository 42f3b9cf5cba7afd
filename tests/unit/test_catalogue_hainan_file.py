"""Hainan's catalogue file (domain/catalog/data/hainan/, docs/catalogue-hainan.md), read with the csv
module only: its counts, its cross references and today's 13 items kept as they were."""

from __future__ import annotations

import csv
import re
from graphlib import TopologicalSorter
from pathlib import Path

import pytest

from domain.shared.codes import validate_uscc
from domain.shared.reference import REFERENCE

DATA = Path(__file__).parents[2] / "domain" / "catalog" / "data"
HAINAN = DATA / "hainan"
PROVINCE, HAIKOU, SANYA = "460000", "460100", "460200"
BOOLEANS = {"yes", "no", ""}
IMPLIED_TOPICS = {"project_name", "document_number", "location", "holder_name", "holder_uscc", "project_code"} | {
    "item_code",
    "region_code",
}
PROJECT_PREFILLS = {"name", "owner_name", "owner_uscc", "total_investment", "land_area_m2"}
# the national-code scheme documented in the edition note: type, 9, stage, number, 00000
NATIONAL_CODE = re.compile(r"^(0[1-4])9([1-5])(\d{3})00000$")

# catalogue 2026.12-1 (the seed edition, domain/catalog/data/seed/), frozen here so that the file is
# checked against what the demo and the tests were written for, whatever replaces those sources
TODAY = {  # code: stage, department, legal, promised, prerequisites, milestone, licence type, commitment
    "GJ-1-01": (1, "fgw", 3, 1, "", "no", "", ""),
    "GJ-1-02": (1, "zrzy", 20, 5, "", "yes", "site_selection_opinion", ""),
    "GJ-1-03": (1, "zrzy", 20, 5, "GJ-1-02", "yes", "construction_land_planning_permit", ""),
    "GJ-2-01": (2, "zrzy", 20, 8, "GJ-1-03", "yes", "engineering_planning_permit", ""),
    "GJ-3-01": (3, "zjj", 20, 10, "GJ-2-01", "yes", "drawing_review_certificate", ""),
    "GJ-3-02": (3, "zjj", 15, 10, "GJ-2-01", "no", "", ""),
    "GJ-3-03": (3, "zjj", 7, 3, "GJ-2-01;GJ-3-01", "yes", "construction_permit", "20"),
    "GJ-4-01": (4, "zrzy", 15, 5, "GJ-3-03", "yes", "", ""),
    "GJ-4-02": (4, "zjj", 15, 10, "GJ-3-03", "no", "", ""),
    "GJ-4-03": (4, "zjj", 15, 5, "GJ-3-03;GJ-4-01", "yes", "completion_filing", ""),
    "GJ-5-01": (5, "water", 10, 5, "", "no", "", "10"),
    "GJ-5-02": (5, "power", 10, 5, "", "no", "", "10"),
    "GJ-5-03": (5, "gas", 10, 5, "", "no", "", "10"),
}
TODAY_LICENCES = {
    "site_selection_opinion": ("建设项目用地预审与选址意见书", {("land_area", "area", "yes"), ("scale", "name", "no")}),
    "construction_land_planning_permit": (
        "建设用地规划许可证",
        {("land_area", "area", "yes"), ("land_use", "name", "yes"), ("parcel_code", "code", "no")},
    ),
    "engineering_planning_permit": ("建设工程规划许可证", {("building_area", "area", "yes")}),
    "drawing_review_certificate": (
        "施工图设计文件审查合格书",
        {("review_org", "name", "yes"), ("building_area", "area", "no")},
    ),
    "construction_permit": (
        "建筑工程施工许可证",
        {
            ("building_area", "area", "yes"),
            ("contract_price", "money", "yes"),
            ("construction_org", "name", "yes"),
            ("supervision_org", "name", "no"),
        },
    ),
    "completion_filing": (
        "房屋建筑和市政基础设施工程竣工验收备案证明",
        {("building_area", "area", "yes"), ("completion_date", "date", "yes")},
    ),
}


def _sheet(name: str) -> list[dict[str, str]]:
    with (HAINAN / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _list(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


@pytest.fixture(scope="module")
def sheets() -> dict[str, list[dict[str, str]]]:
    return {p.stem: _sheet(p.stem) for p in sorted(HAINAN.glob("*.csv"))}


@pytest.fixture(scope="module")
def items(sheets: dict[str, list[dict[str, str]]]) -> dict[str, dict[str, str]]:
    return {row["code"]: row for row in sheets["items"]}


def _park(sheets: dict[str, list[dict[str, str]]]) -> dict[str, str]:
    parks = [r for r in sheets["regions"] if r["level"] == "park"]
    assert len(parks) == 1
    return parks[0]


def test_the_file_has_every_sheet_of_the_format(sheets: dict[str, list[dict[str, str]]]) -> None:
    required = {"edition", "departments", "licence_types", "items", "stages", "project_targets"}
    optional = {"regions", "licence_fields", "situations", "materials", "form_fields", "flows", "implementations"}
    assert required <= set(sheets) <= required | optional


def test_edition_is_2026_12_2_and_says_what_is_assumed(sheets: dict[str, list[dict[str, str]]]) -> None:
    edition = {r["key"]: r["value"] for r in sheets["edition"]}
    assert edition["version"] == "2026.12-2"
    assert edition["title"] and edition["source"]
    assert "national_code" in edition["note"] and "assumed" in edition["note"].lower()


def test_at_least_60_items_in_every_stage(items: dict[str, dict[str, str]]) -> None:
    assert len(items) >= 60
    assert {int(i["stage"]) for i in items.values()} == {1, 2, 3, 4, 5}
    for code, item in items.items():
        assert re.fullmatch(rf"GJ-{item['stage']}-\d\d", code), code


def test_at_least_15_department_functions_in_the_province_and_two_cities(
    sheets: dict[str, list[dict[str, str]]],
) -> None:
    rows = sheets["departments"]
    functions = {r["code"] for r in rows}
    assert len(functions) >= 15
    assert {"fgw", "zrzy", "zjj", "water", "power", "gas"} <= functions
    by_region = {
        region: {r["code"] for r in rows if r["region_code"] == region} for region in (PROVINCE, HAIKOU, SANYA)
    }
    assert by_region[PROVINCE] == functions  # every function resolves at the latest in the province
    assert len(by_region[HAIKOU]) >= 10 and len(by_region[SANYA]) >= 10
    assert len({(r["code"], r["region_code"]) for r in rows}) == len(rows)
    haikou_zjj = next(r for r in rows if r["code"] == "zjj" and r["region_code"] == HAIKOU)
    sanya_zjj = next(r for r in rows if r["code"] == "zjj" and r["region_code"] == SANYA)
    assert (haikou_zjj["name"], sanya_zjj["name"]) == ("海口市住房和城乡建设局", "三亚市住房和城乡建设局")


def test_departments_are_well_formed(sheets: dict[str, list[dict[str, str]]]) -> None:
    park = _park(sheets)["code"]
    for r in sheets["departments"]:
        assert r["region_code"] == park or r["region_code"] in REFERENCE.regions, r
        assert r["kind"] == ("enterprise" if r["code"] in {"water", "power", "gas", "telecom"} else "government"), r
        assert r["basis_assumed"] in ("yes", "no") and r["name"], r
        if r["uscc"]:
            assert validate_uscc(r["uscc"]) and (r["kind"] == "enterprise" or r["uscc"].startswith("11")), r


def test_the_park_is_yangpu_under_danzhou_with_its_own_department(
    sheets: dict[str, list[dict[str, str]]], items: dict[str, dict[str, str]]
) -> None:
    park = _park(sheets)
    assert park["name"] == "洋浦经济开发区" and park["parent_code"] == "460400"
    assert re.fullmatch(r"\d{6}", park["code"]) and park["code"] not in REFERENCE.gbt_regions
    assert park["basis_assumed"] == "yes" and park["basis"]
    only_there = [r for r in sheets["departments"] if r["region_code"] == park["code"]]
    assert [r["name"] for r in only_there] == ["洋浦经济开发区规划建设局"]
    handled = [c for c, i in items.items() if i["department"] == only_there[0]["code"]]
    powers = _list(park["approval_powers"])
    assert powers and set(powers) <= set(handled)


def test_items_refer_to_known_departments_licences_and_situations(
    sheets: dict[str, list[dict[str, str]]], items: dict[str, dict[str, str]]
) -> None:
    functions = {r["code"] for r in sheets["departments"]}
    licences = {r["code"] for r in sheets["licence_types"]}
    situations: dict[str, set[str]] = {}
    for r in sheets["situations"]:
        assert r["item_code"] in items and re.fullmatch(r"[a-z][a-z0-9_]*", r["code"]) and r["name"], r
        situations.setdefault(r["item_code"], set()).add(r["code"])
    for code, item in items.items():
        assert item["department"] in functions, code
        assert set(_list(item["consulted_departments"])) <= functions - {item["department"]}, code
        assert item["licence_type"] == "" or item["licence_type"] in licences, code
        assert set(_list(item["applies_in_situations"])) <= situations.get(code, set()), code
        for column in ("limit_basis_assumed", "milestone", "commitment_basis_assumed"):
            assert item[column] in BOOLEANS, (code, column)


def test_limits_are_whole_working_days_promised_within_legal_and_assumptions_explained(
    items: dict[str, dict[str, str]],
) -> None:
    for code, item in items.items():
        legal, promised = int(item["legal_limit_days"]), int(item["promised_limit_days"])
        assert 1 <= promised <= legal <= 365, code
        assert item["legal_basis"], code
        if item["limit_basis_assumed"] == "yes":
            assert item["note"], f"{code}: an assumed limit says why in its note"
        assert (item["commitment_days"] == "") == (item["commitment_basis"] == ""), code


def test_prerequisites_exist_come_no_later_and_form_no_cycle(items: dict[str, dict[str, str]]) -> None:
    graph = {code: set(_list(item["prerequisites"])) for code, item in items.items()}
    for code, before in graph.items():
        assert before <= set(items), code
        for p in before:
            assert int(items[p]["stage"]) <= int(items[code]["stage"]), (p, code)
    tuple(TopologicalSorter(graph).static_order())  # CycleError on a cycle


def test_national_codes_follow_the_documented_scheme_and_are_unique(items: dict[str, dict[str, str]]) -> None:
    codes = [i["national_code"] for i in items.values()]
    assert len(set(codes)) == len(codes)
    for code, item in items.items():
        m = NATIONAL_CODE.match(item["national_code"])
        assert m, code
        assert (m.group(2), int(m.group(3))) == (item["stage"], int(code.split("-")[2])), code


def test_every_item_has_two_materials_and_they_are_well_formed(
    sheets: dict[str, list[dict[str, str]]], items: dict[str, dict[str, str]]
) -> None:
    fields = {t["code"]: set(IMPLIED_TOPICS) for t in sheets["licence_types"]}
    for f in sheets["licence_fields"]:
        fields[f["licence_type"]].add(f["name"])
    situations = {(r["item_code"], r["code"]) for r in sheets["situations"]}
    count: dict[str, int] = {}
    for m in sheets["materials"]:
        count[m["item_code"]] = count.get(m["item_code"], 0) + 1
        assert m["class"] in ("applicant", "intermediary", "free", "shared") and m["name"], m
        assert m["internally_shared"] in BOOLEANS, m
        assert all((m["item_code"], s) in situations for s in _list(m["situations"])), m
        if m["licence_type"]:
            topics = _list(m["topic_fields"]) or ["holder_uscc", "project_code"]
            assert set(topics) <= fields[m["licence_type"]], m
    assert len({m["code"] for m in sheets["materials"]}) == len(sheets["materials"])
    assert set(count) == set(items) and min(count.values()) >= 2


def test_a_form_field_means_the_same_in_every_item_and_prefills_from_what_exists(
    sheets: dict[str, list[dict[str, str]]], items: dict[str, dict[str, str]]
) -> None:
    topic = {f["licence_type"]: set(IMPLIED_TOPICS) for f in sheets["licence_fields"]}
    for f in sheets["licence_fields"]:
        topic[f["licence_type"]].add(f["name"])
    meaning: dict[str, tuple[str, str, str, str]] = {}
    for f in sheets["form_fields"]:
        assert f["item_code"] in items and f["type"] in ("string", "number", "integer", "date"), f
        assert meaning.setdefault(f["name"], (f["label"], f["type"], f["required"], f["prefill"])) == (
            f["label"],
            f["type"],
            f["required"],
            f["prefill"],
        ), f["name"]
        source, _, rest = f["prefill"].partition(".")
        if source == "project":
            assert rest in PROJECT_PREFILLS, f
        elif source == "licence":
            kind, _, field = rest.partition(".")
            assert field in topic[kind], f
        else:
            assert f["prefill"] == "", f


def test_licence_types_keep_todays_six_exactly_and_add_new_ones_used_by_items(
    sheets: dict[str, list[dict[str, str]]], items: dict[str, dict[str, str]]
) -> None:
    names = {t["code"]: t["name"] for t in sheets["licence_types"]}
    fields: dict[str, set[tuple[str, str, str]]] = {code: set() for code in names}
    for f in sheets["licence_fields"]:
        assert f["name"] not in IMPLIED_TOPICS and f["kind"] in ("name", "code", "area", "money", "date"), f
        fields[f["licence_type"]].add((f["name"], f["kind"], f["required"]))
    for code, (name, expected) in TODAY_LICENCES.items():
        assert (names[code], fields[code]) == (name, expected)
    new = set(names) - set(TODAY_LICENCES)
    issued = {i["licence_type"] for c, i in items.items() if c not in TODAY}
    assert new and new <= issued | {m["licence_type"] for m in sheets["materials"]}
    assert all(fields[code] for code in new)


def test_todays_13_items_keep_their_terms(items: dict[str, dict[str, str]]) -> None:
    for code, expected in TODAY.items():
        item = items[code]
        got = (
            int(item["stage"]),
            item["department"],
            int(item["legal_limit_days"]),
            int(item["promised_limit_days"]),
            item["prerequisites"],
            item["milestone"],
            item["licence_type"],
            item["commitment_days"],
        )
        assert got == expected, code
    assert {c for c, i in items.items() if i["rule_approval"]} == {"GJ-1-03", "GJ-3-03"}


def _seed(name: str) -> list[dict[str, str]]:
    with (DATA / "seed" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# what the file adds to today's items: their national code, citations and consulted departments
ADDED = {"national_code", "legal_basis", "consulted_departments", "limit_basis_assumed", "note"}


def test_todays_13_items_equal_the_seed_edition(sheets: dict[str, list[dict[str, str]]]) -> None:
    """The seed (data/seed/, today's catalogue as a file) and this file agree on every one of its items,
    with its situations, materials and form fields, and on stage limits and project targets."""
    items = {r["code"]: r for r in sheets["items"]}
    seed = _seed("items")
    assert len(seed) == 13
    for old in seed:
        new = items[old["code"]]
        assert {k: v for k, v in new.items() if k in old and k not in ADDED} == {
            k: v for k, v in old.items() if k not in ADDED
        }, old["code"]
        for sheet in ("situations", "materials", "form_fields"):
            mine = [r for r in sheets[sheet] if r["item_code"] == old["code"]]
            theirs = [r for r in _seed(sheet) if r["item_code"] == old["code"]]
            assert [{k: r[k] for k in theirs[0]} for r in mine] == theirs if theirs else not mine, (sheet, old["code"])
    for sheet in ("stages", "project_targets"):
        key = "limit_days" if sheet == "stages" else "target_days"
        first = "stage" if sheet == "stages" else "flow_type"
        assert [(r[first], r[key]) for r in sheets[sheet]] == [(r[first], r[key]) for r in _seed(sheet)]


def test_stage_limits_and_targets_cover_the_reference(sheets: dict[str, list[dict[str, str]]]) -> None:
    assert {int(s["stage"]) for s in sheets["stages"]} == {1, 2, 3, 4}
    assert all(1 <= int(s["limit_days"]) <= 50 for s in sheets["stages"])
    assert {int(t["flow_type"]) for t in sheets["project_targets"]} == set(REFERENCE.flow_types)
    assert all(1 <= int(t["target_days"]) <= 120 for t in sheets["project_targets"])


def test_flows_list_known_items_with_their_prerequisites(
    sheets: dict[str, list[dict[str, str]]], items: dict[str, dict[str, str]]
) -> None:
    flows = {(int(f["flow_type"]), f["region_code"]): _list(f["items"]) for f in sheets["flows"]}
    assert set(flows) == {(1, PROVINCE), (3, PROVINCE)}
    for key, codes in flows.items():
        assert set(TODAY) <= set(codes) <= set(items), key  # the demo's seed items stay receivable
        for code in codes:
            assert set(_list(items[code]["prerequisites"])) <= set(codes), (key, code)
    assert "GJ-1-04" not in flows[(1, PROVINCE)]  # 企业投资项目核准 is not a government-investment item
    assert "GJ-1-05" not in flows[(3, PROVINCE)]  # 政府投资项目建议书 is not a social-investment item

"""事项库 as data (domain/catalog/edition_rows.py): a catalogue file's tables, checked row by row; every
bad cell is reported at once with its sheet, row and column; a good file gives a normalised edition
whose departments are found up the region chain."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.catalog import SEED_CATALOG, Catalog
from domain.catalog.edition import CatalogueErrors
from domain.catalog.edition_rows import parse_edition
from domain.catalog.seed import flow_definition, licence_topic_fields, seed_definition
from domain.shared.codes import uscc_check_char

PROVINCE_ZJJ = "11460000MB0123456" + uscc_check_char("11460000MB0123456")  # check character computed by GB 32100
SANYA_ZJJ = "11460200MB0765432" + uscc_check_char("11460200MB0765432")


def tables() -> dict[str, list[dict[str, Any]]]:
    return {
        "edition": [{"key": "version", "value": "2027.01-1"}, {"key": "title", "value": "test"}],
        "regions": [
            {
                "code": "469901",
                "name": "洋浦经济开发区",
                "level": "park",
                "parent_code": "460400",
                "basis_assumed": "yes",
            }
        ],
        "departments": [
            {"code": "zjj", "region_code": "460000", "name": "海南省住房和城乡建设厅", "uscc": PROVINCE_ZJJ},
            {"code": "zjj", "region_code": "460200", "name": "三亚市住房和城乡建设局", "uscc": SANYA_ZJJ},
            {"code": "ghj", "region_code": "469901", "name": "洋浦经济开发区规划建设局", "uscc": ""},
        ],
        "licence_types": [{"code": "sea_permit", "name": "海域使用权证书", "basis": "海域使用管理法"}],
        "licence_fields": [
            {"licence_type": "sea_permit", "name": "sea_area", "label": "用海面积", "kind": "area", "required": "是"}
        ],
        "items": [
            {
                "code": "T-1",
                "national_code": "000123456000",
                "name": "立项",
                "stage": "1",
                "department": "zjj",
                "legal_limit_days": "10",
                "promised_limit_days": "5",
                "milestone": "yes",
            },
            {
                "code": "T-2",
                "name": "用海",
                "stage": "2",
                "department": "ghj",
                "legal_limit_days": "20",
                "promised_limit_days": "20",
                "prerequisites": "T-1",
                "milestone": "no",
                "licence_type": "sea_permit",
            },
        ],
        "situations": [{"item_code": "T-2", "code": "reclaim", "name": "填海"}],
        "materials": [
            {"item_code": "T-2", "code": "M1", "name": "申请书", "class": "applicant"},
            {
                "item_code": "T-2",
                "code": "M2",
                "name": "海域证",
                "class": "applicant",
                "licence_type": "sea_permit",
                "situations": "reclaim",
                "topic_fields": "holder_uscc;sea_area",
            },
        ],
        "form_fields": [{"item_code": "T-1", "name": "project_name", "label": "项目名称", "type": "string"}],
        "implementations": [
            {"item_code": "T-1", "region_code": "460200", "implementation_code": SANYA_ZJJ + "000123456000"}
        ],
        "stages": [{"stage": s, "limit_days": 15} for s in (1, 2, 3, 4)],
        "project_targets": [{"flow_type": t, "target_days": 100} for t in range(1, 11)],
    }


def errors_of(raw: dict[str, Any], last: str | None = None) -> list[tuple[str, int | None, str | None, str]]:
    with pytest.raises(CatalogueErrors) as caught:
        parse_edition(raw, last)
    return [(e.sheet, e.row, e.column, e.rule) for e in caught.value.errors]


def test_a_good_file_is_an_edition_whose_departments_are_found_up_the_region_chain() -> None:
    edition = parse_edition(tables(), "2026.12-1")
    assert edition["version"] == "2027.01-1"
    catalog = Catalog(edition)
    assert catalog.department_for("T-1", "460203").name == "三亚市住房和城乡建设局"  # a district of Sanya: its city's
    assert catalog.department_for("T-1", "460106").name == "海南省住房和城乡建设厅"  # Haikou has none: the province's
    assert catalog.department_for("T-2", "469901").name == "洋浦经济开发区规划建设局"  # the park's own
    assert catalog.department_for("T-2", "460200") is None  # no 规划建设局 above Sanya
    assert catalog.licence_types["sea_permit"] == ("海域使用权证书", (("sea_area", "用海面积", "area", True),))
    material = catalog.raw_items["T-2"]["materials"][1]
    assert material["licence"] == {"type": "sea_permit", "topic_fields": ["holder_uscc", "sea_area"]}


def test_every_bad_cell_is_reported_at_once_with_its_sheet_row_and_column() -> None:
    raw = tables()
    raw["items"][0]["promised_limit_days"] = "11"  # legal is 10
    raw["items"][1]["prerequisites"] = "T-9"
    raw["items"].append(dict(raw["items"][0]))  # the same code again (row 4)
    raw["materials"][1]["licence_type"] = "boat_permit"
    raw["departments"][1]["uscc"] = SANYA_ZJJ[:17] + ("0" if SANYA_ZJJ[17] != "0" else "1")
    raw["stages"][0]["limit_days"] = 51
    assert sorted(errors_of(raw), key=str) == sorted(
        [
            ("items", 2, "promised_limit_days", "promised_over_legal"),
            ("items", 4, "code", "duplicate"),  # a duplicate row is not checked further
            ("items", 3, "prerequisites", "prerequisite_unknown"),
            ("materials", 3, "licence_type", "licence_type_unknown"),
            ("departments", 3, "uscc", "uscc_check_character"),
            ("stages", 2, "limit_days", "range"),
            # the implementation names Sanya's USCC, which is no longer Sanya's (refused above, so no USCC)
            ("implementations", 2, "region_code", "department_unavailable"),
        ],
        key=str,
    )


def test_the_rest_path_names_the_row_of_the_json_body() -> None:
    raw = tables()
    raw["items"][1]["legal_limit_days"] = "ten"
    with pytest.raises(CatalogueErrors) as caught:
        parse_edition(raw)
    assert [e.path for e in caught.value.errors] == ["tables.items[1].legal_limit_days"]


def test_a_prerequisite_cycle_is_named() -> None:
    raw = tables()
    raw["items"][0]["prerequisites"] = "T-2"
    with pytest.raises(CatalogueErrors) as caught:
        parse_edition(raw)
    [error] = caught.value.errors
    assert error.rule == "prerequisite_cycle" and "T-1" in error.message and "T-2" in error.message


def test_an_implementation_code_is_the_departments_uscc_then_the_national_code() -> None:
    raw = tables()
    raw["implementations"][0]["implementation_code"] = PROVINCE_ZJJ + "000123456000"  # the province's, not Sanya's
    assert errors_of(raw) == [("implementations", 2, "implementation_code", "implementation_code_format")]
    raw["implementations"][0]["implementation_code"] = SANYA_ZJJ + "000123456000" + "01"  # a suffix is allowed
    parse_edition(raw)


def test_a_government_body_uscc_starts_with_11() -> None:
    raw = tables()
    enterprise = "91460000MA5T0P3X6"
    raw["departments"][0]["uscc"] = enterprise + uscc_check_char(enterprise)
    assert ("departments", 2, "uscc", "uscc_government") in errors_of(raw)


def test_regions_a_park_needs_a_known_parent_and_a_reference_code_its_reference_name() -> None:
    raw = tables()
    raw["regions"] += [
        {"code": "469902", "name": "某园区", "level": "park", "parent_code": "469999"},
        {"code": "469903", "name": "某县", "level": "county", "parent_code": "460000"},
        {"code": "460200", "name": "三亚", "level": "prefecture", "parent_code": "460000"},
    ]
    assert errors_of(raw) == [
        ("regions", 3, "parent_code", "region_unknown"),
        ("regions", 4, "level", "region_unknown"),
        ("regions", 5, "name", "region_name"),
    ]


def test_references_to_situations_consulted_departments_and_topic_fields_must_resolve() -> None:
    raw = tables()
    raw["items"][0]["consulted_departments"] = "zjj;rfb"
    raw["items"][1]["applies_in_situations"] = "reclaim;dredge"
    raw["materials"][1]["topic_fields"] = "holder_uscc;ship_name"
    raw["licence_fields"].append({"licence_type": "sea_permit", "name": "project_code", "label": "x", "kind": "code"})
    assert sorted(errors_of(raw), key=str) == sorted(
        [
            ("items", 2, "consulted_departments", "department_unknown"),
            ("items", 3, "applies_in_situations", "situation_unknown"),
            ("materials", 3, "topic_fields", "topic_field_unknown"),
            ("licence_fields", 3, "name", "topic_field_implied"),
        ],
        key=str,
    )


def test_a_missing_sheet_or_column_and_an_old_version_are_reported() -> None:
    raw = tables()
    del raw["stages"]
    for row in raw["items"]:
        del row["stage"]
    assert errors_of(raw, "2027.01-1") == [
        ("items", None, "stage", "column_missing"),
        ("stages", None, None, "sheet_missing"),
    ]
    assert errors_of(tables(), "2027.01-1") == [("edition", 2, "value", "version_not_newer")]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 60), st.integers(1, 60)), min_size=1, max_size=8))
def test_exactly_the_rows_promising_more_than_the_law_allows_are_refused(limits: list[tuple[int, int]]) -> None:
    raw = tables()
    template = raw["items"][0]
    raw["items"] = [
        {**template, "code": f"P-{n}", "legal_limit_days": str(legal), "promised_limit_days": str(promised)}
        for n, (legal, promised) in enumerate(limits)
    ]
    raw["implementations"], raw["form_fields"], raw["situations"], raw["materials"] = [], [], [], []
    over = [n + 2 for n, (legal, promised) in enumerate(limits) if promised > legal]
    if not over:
        assert len(parse_edition(raw)["items"]) == len(limits)
        return
    assert errors_of(raw) == [("items", row, "promised_limit_days", "promised_over_legal") for row in over]


def test_the_packaged_seed_builds_the_seed_flows_and_a_new_edition_builds_its_own() -> None:
    assert SEED_CATALOG.version == "2026.12-1" and len(SEED_CATALOG.items) == 13
    seed = seed_definition(3)
    assert [i["code"] for i in seed["items"]] == list(SEED_CATALOG.items)
    edition = copy.deepcopy(SEED_CATALOG.edition)
    catalog = Catalog(parse_edition(tables()))
    flow = flow_definition(catalog, 3, ["T-1", "T-2"], "1.0", "460200")
    assert [(i["code"], i["department_name"]) for i in flow["items"]] == [
        ("T-1", "三亚市住房和城乡建设局"),
        ("T-2", "洋浦经济开发区规划建设局"),  # none in Sanya's chain: the function's first body is named
    ]
    assert set(licence_topic_fields(catalog)["sea_permit"]) >= {"sea_area", "holder_uscc", "project_code"}
    assert Catalog(edition).items == SEED_CATALOG.items


def test_the_spgl_stage_item_row_carries_the_national_code_when_the_edition_gives_one() -> None:
    from projections.spgl_exchange import flow_rows

    catalog = Catalog(parse_edition(tables()))
    rows = flow_rows("GJ-LC-03-460200", "460200", 3, flow_definition(catalog, 3, ["T-1", "T-2"], "1.0", "460200"), "k")
    codes = {r["SPSXBM"]: r["DYBZSPSXBM"] for table, r in rows if "DYBZSPSXBM" in r}
    assert codes == {"T-1": "000123456000", "T-2": "T-2"}  # T-2 has no national code: its unified code (its code)
    seed = {
        r["SPSXBM"]: r["DYBZSPSXBM"]
        for _t, r in flow_rows("GJ-LC-03", "460000", 3, seed_definition(3), "k")
        if "DYBZSPSXBM" in r
    }
    assert seed["GJ-1-01"] == "HN-TZ-0001"  # the seed keeps today's unified codes

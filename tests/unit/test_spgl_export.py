"""数据共享交换 (export side) in the domain, without I/O: red-line and permit rows carry only the
fields the reference names (plus GCDM), in the forms our import's checks accept."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.exchange import spgl
from domain.exchange.spgl_export import boundary_points, invalidated, permit_row, red_line_row

CODE = "2611-460100-04-01-123456"
LICENCE: dict[str, Any] = {
    "number": "地字第460100202600001号",
    "licence_type": "construction_land_planning_permit",
    "holder_name": "海南测试建设有限公司",
    "project_code": CODE,
    "region_code": "460108",
    "department": "460100-zrzy",
    "topic": {"land_area": "6521.5", "land_use": "商务金融用地", "project_name": "江东总部大厦"},
}


def test_boundary_points_are_each_exterior_ring_without_its_closing_point() -> None:
    square = [[110.0, 20.0], [110.1, 20.0], [110.1, 20.1], [110.0, 20.0]]
    hole = [[110.01, 20.01], [110.02, 20.01], [110.02, 20.02], [110.01, 20.01]]
    assert boundary_points({"type": "Polygon", "coordinates": [square, hole]}) == "110.0,20.0;110.1,20.0;110.1,20.1"
    two = {"type": "MultiPolygon", "coordinates": [[square], [[[111, 19], [111.1, 19], [111, 19.1], [111, 19]]]]}
    assert boundary_points(two) == "110.0,20.0;110.1,20.0;110.1,20.1|111,19;111.1,19;111,19.1"


def test_a_land_use_permit_row_takes_the_licence_and_land_supply_fields() -> None:
    made = permit_row("key-1", LICENCE, date(2026, 11, 2), {}, "allocation")
    assert made == (
        spgl.LAND_PERMIT,
        {"DFSJZJ": "key-1", "XZQHDM": "460108", "GCDM": f"{CODE}-001", "YDGHXKZBH": "地字第460100202600001号",
         "YDDW": "海南测试建设有限公司", "YDMJ": "6521.5", "TDYT": "商务金融用地", "TDHQFS": "划拨"},
    )  # fmt: skip


def test_a_construction_permit_cites_the_upstream_numbers_it_is_given() -> None:
    licence = {**LICENCE, "licence_type": "construction_permit", "number": "460100202604010101", "topic": {}}
    upstream = {"construction_land_planning_permit": "YD-1", "drawing_review_certificate": "SC-1"}
    table, row = permit_row("key-2", licence, date(2026, 11, 2), upstream, None) or ("", {})
    assert table == spgl.BUILD_PERMIT
    assert (row["YDGHXKZBH"], row["SCHGSBH"], row["FZRQ"], row["FZJG"]) == ("YD-1", "SC-1", "2026-11-02", "460100-zrzy")
    assert "GCGHXKZBH" not in row and "ZBTZSBH" not in row


@pytest.mark.parametrize("licence_type", ["site_selection_opinion", "drawing_review_certificate", "completion_filing"])
def test_licences_of_other_types_have_no_permit_row(licence_type: str) -> None:
    assert permit_row("k", {**LICENCE, "licence_type": licence_type}, date(2026, 11, 2), {}, None) is None


def test_exported_rows_pass_the_import_checks_and_an_invalidation_names_its_reason() -> None:
    known = spgl.Known(lambda _kind, _key: False)
    square = {"type": "Polygon", "coordinates": [[[110.0, 20.0], [110.1, 20.0], [110.1, 20.1], [110.0, 20.0]]]}
    table, row = red_line_row("pid", "460108", CODE, square)
    made = permit_row("key-1", LICENCE, date(2026, 11, 2), {}, "transfer")
    assert made is not None
    for t, r in ((table, row), made, (made[0], invalidated(made[1], "证照已撤销：规划条件调整"))):
        spgl.check_row(t, {"LSH": "1", "SJYXBS": "1", **r}, known)
    assert invalidated({"LSH": "5", "GXSJ": "x", "SJSCZT": "1", "A": "b"}, "r") == {
        "A": "b",
        "SJYXBS": "0",
        "SJWXYY": "r",
    }

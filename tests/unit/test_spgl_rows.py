"""数据共享交换 — the national tables as read from reference/spgl.md, every row check and each of the
uploaders' six rules, and the SpglRow aggregate's idempotency (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.exchange import spgl, spgl_export
from domain.exchange.spgl import Known, RowRejected, SpglRow, check_row, content_hash, normalise_row
from domain.shared.errors import InvalidValue
from domain.shared.events import Channel, Meta

GCDM = "2604-460106-04-01-100001-001"
OWNER = "91460000MA5T0P3X64"


def meta() -> Meta:
    return Meta("city", "integration", "460100-gongjian", Channel.IMPORT, f"req-{uuid4().hex[:8]}", datetime.now(UTC))


def everything_known() -> Known:
    return Known(lambda kind, key: True)


def nothing_known() -> Known:
    return Known(lambda kind, key: False)


def row(table: str, **fields: Any) -> dict[str, str]:
    base = {"LSH": "1", "DFSJZJ": "k1", "XZQHDM": "460106", "SJYXBS": "1"}
    samples: dict[str, dict[str, str]] = {
        spgl.FLOW: {"SPLCBM": "F", "SPLCMC": "流程", "SPLCBBH": "1.0", "SPLCLX": "3"},
        spgl.STAGE: {
            "SPLCBM": "F",
            "SPLCBBH": "1.0",
            "SPJDXH": "1",
            "SPJDMC": "立项",
            "DYBZSPJDXH": "1",
            "SPJDSX": "15",
        },
        spgl.PROJECT: {
            "XMDM": GCDM[:24],
            "GCDM": GCDM,
            "XMMC": "项目",
            "SPLCBM": "F",
            "SPLCBBH": "1.0",
            "JSDW": "公司",
            "JSDWDM": OWNER,
        },
        spgl.CASE: {
            "GCDM": GCDM,
            "SPSXBM": "S1",
            "SPSXBBH": "1.0",
            "SPLCBM": "F",
            "SPLCBBH": "1.0",
            "SPSXSLBM": "C1",
        },
        spgl.STATUS: {"GCDM": GCDM, "SPSXSLBM": "C1", "BLZT": "3", "BLSJ": "2026-04-01 10:00:00"},
        spgl.PARTY: {"XMDM": GCDM[:24], "GCDM": GCDM, "DWLX": "施工单位", "DWMC": "某公司", "DWTYSHXYDM": OWNER},
    }
    return {k: v for k, v in {**base, **samples.get(table, {}), **fields}.items() if v != ""}


def rejected(table: str, r: dict[str, str], known: Known | None = None) -> str:
    with pytest.raises(RowRejected) as bad:
        check_row(table, r, known or everything_known())
    return bad.value.rule


def test_the_seventeen_tables_come_from_the_reference_with_their_key_fields() -> None:
    tables = spgl.tables()
    assert len(tables) == 17 and set(tables) == set(spgl.ORDER)
    assert all(t.fields[: len(spgl.COMMON)] == spgl.COMMON for t in tables.values())
    assert {"BLZT", "SJLY", "SPSXSLBM"} <= set(tables[spgl.STATUS].fields)
    assert {"SPLCBM", "SPLCBBH", "SPLCLX", "NJCSJ", "JSDWDM"} <= set(tables[spgl.PROJECT].fields)
    assert "USCC" not in tables[spgl.PARTY].fields  # a description, not a field


def test_the_six_rules_are_the_references_wording() -> None:
    texts = spgl.rule_texts()
    assert sorted(texts) == ["R1", "R2", "R3", "R4", "R5", "R6"]
    assert texts["R4"].startswith("A stage's time limit is 1..50 working days")


def test_valid_sample_rows_pass() -> None:
    for table in (spgl.FLOW, spgl.STAGE, spgl.PROJECT, spgl.CASE, spgl.STATUS, spgl.PARTY):
        check_row(table, row(table), everything_known())


@pytest.mark.parametrize(
    ("table", "fields", "rule"),
    [
        (spgl.PROJECT, {"XMMC": ""}, "required"),
        (spgl.PROJECT, {"LSH": ""}, "required"),
        (spgl.PROJECT, {"SJYXBS": "2"}, "valid_flag"),
        (spgl.PROJECT, {"SJYXBS": "0"}, "valid_flag"),  # no reason SJWXYY
        (spgl.PROJECT, {"ZTZE": "很多"}, "format"),
        (spgl.STATUS, {"BLSJ": "昨天"}, "format"),
        (spgl.PROJECT, {"XZQHDM": "469003"}, "region"),
        (spgl.PROJECT, {"XMDM": "2604-460106-04-01"}, "project_code"),
        (spgl.CASE, {"GCDM": "not-a-code-at-all"}, "project_code"),
        (spgl.STATUS, {"BLZT": "16"}, "status"),
        (spgl.FLOW, {"SPLCLX": "11"}, "flow_type"),
        (spgl.STAGE, {"DYBZSPJDXH": "6"}, "standard_stage"),
        (spgl.STAGE, {"SPJDSX": "51"}, "R4"),
        (spgl.STAGE, {"SPJDSX": "0"}, "R4"),
        (spgl.STAGE, {"SPJDSX": ""}, "R4"),
        (spgl.PROJECT, {"JSDWDM": "91460000MA5T0P3X65"}, "R5"),
        (spgl.PROJECT, {"JSDW": ""}, "required"),
        (spgl.PARTY, {"DWMC": ""}, "required"),
        (spgl.STATUS, {"DWTYSHXYDM": OWNER}, "R5"),  # a USCC without the unit's name beside it
    ],
)
def test_each_check_names_its_rule(table: str, fields: dict[str, str], rule: str) -> None:
    assert rejected(table, row(table, **fields)) == rule


def test_the_old_division_code_is_refused_with_the_current_one() -> None:
    with pytest.raises(RowRejected) as bad:
        check_row(spgl.PROJECT, row(spgl.PROJECT, XZQHDM="469003"), everything_known())
    assert "460400" in bad.value.message


def test_the_parallel_stage_needs_no_limit() -> None:
    check_row(spgl.STAGE, row(spgl.STAGE, DYBZSPJDXH="5", SPJDSX=""), everything_known())


def test_rules_one_two_three_look_up_what_is_known() -> None:
    known = nothing_known()
    assert rejected(spgl.CASE, row(spgl.CASE), known) == "R1"
    known.add("stage_item", "F|1|S1|1")  # versions compare as decimals: 1.0 == 1
    assert rejected(spgl.CASE, row(spgl.CASE), known) == "R2"
    known.add("engineering", GCDM)
    check_row(spgl.CASE, row(spgl.CASE), known)
    assert rejected(spgl.STATUS, row(spgl.STATUS), known) == "R3"
    known.add("case", "C1")
    check_row(spgl.STATUS, row(spgl.STATUS), known)


def test_rule_six_a_district_flow_needs_a_flow_of_its_type_one_level_up() -> None:
    known = nothing_known()
    district = row(spgl.FLOW, XZQHDM="460106")
    assert rejected(spgl.FLOW, district, known) == "R6"
    known.add("flow_type_at", "460100|3")
    check_row(spgl.FLOW, district, known)
    # a county under the province maps to the province; the city's own flow needs nothing
    assert rejected(spgl.FLOW, row(spgl.FLOW, XZQHDM="469021"), known) == "R6"
    check_row(spgl.FLOW, row(spgl.FLOW, XZQHDM="460100"), nothing_known())


def test_field_names_must_be_the_standards_form() -> None:
    with pytest.raises(RowRejected) as bad:
        normalise_row({"xmdm": "a", "项目名称": "b"})
    assert bad.value.rule == "format"


@pytest.mark.parametrize("text", ["海口\x00项目", "海口\u202e项目", "海口\x1b项目", "海口\ufffe项目", "海口\ud800项目"])
def test_a_row_holding_a_forbidden_code_point_is_rejected_by_the_text_rule(text: str) -> None:
    with pytest.raises(RowRejected) as bad:
        normalise_row({**row(spgl.PROJECT), "XMMC": text})
    assert (bad.value.rule, bad.value.field) == ("text", "XMMC")
    assert normalise_row({**row(spgl.PROJECT), "XMMC": "海口项目\n二期"})["XMMC"] == "海口项目\n二期"


def test_a_row_is_taken_once_corrected_by_new_content_and_invalidated_by_flag_zero() -> None:
    first = row(spgl.PROJECT)
    r = SpglRow.import_row(meta(), spgl.PROJECT, first, "haikou")
    assert r.receive(meta(), dict(first), "haikou") is None
    assert r.receive(meta(), {**first, "LSH": "7", "GXSJ": "2026-10-01"}, "haikou") is None  # same content
    corrected = {**first, "LSH": "8", "XMMC": "项目（更正）"}
    assert r.receive(meta(), corrected, "haikou") == "corrected"
    invalid = {**corrected, "LSH": "9", "SJYXBS": "0", "SJWXYY": "重复上报"}
    assert r.receive(meta(), invalid, "haikou") == "invalidated" and not r.valid
    assert r.receive(meta(), invalid, "haikou") is None
    # the whole history again (a re-import of the same dump): nothing new
    for version in (first, corrected, invalid):
        assert r.receive(meta(), version, "haikou") is None
    events = r.collect_events()
    assert [type(e).__name__ for e in events] == ["Imported", "Corrected", "Invalidated"]
    assert all(e.channel == Channel.IMPORT for e in events)  # type: ignore[attr-defined]
    assert "SJSCZT" not in events[0].row  # type: ignore[attr-defined]


_values = st.text(alphabet="0123456789ABC海口-", min_size=1, max_size=8)


@given(
    st.dictionaries(st.sampled_from(["XMMC", "JSDW", "ZTZE", "SPLCBM", "GCFL"]), _values, min_size=1),
    _values,
    _values,
    st.sampled_from(["0", "1", "-1", "3"]),
)
def test_serial_update_time_and_upload_state_are_not_content(
    content: dict[str, str], lsh: str, gxsj: str, state: str
) -> None:
    a = {"DFSJZJ": "k", **content}
    b = dict(reversed(list({**a, "LSH": lsh, "GXSJ": gxsj, "SJSCZT": state}.items())))
    assert content_hash(spgl.PROJECT, a) == content_hash(spgl.PROJECT, b)
    assert content_hash(spgl.PROJECT, a) != content_hash(spgl.CASE, a)


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.booleans()), min_size=1, max_size=12))
def test_replaying_any_sequence_of_versions_writes_nothing(versions: list[tuple[str, bool]]) -> None:
    rows = []
    for n, (name, valid) in enumerate(versions, start=1):
        flag = {"SJYXBS": "1"} if valid else {"SJYXBS": "0", "SJWXYY": "作废"}
        rows.append(row(spgl.PROJECT, LSH=str(n), XMMC=name, **flag))
    first_valid = next((r for r in rows if r["SJYXBS"] == "1"), None)
    if first_valid is None:
        return
    start = rows.index(first_valid)
    aggregate = SpglRow.import_row(meta(), spgl.PROJECT, first_valid, "haikou")
    for r in rows[start + 1 :]:
        aggregate.receive(meta(), r, "haikou")
    written = len(aggregate.collect_events())
    for r in rows[start:]:
        assert aggregate.receive(meta(), r, "haikou") is None
    assert not aggregate.collect_events() and written >= 1


def test_upload_results_are_checked_entry_by_entry() -> None:
    ok = spgl_export.check_upload_results([{"table": spgl.FLOW, "LSH": 3, "SJSCZT": 1}])
    assert ok == [{"table": spgl.FLOW, "LSH": "3", "SJSCZT": "1", "SBYY": ""}]
    for entry, field in (
        ({"table": "SPGL_X", "LSH": 1, "SJSCZT": 1}, "results[0].table"),
        ({"table": spgl.FLOW, "LSH": "x", "SJSCZT": 1}, "results[0].LSH"),
        ({"table": spgl.FLOW, "LSH": 1, "SJSCZT": 0}, "results[0].SJSCZT"),
        ({"table": spgl.FLOW, "LSH": 1, "SJSCZT": 3}, "results[0].SBYY"),
    ):
        with pytest.raises(InvalidValue) as bad:
            spgl_export.check_upload_results([entry])
        assert bad.value.field == field

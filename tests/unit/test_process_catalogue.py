"""The process catalogue without I/O: the definition rules (R4, limits, prerequisites, cycles), the
Process aggregate's versions, the seed, guidance and smart-form merging, and the v1 → v2 upcast of
`Case.Received`."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.approvals import Case
from domain.catalog import CATALOG
from domain.catalog.definition import ITEM_KEYS, check_definition, find_cycle
from domain.catalog.forms import build_schema, form_items
from domain.catalog.guidance import guide
from domain.catalog.process import Process, find_item, flow_code, parent_flow_region, to_item
from domain.catalog.seed import licence_topic_fields, seed_definition
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import Channel, Meta
from infrastructure.log import GongjianApplication

TYPES = licence_topic_fields()
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def meta() -> Meta:
    return Meta("admin-1", "admin", "460000-admin", Channel.ONLINE, f"req-{uuid4().hex[:8]}", NOW)


def seed() -> dict[str, Any]:
    return copy.deepcopy(seed_definition(3))


def item_of(definition: dict[str, Any], code: str) -> dict[str, Any]:
    found = find_item(definition, code)
    assert found is not None
    return found


def refused(definition: dict[str, Any]) -> InvalidValue:
    with pytest.raises(InvalidValue) as exc:
        check_definition(definition, TYPES)
    return exc.value


def test_the_seed_is_a_valid_definition_that_matches_the_item_catalogue() -> None:
    definition = seed()
    assert check_definition(definition, TYPES) == definition
    for code, item in CATALOG.items.items():
        assert to_item(item_of(definition, code)) == item
    limits = {s["stage"]: s["limit_days"] for s in definition["stages"]}
    assert limits == {**CATALOG.stage_limits, 5: None}


@pytest.mark.parametrize("limit", [0, 51, 60])
def test_a_main_stage_limit_outside_1_to_50_working_days_breaks_r4(limit: int) -> None:
    definition = seed()
    definition["stages"][2]["limit_days"] = limit
    bad = refused(definition)
    assert (bad.field, bad.rule) == ("definition.stages.2.limit_days", "R4")


def test_the_parallel_stage_has_no_limit_of_its_own() -> None:
    definition = seed()
    definition["stages"][4]["limit_days"] = 90
    assert check_definition(definition, TYPES)["stages"][4]["limit_days"] is None


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        (lambda d: item_of(d, "GJ-2-01").update(promised_limit_days=30), "definition.items.3.promised_limit_days", "promised_over_legal"),
        (lambda d: item_of(d, "GJ-2-01").update(prerequisites=["GJ-9-99"]), "definition.items.3.prerequisites.0", "prerequisite_unknown"),
        (lambda d: d.update(stages=d["stages"][:4]), "definition.items.10.stage", "stage_unknown"),
        (lambda d: d["stages"][0].update(milestone_rule="most"), "definition.stages.0.milestone_rule", "enum"),
        (lambda d: item_of(d, "GJ-1-02")["materials"][3].update(situations=["flood"]), "definition.items.1.materials.3.situations.0", "situation_unknown"),
        (lambda d: item_of(d, "GJ-2-01")["materials"][1].update(licence={"type": "driving_licence"}), "definition.items.3.materials.1.licence.type", "licence_type_unknown"),
        (lambda d: item_of(d, "GJ-2-01")["materials"][1].update(**{"class": "borrowed"}), "definition.items.3.materials.1.class", "enum"),
        (lambda d: d.update(version="v2"), "definition.version", "version_format"),
    ],
)  # fmt: skip
def test_a_bad_definition_is_refused_naming_the_field_and_the_rule(change: Any, field: str, rule: str) -> None:
    definition = seed()
    change(definition)
    bad = refused(definition)
    assert (bad.field, bad.rule) == (field, rule)


def test_a_prerequisite_cycle_is_refused_and_named() -> None:
    definition = seed()
    item_of(definition, "GJ-1-02")["prerequisites"] = ["GJ-3-03"]
    bad = refused(definition)
    assert bad.rule == "prerequisite_cycle"
    assert "GJ-1-02 → GJ-3-03 → GJ-2-01 → GJ-1-03 → GJ-1-02" in bad.message


CODES = [f"GJ-1-{i:02d}" for i in range(1, 8)]


@given(st.dictionaries(st.sampled_from(CODES), st.lists(st.sampled_from(CODES), max_size=3, unique=True), min_size=1))
def test_no_accepted_definition_has_a_cycle(graph: dict[str, list[str]]) -> None:
    items = [
        {"code": c, "name": c, "stage": 1, "department": "zrzy", "legal_limit_days": 5, "promised_limit_days": 5,
         "prerequisites": [p for p in pres if p in graph]}
        for c, pres in graph.items()
    ]  # fmt: skip
    definition = {"name": "t", "version": "1", "stages": [{"stage": 1, "limit_days": 10}], "items": items}
    edges = {i["code"]: i["prerequisites"] for i in items}
    cycle = find_cycle(edges)
    if cycle is None:
        accepted = check_definition(definition, TYPES)
        order: dict[str, int] = {}  # accepted: a topological order exists (every prerequisite first)
        while len(order) < len(edges):
            ready = [c for c in edges if c not in order and all(p in order for p in edges[c])]
            assert ready, "an accepted definition must have no cycle"
            order.update({c: len(order) for c in ready})
        assert len(accepted["items"]) == len(items)
    else:
        assert cycle[0] == cycle[-1] and all(b in edges[a] for a, b in itertools.pairwise(cycle))
        assert refused(definition).rule == "prerequisite_cycle"


def test_unknown_item_keys_are_carried_under_extra() -> None:
    definition = seed()
    item_of(definition, "GJ-1-01")["review_note"] = {"by": "市政务服务中心"}
    checked = check_definition(definition, TYPES)
    assert item_of(checked, "GJ-1-01")["extra"]["review_note"] == {"by": "市政务服务中心"}


def test_a_bad_rule_approval_is_refused_at_publication_naming_the_item() -> None:
    definition = seed()
    item_of(definition, "GJ-1-01")["rule_approval"] = {"rules": ["R-x"]}
    with pytest.raises(InvalidValue) as exc:
        check_definition(definition, TYPES)
    assert exc.value.rule == "rule_approval_invalid"
    assert exc.value.field.endswith(".rule_approval")


def test_rule_approval_comes_from_the_pinned_version_not_the_seed() -> None:
    with_rules = check_definition(seed(), TYPES)
    assert to_item(item_of(with_rules, "GJ-3-03")).rule_approval is not None
    dropped = seed()
    item_of(dropped, "GJ-3-03").get("extra", {}).pop("rule_approval", None)
    item_of(dropped, "GJ-3-03").pop("rule_approval", None)
    assert to_item(item_of(check_definition(dropped, TYPES), "GJ-3-03")).rule_approval is None


def test_a_process_keeps_every_version_and_only_takes_newer_ones() -> None:
    process = Process.publish(meta(), region_code="460100", flow_type=3, definition=seed())
    assert process.code == flow_code(3, "460100") == "GJ-LC-03-460100"
    newer = {**seed(), "version": "1.5"}
    process.publish_version(meta(), newer)
    assert str(process.latest_version) == "1.5" and process.definition_at("1.0") == seed()
    with pytest.raises(InvalidValue) as exc:
        process.publish_version(meta(), {**seed(), "version": "1.2"})
    assert exc.value.rule == "version_not_newer"
    process.retire(meta(), "并入省级流程")
    with pytest.raises(IllegalTransition):
        process.publish_version(meta(), {**seed(), "version": "3"})


def test_county_level_flows_map_one_level_up() -> None:
    assert parent_flow_region("460106") == "460100"  # district → prefecture
    assert parent_flow_region("469002") == "460000"  # county-level city → province
    assert parent_flow_region("460100") is None and parent_flow_region("460000") is None


def test_guidance_lists_situation_items_and_materials_and_marks_licences_and_shared_ones() -> None:
    definition = seed()
    plain = guide(definition, set(), set(), lambda spec: None)
    fire = guide(
        definition,
        {"special_fire"},
        set(),
        lambda spec: "L-1" if spec["type"] == "engineering_planning_permit" else None,
    )
    codes = lambda g: [i["code"] for s in g["stages"] for i in s["items"]]  # noqa: E731
    assert set(codes(fire)) - set(codes(plain)) == {"GJ-3-02", "GJ-4-02"}
    assert fire["materials_saved"] > plain["materials_saved"]
    by_item = {i["code"]: i for s in fire["stages"] for i in s["items"]}
    permit = next(m for m in by_item["GJ-3-03"]["materials"] if m["code"] == "M-3-03-02")
    assert (permit["needed"], permit["reason"], permit["licence_number"]) == (False, "licence", "L-1")


def test_a_smart_form_asks_a_shared_field_once_required_if_any_item_requires_it() -> None:
    definition = seed()
    items = form_items(definition, ["GJ-5-01", "GJ-5-02", "GJ-5-03"])
    schema = build_schema(items, {"project.name": "江东总部大厦"})
    assert len(schema["properties"]) == 9 and schema["required"].count("contact_phone") == 1
    assert schema["properties"]["project_name"]["default"] == "江东总部大厦"
    with pytest.raises(InvalidValue) as exc:
        form_items(definition, ["GJ-5-01", "GJ-9-99"])
    assert (exc.value.field, exc.value.rule) == ("item_codes.1", "R1")


def test_a_v1_received_event_loads_with_no_pinned_versions() -> None:
    app = GongjianApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    case = Case.receive(
        meta(), case_id=uuid4(), project_id=uuid4(), project_code="2603-460100-04-01-123456", region_code="460106",
        applicant_org="91460000MA5T0P3X64", item=CATALOG.item("GJ-1-02"), situation_codes=[], materials=[],
        parallel_application_id=None, acceptance_mode=4, pinned=("GJ-LC-03", "1.0", "1.0"),
    )  # fmt: skip
    stored = app.mapper.to_stored_event(case.collect_events()[0])
    state = json.loads(stored.state)
    for name in ("flow_code", "flow_version", "item_version", "class_version"):
        state.pop(name, None)
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
    loaded = app.mapper.to_domain_event(old)
    assert (
        isinstance(loaded, Case.Received)
        and (loaded.flow_code, loaded.flow_version, loaded.item_version) == (None,) * 3
    )
    replayed = loaded.mutate(None)
    assert isinstance(replayed, Case) and replayed.pinned == (None, None, None) and replayed.item_code == "GJ-1-02"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 60) | st.sampled_from(["", "1.0", "GJ-1-01", "all", "applicant"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from([*sorted(ITEM_KEYS), "stages", "items", "version", "name", "class", "licence", "type"]),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


ITEM = st.fixed_dictionaries(
    {"code": st.sampled_from(["GJ-1-01", "GJ-1-02"]), "name": st.just("x"), "stage": st.just(1), "department": st.just("zrzy"),
     "legal_limit_days": st.just(5), "promised_limit_days": st.just(5)},
    optional=dict.fromkeys(("situations", "materials", "form_fields", "prerequisites", "applies_in_situations", "extra", "version"), JSON),
)  # fmt: skip
SHELL = {"name": st.just("t"), "version": st.just("1")}
DEFINITION = st.fixed_dictionaries(
    {**SHELL, "stages": st.just([{"stage": 1, "limit_days": 10}]), "items": st.lists(ITEM, max_size=2)}
)


@given(st.one_of(JSON, DEFINITION, st.fixed_dictionaries({**SHELL, "stages": JSON, "items": JSON})))
def test_any_json_is_either_a_definition_or_an_invalid_value_never_a_crash(raw: Any) -> None:
    try:
        check_definition(raw, TYPES)
    except InvalidValue as exc:
        assert exc.field.startswith("definition") and exc.rule

"""The process catalogue as events, on SQLite and PostgreSQL: publishing flow versions under the
uploaders' rules, cases pinned to the version they were received under, guidance (智能引导) with
licence matching, and smart forms (智能表单)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.cases import AcceptCase, SubmitCase
from application.commands.catalogue import PublishFlow, RetireFlow
from application.commands.forms import SubmitForm
from application.commands.licences import IssueLicence, RevokeLicence
from application.commands.projects import GenerateProject
from application.commands.seals import RegisterSeal
from application.policy import Actor
from domain.approvals import Case
from domain.catalog.process import Process, flow_code, process_id
from domain.catalog.seed import seed_definition
from domain.shared.errors import Forbidden, InvalidValue, PrerequisitesMissing
from domain.shared.events import Channel
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET

OWNER = "91460000MA5T0P3X64"
ADMIN = Actor("admin-1", "admin", "460000-admin", "460000")
CLERK = Actor("clerk-1", "window_clerk", "460100-zwfw", "460100")
APPLICANT = Actor("applicant-1", "applicant", OWNER, "460100")
APPROVER = Actor("zhang", "approver", "460100-zrzy", "460100")
START = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def container(store_url: str, tmp_path: Path) -> Iterator[Container]:
    settings = Settings(database_url=store_url, jwt_secret=JWT_SECRET, keystore_path=str(tmp_path / "keys"))
    c = bootstrap(settings, clock=SimulatedClock(START))
    try:
        yield c
    finally:
        c.close()


def project_fields(code: str) -> dict[str, Any]:
    """The keyword arguments of `ProjectService.generate` for a plain project with this code."""
    return {
        "code": code,
        "name": "江东总部大厦",
        "owner_name": "海南测试建设有限公司",
        "owner_uscc": OWNER,
        "region_code": "460108",
        "flow_type": 3,
        "investment_type": "enterprise",
        "category": "房屋建筑",
        "total_investment": Decimal("52000"),
        "planned_start": date(2026, 6, 1),
        "planned_end": date(2028, 6, 1),
        "red_line": None,
    }


def generate(c: Container, **changes: Any) -> str:
    code = f"2611-460100-04-01-{uuid.uuid4().int % 10**6:06d}"
    c.projects.generate(Invocation(CLERK, f"req-{code}"), GenerateProject(**{**project_fields(code), **changes}))
    return code


def receive(c: Container, project: str, item: str, **extra: Any) -> uuid.UUID:
    fields = {"situation_codes": [], "materials": [], "parallel_application_id": None, "acceptance_mode": 1}
    result = c.cases.submit(
        Invocation(CLERK, "req"), SubmitCase(project_code=project, item_code=item, **{**fields, **extra})
    )
    return result.id


def version_2(flow_type: int = 3) -> dict[str, Any]:
    """The seed with GJ-1-02 promised in 3 days (item version 1.1) and one more material."""
    definition = copy.deepcopy(seed_definition(flow_type))
    definition["version"] = "2.0"
    item = next(i for i in definition["items"] if i["code"] == "GJ-1-02")
    item.update(version="1.1", promised_limit_days=3)
    item["materials"].append({"code": "M-1-02-09", "name": "压覆矿产评估报告", "class": "intermediary"})
    return definition


def refused(call: Any) -> InvalidValue:
    with pytest.raises(InvalidValue) as exc:
        call()
    return exc.value


# --- publishing ------------------------------------------------------------------------


def test_a_new_province_version_records_the_seed_first_and_keeps_both_versions(container: Container) -> None:
    c = container
    result = c.catalogue.publish(Invocation(ADMIN, "r1"), PublishFlow("460000", 3, version_2()))
    assert (result.code, result.version) == ("GJ-LC-03", "2.0")
    process = c.app.repository.get(process_id("GJ-LC-03"))
    assert isinstance(process, Process) and sorted(process.versions) == ["1.0", "2.0"]
    assert process.definition_at("1.0") == seed_definition(3)
    events = list(c.app.events.get(process.id))
    assert [type(e).__qualname__ for e in events] == ["Process.Published", "Process.VersionPublished"]
    assert (events[0].channel, events[0].actor_id) == (Channel.IMPORT, "system:catalogue-seed")  # type: ignore[attr-defined]
    assert (events[1].channel, events[1].actor_id) == (Channel.ONLINE, "admin-1")  # type: ignore[attr-defined]
    # Step: the same version again is refused; only admin may publish.
    assert (
        refused(lambda: c.catalogue.publish(Invocation(ADMIN, "r2"), PublishFlow("460000", 3, version_2()))).rule
        == "version_not_newer"
    )
    with pytest.raises(Forbidden):
        c.catalogue.publish(Invocation(CLERK, "r3"), PublishFlow("460000", 3, version_2()))


def test_bad_catalogue_changes_are_refused_naming_the_rule(container: Container) -> None:
    c = container
    publish = c.catalogue.publish
    long_stage = version_2()
    long_stage["stages"][1]["limit_days"] = 60
    bad = refused(lambda: publish(Invocation(ADMIN, "r"), PublishFlow("460000", 3, long_stage)))
    assert (bad.field, bad.rule) == ("definition.stages.1.limit_days", "R4")
    # Step: a district flow without its city's flow of the same type (R6).
    bad = refused(lambda: publish(Invocation(ADMIN, "r"), PublishFlow("460106", 3, version_2())))
    assert (bad.field, bad.rule) == ("region_code", "R6")
    # Step: a prerequisite cycle is named.
    cyclic = version_2()
    next(i for i in cyclic["items"] if i["code"] == "GJ-1-02")["prerequisites"] = ["GJ-1-03"]
    bad = refused(lambda: publish(Invocation(ADMIN, "r"), PublishFlow("460000", 3, cyclic)))
    assert bad.rule == "prerequisite_cycle" and "GJ-1-02 → GJ-1-03 → GJ-1-02" in bad.message
    assert c.catalogue.pins.process("GJ-LC-03") is None  # nothing was recorded


def test_a_district_flow_maps_to_its_city_flow_and_then_applies_to_its_projects(container: Container) -> None:
    c = container
    city = version_2()
    c.catalogue.publish(Invocation(ADMIN, "r1"), PublishFlow("460100", 3, {**city, "version": "1.0"}))
    c.catalogue.publish(Invocation(ADMIN, "r2"), PublishFlow("460108", 3, {**city, "version": "1.0"}))
    project = generate(c)  # in 美兰区 460108
    case = c.cases.get(receive(c, project, "GJ-1-02"))
    assert case.pinned == (flow_code(3, "460108"), "1.0", "1.1")
    # Step: a county-level city maps to the province's (seed) flow: allowed without more.
    c.catalogue.publish(Invocation(ADMIN, "r3"), PublishFlow("469002", 3, {**city, "version": "1.0"}))


# --- pinning ---------------------------------------------------------------------------


def test_a_case_received_under_version_1_keeps_its_rules_after_version_2_is_published(container: Container) -> None:
    c = container
    project = generate(c)
    old = receive(c, project, "GJ-1-02")
    assert c.cases.get(old).pinned == ("GJ-LC-03", "1.0", "1.0")
    # Step: version 2 promises GJ-1-02 in 3 working days instead of 5.
    c.catalogue.publish(Invocation(ADMIN, "r"), PublishFlow("460000", 3, version_2()))
    new = receive(c, project, "GJ-1-02")
    assert c.cases.get(new).pinned == ("GJ-LC-03", "2.0", "1.1")
    for case_id in (old, new):
        c.cases.act(Invocation(CLERK, "r"), AcceptCase(case_id))
    assert c.cases.get(old).limit_days == 5 and c.cases.get(new).limit_days == 3
    accepted = [e for e in c.app.events.get(old) if isinstance(e, Case.Accepted)]
    assert accepted[0].promised_limit_days == 5 and accepted[0].legal_limit_days == 20
    # Step: the materials of the old version are read back for the old case.
    pins = c.catalogue.pins
    materials = {
        m["code"]
        for i in pins.version("GJ-LC-03", "1.0").definition["items"]
        if i["code"] == "GJ-1-02"
        for m in i["materials"]
    }
    assert "M-1-02-09" not in materials


def test_a_case_for_an_item_version_not_in_its_flow_is_refused(container: Container) -> None:
    c = container
    project = generate(c)
    bad = refused(lambda: receive(c, project, "GJ-1-02", item_version="1.1"))
    assert (bad.field, bad.rule) == ("item_version", "R1")
    bad = refused(lambda: receive(c, project, "GJ-1-02", situation_codes=["special_fire"]))
    assert (bad.field, bad.rule) == ("situation_codes.0", "situation_unknown")
    receive(c, project, "GJ-1-02", item_version="1.0", situation_codes=["farmland"])


# --- guidance and forms ------------------------------------------------------------------


def issue_licence(c: Container, project: str, licence_type: str, item: str, topic: dict[str, str], days: int) -> str:
    now = c.clock.now()
    seal = c.seals.register(
        Invocation(ADMIN, "seal"),
        RegisterSeal(
            holder_org="460100-zrzy",
            name="海口市自然资源和规划局行政审批专用章",
            purpose="licence",
            algorithm="sm2-sm3",
            valid_from=now - timedelta(days=1),
            valid_until=now + timedelta(days=400),
            signers=["zhang"],
        ),
    )
    number = f"L{uuid.uuid4().hex[:10]}"
    today = now.date()
    c.licences.issue(
        Invocation(APPROVER, "lic"),
        IssueLicence(
            number=number,
            licence_type=licence_type,
            holder_name="海南测试建设有限公司",
            holder_uscc=OWNER,
            project_code=project,
            item_code=item,
            region_code="460108",
            valid_from=today,
            valid_until=today + timedelta(days=days),
            topic=topic,
            seal_id=seal.id,
        ),
    )
    return number


def material(guidance: dict[str, Any], item: str, code: str) -> dict[str, Any]:
    items = {i["code"]: i for s in guidance["stages"] for i in s["items"]}
    return next(m for m in items[item]["materials"] if m["code"] == code)


def test_two_situations_change_the_items_and_materials_of_the_guidance(container: Container) -> None:
    c = container
    project = generate(c)
    plain = c.guidance.guidance(APPLICANT, project, [])
    both = c.guidance.guidance(APPLICANT, project, ["special_fire", "farmland"])
    items = lambda g: [i["code"] for s in g["stages"] for i in s["items"]]  # noqa: E731
    assert "GJ-3-02" not in items(plain) and {"GJ-3-02", "GJ-4-02"} <= set(items(both))
    assert both["materials_total"] > plain["materials_total"]
    assert "M-1-02-04" in {m["code"] for s in both["stages"] for i in s["items"] for m in i["materials"]}
    assert items(plain)[:3] == ["GJ-1-01", "GJ-1-02", "GJ-1-03"]  # prerequisites first
    # Step: internally shared materials are never asked.
    shared = material(plain, "GJ-1-01", "M-1-01-02")
    assert (shared["needed"], shared["reason"]) == (False, "internally_shared")
    assert plain["materials_saved"] == plain["materials_total"] - plain["materials_needed"] >= 1
    assert refused(lambda: c.guidance.guidance(APPLICANT, project, ["nope"])).rule == "situation_unknown"
    with pytest.raises(Forbidden):
        c.guidance.guidance(Actor("x", "applicant", "91460100MA5T0P3X6X", "460100"), project, [])


def test_a_licence_covers_a_material_while_valid_and_not_after_it_expires_or_is_revoked(container: Container) -> None:
    c = container
    project = generate(c)
    # Step: a valid construction-land planning permit of this project and owner.
    topic = {"project_name": "江东总部大厦", "land_area": "5000", "land_use": "商业用地"}
    number = issue_licence(c, project, "construction_land_planning_permit", "GJ-1-03", topic, days=30)
    covered = material(c.guidance.guidance(APPLICANT, project, []), "GJ-2-01", "M-2-01-02")
    assert (covered["needed"], covered["reason"], covered["licence_number"]) == (False, "licence", number)
    # Step: another project's licence does not count (holder and project code must both match).
    other = generate(c)
    assert material(c.guidance.guidance(APPLICANT, other, []), "GJ-2-01", "M-2-01-02")["needed"] is True
    # Step: 31 days later it has expired: needed again.
    assert isinstance(c.clock, SimulatedClock)
    c.clock.advance(days=31)
    assert material(c.guidance.guidance(APPLICANT, project, []), "GJ-2-01", "M-2-01-02")["needed"] is True
    # Step: a fresh one covers it; revoked, it no longer does.
    number = issue_licence(c, project, "construction_land_planning_permit", "GJ-1-03", topic, days=365)
    assert material(c.guidance.guidance(APPLICANT, project, []), "GJ-2-01", "M-2-01-02")["needed"] is False
    c.licences.revoke(Invocation(APPROVER, "rev"), RevokeLicence(number, "错误签发"))
    assert material(c.guidance.guidance(APPLICANT, project, []), "GJ-2-01", "M-2-01-02")["needed"] is True


def test_a_form_for_three_items_asks_a_shared_field_once_and_gives_three_cases_one_parallel_id(
    container: Container,
) -> None:
    c = container
    project = generate(c)
    utilities = ["GJ-5-01", "GJ-5-02", "GJ-5-03"]
    form = c.forms.form(APPLICANT, project, utilities)
    schema = form["schema"]
    assert list(schema["properties"]).count("contact_phone") == 1
    assert schema["properties"]["contact_phone"]["x-items"] == utilities
    assert schema["properties"]["project_name"]["default"] == "江东总部大厦"  # prefilled from the project
    assert form["fields_saved"] == 3 * 7 - len(schema["properties"])
    values = {
        "project_name": "江东总部大厦", "owner_name": "海南测试建设有限公司", "owner_uscc": OWNER, "location": "海口市美兰区",
        "contact_person": "王工", "contact_phone": "0898-66660000", "water_demand": 120, "power_capacity": 2500,
        "gas_demand": 40,
    }  # fmt: skip
    bad = refused(
        lambda: c.forms.submit(
            Invocation(APPLICANT, "f"),
            SubmitForm(
                project_code=project,
                item_codes=utilities,
                values={**values, "water_demand": "lots"},
                situation_codes=[],
                acceptance_mode=4,
            ),
        )
    )
    assert (bad.field, bad.rule) == ("values.water_demand", "form_type")
    missing = {k: v for k, v in values.items() if k != "contact_person"}
    bad = refused(
        lambda: c.forms.submit(
            Invocation(APPLICANT, "f"),
            SubmitForm(
                project_code=project, item_codes=utilities, values=missing, situation_codes=[], acceptance_mode=4
            ),
        )
    )
    assert (bad.field, bad.rule) == ("values.contact_person", "form_required")
    result = c.forms.submit(
        Invocation(APPLICANT, "f"),
        SubmitForm(project_code=project, item_codes=utilities, values=values, situation_codes=[], acceptance_mode=4),
    )
    cases = [c.cases.get(uuid.UUID(x["id"])) for x in result.cases]
    assert [x.item_code for x in cases] == utilities
    received = [next(iter(c.app.events.get(x.id))) for x in cases]
    assert {e.parallel_application_id for e in received} == {result.parallel_application_id}  # type: ignore[attr-defined]
    assert received[0].materials[0]["values"]["water_demand"] == 120  # type: ignore[attr-defined]
    assert "gas_demand" not in received[0].materials[0]["values"]  # type: ignore[attr-defined]
    assert all(x.pinned == ("GJ-LC-03", "1.0", "1.0") for x in cases)


def test_a_form_keeps_the_prerequisite_and_stage_rules(container: Container) -> None:
    c = container
    project = generate(c)
    with pytest.raises(PrerequisitesMissing):
        c.forms.submit(Invocation(APPLICANT, "f"), SubmitForm(project_code=project, item_codes=["GJ-3-01"], values={
            "project_name": "x", "owner_name": "y", "building_area": 1, "design_org": "z"}, situation_codes=[], acceptance_mode=4))  # fmt: skip
    assert refused(lambda: c.forms.form(APPLICANT, project, ["GJ-1-02", "GJ-2-01"])).rule == "form_stages"


def test_the_catalogue_read_model_answers_every_version_and_rebuilds_to_the_same_rows(container: Container) -> None:
    c = container
    c.catalogue.seed()
    c.catalogue.publish(Invocation(ADMIN, "r1"), PublishFlow("460000", 3, version_2()))
    c.catalogue.publish(Invocation(ADMIN, "r2"), PublishFlow("460100", 3, {**version_2(), "version": "1.0"}))
    c.catalogue.retire(Invocation(ADMIN, "r3"), RetireFlow(flow_code(3, "460100"), "并入省级流程"))
    c.engine.catch_up(["process_catalogue"])
    model = c.engine.models["process_catalogue"]
    rows = lambda: [c.db.query(f"SELECT * FROM {t} ORDER BY 1, 2") for t in model.tables]  # noqa: E731
    before = rows()
    assert model.flow("GJ-LC-03", "1.0")["definition"] == seed_definition(3)  # type: ignore[attr-defined]
    assert model.flow("GJ-LC-03")["version"] == "2.0"  # type: ignore[attr-defined]
    flows = {f["code"]: f for f in model.flows(flow_type=3)}  # type: ignore[attr-defined]
    assert flows["GJ-LC-03-460100"]["retired"] == 1 and model.versions("GJ-LC-03") == ["1.0", "2.0"]  # type: ignore[attr-defined]
    c.engine.rebuild("process_catalogue")
    assert rows() == before
    # Step: with its city flow retired, a Haikou project applies under the province's again.
    assert c.catalogue.pins.current("460108", 3).code == "GJ-LC-03"


def test_a_form_is_prefilled_from_the_projects_valid_licence(container: Container) -> None:
    c = container
    project = generate(c)
    topic = {"project_name": "江东总部大厦", "building_area": "12500.5"}
    issue_licence(c, project, "engineering_planning_permit", "GJ-2-01", topic, days=30)
    schema = c.forms.form(APPLICANT, project, ["GJ-3-01"])["schema"]
    assert schema["properties"]["building_area"]["default"] == 12500.5
    assert schema["properties"]["building_area"]["x-prefill"] == "licence.engineering_planning_permit.building_area"
    other = c.forms.form(APPLICANT, generate(c), ["GJ-3-01"])["schema"]
    assert "default" not in other["properties"]["building_area"]

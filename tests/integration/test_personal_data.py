"""Analysts read aggregates without personal data (issue 10): walked over the whole schema.

Two walks: the schema's types (every field named like actor/org/holder/owner data is withheld or
justified, and nullable so withholding cannot null a parent), and every root query field run as an
analyst with every leaf selected, on a case with real officials and a real applicant — no actor id,
official's organisation, owner name or USCC anywhere in the answer, while a supervisor sees them.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLType,
    Undefined,
    get_named_type,
    is_leaf_type,
)

from application.bootstrap import Container, bootstrap
from application.policy import Actor
from infrastructure.settings import Settings
from interfaces.graphql.context import Context
from interfaces.graphql.personal import WITHHELD, Withheld
from interfaces.graphql.schema import schema
from tests.conftest import JWT_SECRET
from tests.integration.test_graphql_read_side import OWNER, approved_case

ANALYST = Actor("ana-1", "analyst", "hn-stat", "460000")
SUPERVISOR = Actor("sup-1", "supervisor", "hn-sup", "460000")
ADMIN = Actor("adm-1", "admin", "ops", "460000")
GRAPHQL = schema._schema
NAMES = schema.config.name_converter

# field names that suggest a person or a private party
SUSPECT = re.compile(
    r"actor|clerk|applicant|holder|owner|uscc|opened_?by|signer|signature|target|bidder|^org$|^detail$|^data$|topic",
    re.I,
)
# suspect-looking fields that carry no personal data, and why
JUSTIFIED = {
    "Transition.actorRole": "a function (window_clerk, approver …), not a person",
    "AuditEntry.actorRole": "a function, not a person",
    "InquiryStep.actorRole": "a function, not a person",
    "FeedbackStep.actorRole": "a function, not a person",
    "ReportWindow.org": "the window (a public office) of the monthly report's window assessment, as WindowAssessmentRow",
    "Project.owner": "an object whose name and uscc are withheld",
    "DuplicateSignals.sameOwner": "a boolean of the duplicate score, naming no one",
    "WindowAssessmentRow.org": "the window (a public office) the aggregate is grouped by; per-clerk grouping is refused",
    "Delivery.topic": "the message topic (case.approved …), not a person",
    "FlowMaterial.licenceTopicFields": "the names of a licence type's topic fields (catalogue), no values",
    "ServiceOrderNode.agencyUscc": "a registered intermediary agency (中介超市), a public business registration",
    "Checkpoint.signature": "the ledger's system key signs, not a person",
    "Checkpoint.signer": "the ledger's system key, not a person",
    "StoredEvent.topic": "the stored event's type (module:Aggregate.Event), not a person",
}


def _fields() -> list[tuple[str, Any, Any]]:
    """(Type.field, strawberry field, GraphQL field) for every output object type of the schema."""
    out = []
    for name, gql_type in GRAPHQL.type_map.items():
        definition = (
            gql_type.extensions.get("strawberry-definition") if isinstance(gql_type, GraphQLObjectType) else None
        )
        if definition is None or name in ("Query", "Subscription"):
            continue
        for field in definition.fields:
            graphql_name = NAMES.get_graphql_name(field)
            out.append((f"{name}.{graphql_name}", field, gql_type.fields[graphql_name]))
    return out


def test_every_personal_looking_field_is_withheld_or_justified() -> None:
    unguarded = [
        key
        for key, field, _ in _fields()
        if SUSPECT.search(key.split(".")[1])
        and not any(isinstance(e, Withheld) for e in field.extensions)
        and key not in JUSTIFIED
    ]
    assert unguarded == [], "declare these with personal() (interfaces/graphql/personal.py) or justify them"


def test_every_withheld_field_is_nullable_so_withholding_never_nulls_its_parent() -> None:
    withheld = [(k, g) for k, f, g in _fields() if any(isinstance(e, Withheld) for e in f.extensions)]
    assert len(withheld) >= 15
    assert [k for k, g in withheld if isinstance(g.type, GraphQLNonNull)] == []


# --- every root field, every leaf ----------------------------------------------------------------


def _selection(gql_type: GraphQLType, depth: int) -> str:
    named = get_named_type(gql_type)
    if is_leaf_type(named):
        return ""
    if depth == 0:
        return "{ __typename }"
    assert isinstance(named, GraphQLObjectType)
    parts = []
    for name, field in named.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined for a in field.args.values()):
            continue  # e.g. Ledger.inclusionProof(position): not personal, needs a value
        parts.append(
            name + (" " + _selection(field.type, depth - 1) if not is_leaf_type(get_named_type(field.type)) else "")
        )
    return "{ " + " ".join(parts) + " }"


def _root_calls(code: str, case_id: str) -> list[str]:
    """One call per root field (per enum value of a required enum); a new root field must be added."""
    values = {"code": f'"{code}"', "id": f'"{case_id}"', "projectCode": f'"{code}"', "subject": f'"{code}"'}
    values |= {"month": '"2026-01"', "number": '"no-such-licence"', "caseId": f'"{case_id}"', "year": "2026"}
    calls = []
    for name, field in GRAPHQL.query_type.fields.items():  # type: ignore[union-attr]
        args: list[list[str]] = [[]]
        for arg_name, arg in field.args.items():
            if arg_name == "first":
                args = [[*a, "first: 5"] for a in args]
            elif isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined:
                inner = arg.type.of_type
                if isinstance(inner, GraphQLEnumType):
                    args = [[*a, f"{arg_name}: {v}"] for a in args for v in inner.values]
                elif name == "parcel":
                    args = [[*a, 'code: "460106001002GB00001"'] for a in args]  # 宗地代码, not a project code
                else:
                    assert arg_name in values, f"root field {name} needs a value for {arg_name} in this walk"
                    args = [[*a, f"{arg_name}: {values[arg_name]}"] for a in args]
        for a in args:
            calls.append(f"{name}{'(' + ', '.join(a) + ')' if a else ''} {_selection(field.type, 6)}".strip())
    return calls


def _walk(container: Container, actor: Actor, code: str, case_id: str) -> tuple[str, set[str], set[str]]:
    """Every root call, one query each: (all data as JSON text, error codes, withheld field names)."""
    text, codes, withheld = [], set(), set()
    for call in _root_calls(code, case_id):
        result = asyncio.run(schema.execute("{ " + call + " }", context_value=Context(container, actor)))
        text.append(json.dumps(result.data, ensure_ascii=False))
        codes |= {(e.extensions or {}).get("code", e.message) for e in result.errors or []}
        notice = (result.extensions or {}).get("personalData")
        if notice:
            assert notice["code"] == WITHHELD and notice["reason"]
            withheld |= set(notice["withheld"])
    return "\n".join(text), codes, withheld


@pytest.fixture
def container(store_url: str) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET))
    yield c
    c.close()


@pytest.fixture
def seeded(container: Container) -> tuple[Container, str, str, set[str]]:
    code, case_id, _ = approved_case(container)
    container.engine.catch_up()
    trail = "query($s: String!) { auditTrail(subject: $s, first: 100) { edges { node { actorId actorOrg } } } }"
    result = asyncio.run(schema.execute(trail, variable_values={"s": code}, context_value=Context(container, ADMIN)))
    people = {v for e in result.data["auditTrail"]["edges"] for v in e["node"].values()}
    assert {"clerk-1", "approver-1", "hk-window", "hk-zrzy"} <= people
    return container, code, case_id, people | {OWNER, "海南测试建设有限公司"}


def test_an_analyst_finds_no_actor_id_organisation_or_owner_anywhere(seeded: Any) -> None:
    container, code, case_id, personal = seeded
    text, codes, withheld = _walk(container, ANALYST, code, case_id)
    # a window (窗口, the clerk's organisation here) is a public service counter: analysts read the
    # window assessment per window, never per clerk (docs/security.md, roles); nowhere else
    window_rows = [line for line in text.splitlines() if '"windowAssessment"' in line]
    assert window_rows and "hk-window" in window_rows[0]
    elsewhere = "\n".join(line for line in text.splitlines() if '"windowAssessment"' not in line)
    assert [p for p in personal if p in elsewhere] == []
    assert [p for p in personal - {"hk-window"} if p in text] == []
    # refusals (auditTrail, inquiries, deliveries, per-clerk groupings) and codes of the wrong kind
    # (a project code where a flow code is wanted); never an internal error
    assert codes <= {"FORBIDDEN", "BAD_USER_INPUT", "NOT_FOUND"}, codes
    assert {"Transition.actorId", "Transition.actorOrg", "Case.applicantOrg", "Owner.uscc"} <= withheld
    # the aggregates still answer
    assert f'"{code}"' in text and '"received": 1' in text


def test_a_supervisor_walking_the_same_queries_sees_the_people(seeded: Any) -> None:
    container, code, case_id, personal = seeded
    text, _, withheld = _walk(container, SUPERVISOR, code, case_id)
    assert {"clerk-1", "approver-1", "hk-zrzy", OWNER} <= {p for p in personal if p in text}
    assert withheld == set()


def test_an_analyst_may_not_filter_by_owner_nor_group_by_clerk(seeded: Any) -> None:
    container, _, _, _ = seeded
    for query in (
        f'{{ projects(filter: {{ownerUscc: "{OWNER}"}}) {{ totalCount }} }}',
        '{ licenses(filter: {holderUscc: "x"}) { totalCount } }',
        "{ ratings(groupBy: CLERK) { key } }",
        "{ windowAssessment(groupBy: CLERK) { org } }",
    ):
        result = asyncio.run(schema.execute(query, context_value=Context(container, ANALYST)))
        assert result.errors and result.errors[0].extensions["code"] == "FORBIDDEN", query
        supervised = asyncio.run(schema.execute(query, context_value=Context(container, SUPERVISOR)))
        assert supervised.errors is None, (query, supervised.errors)
    window = "{ windowAssessment(groupBy: WINDOW) { org accepted } }"
    rows = asyncio.run(schema.execute(window, context_value=Context(container, ANALYST))).data["windowAssessment"]
    assert rows and rows[0]["accepted"] >= 1
    # a bare query answers an analyst per window (no person in it), a supervisor per clerk
    bare = "{ windowAssessment { org clerkId } }"
    analysed = asyncio.run(schema.execute(bare, context_value=Context(container, ANALYST)))
    assert analysed.errors is None, analysed.errors
    assert [r["org"] for r in analysed.data["windowAssessment"]] == [r["org"] for r in rows]
    assert all(r["clerkId"] is None for r in analysed.data["windowAssessment"])
    supervised = asyncio.run(schema.execute(bare, context_value=Context(container, SUPERVISOR)))
    assert supervised.errors is None and any(r["clerkId"] for r in supervised.data["windowAssessment"])

"""The lighter leaf-field path (interfaces/graphql/execution.py) answers exactly as graphql-core's
own: every root field with every leaf, as a supervisor, an analyst (personal fields withheld) and an
admin — same data in the same key order, same errors with their paths, same extensions — and the
cases it hands back (a null for a non-null field, a value the scalar refuses) give graphql-core's
errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from application.policy import Actor
from interfaces.graphql.context import Context
from interfaces.graphql.execution import LeafFields, use_leaf_fields
from interfaces.graphql.personal import personal
from interfaces.graphql.schema import schema
from tests.integration import test_personal_data as walk
from tests.integration.test_personal_data import ADMIN, ANALYST, SUPERVISOR, _root_calls

container, seeded = walk.container, walk.seeded  # its fixtures: a case with real officials and applicant


def _answer(result: Any) -> str:
    errors = [(e.message, e.path, e.extensions) for e in result.errors or []]
    return json.dumps([result.data, errors, result.extensions], ensure_ascii=False, default=str)


@pytest.fixture
def standard() -> Iterator[None]:
    assert schema.execution_context_class is LeafFields
    yield
    schema.execution_context_class = LeafFields


@pytest.mark.parametrize("actor", [SUPERVISOR, ANALYST, ADMIN], ids=lambda a: a.role)
def test_every_root_field_answers_as_graphql_core_does(seeded: Any, standard: None, actor: Actor) -> None:
    container, code, case_id, _ = seeded
    calls = _root_calls(code, case_id)
    trail = "query($s: String!) { auditTrail(subject: $s, first: 100) { totalCount edges { cursor node {"
    trail += " position eventType actorId actorOrg data recordedAt a: position } } } }"
    answers: dict[str, list[str]] = {}
    for label, cls in (("standard", StrawberryGraphQLCoreExecutionContext), ("leaf", LeafFields)):
        schema.execution_context_class = cls
        answers[label] = [
            _answer(asyncio.run(schema.execute("{ " + call + " }", context_value=Context(container, actor))))
            for call in calls
        ] + [
            _answer(
                asyncio.run(schema.execute(trail, variable_values={"s": code}, context_value=Context(container, actor)))
            )
        ]
    assert len(calls) > 40
    assert answers["leaf"] == answers["standard"]
    if actor is SUPERVISOR:
        assert "clerk-1" in answers["leaf"][-1]  # the personal fields took the light path, filled
    if actor is ANALYST:
        assert "PERSONAL_DATA_WITHHELD" in "".join(answers["leaf"])


# --- the cases handed back to graphql-core -----------------------------------------------------


@strawberry.type
class Odd:
    fine: int
    missing: int  # None at run time: a non-null field without a value
    text_as_int: int  # a value Int refuses
    note: str | None = personal()
    big: int = 2**31  # an int Int refuses (32 bits)


@strawberry.type
class Inner:
    fine: int
    missing: int | None = None  # a non-null field below (`Inner.needed`) reads it
    note: str | None = personal()

    @strawberry.field
    def needed(self) -> int:
        return self.missing  # type: ignore[return-value]

    @strawberry.field
    def fails(self) -> int | None:
        raise ValueError("fails")

    @strawberry.field
    async def later(self) -> int:
        return self.fine + 1

    @strawberry.field
    async def broken(self) -> int:
        raise ValueError("broken")


@strawberry.type
class Outer:
    fine: int
    one: Inner
    maybe: Inner | None
    many: list[Inner]
    loose: list[Inner | None] | None
    gone: Inner  # None at run time: a non-null object field without a value


@strawberry.type
class OddQuery:
    @strawberry.field
    def odds(self) -> list[Odd]:
        return [Odd(fine=1, missing=None, text_as_int="x", note="n") for _ in range(2)]  # type: ignore[arg-type]

    @strawberry.field
    def outers(self) -> list[Outer | None]:
        def inner(n: int, missing: int | None = 7) -> Inner:
            return Inner(fine=n, missing=missing, note=f"n{n}")

        return [
            Outer(fine=1, one=inner(1), maybe=None, many=[inner(2), inner(3, None)], loose=[None, inner(4)], gone=None),  # type: ignore[arg-type]
            Outer(fine=2, one=inner(5), maybe=inner(6), many=[], loose=[inner(13, None), inner(14)], gone=inner(8)),
            Outer(fine=3, one=inner(9, None), maybe=inner(10, None), many=(inner(11),), loose=[], gone=inner(12)),  # type: ignore[arg-type]
        ]


def _odd_schema(light: bool) -> strawberry.Schema:
    s = strawberry.Schema(query=OddQuery)
    if light:
        use_leaf_fields(s)
    return s


@pytest.mark.parametrize(
    "query",
    [
        "{ odds { fine missing } }",
        "{ odds { fine textAsInt } }",
        "{ odds { f: fine note fine } }",
        "{ odds { note __typename fine } }",
        "{ odds { fine big } }",
        # object fields and lists of objects done by LeafFields: nulls, null items, errors propagated
        # up to the nearest nullable field or item, async fields below them, errors in selection order
        "{ outers { fine one { fine note } maybe { fine } many { fine later } loose { fine } } }",
        "{ outers { fine one { needed } } }",
        "{ outers { maybe { needed fine } many { needed } } }",
        "{ outers { fine gone { fine } } }",
        "{ outers { one { fails fine } many { fails later } loose { fails } } }",
        "{ outers { one { later broken } fine } }",
        "{ outers { many { broken } maybe { later } } }",
        "{ outers { maybe { broken fine } loose { later broken } one { later } } }",
        "{ outers { loose { needed later } maybe { fails needed } } }",
        "{ outers { a: one { fine } b: one { later } one { fine } one { note } } }",
        "{ outers { one { ... on Inner { fine } fine later } many { __typename } } }",
    ],
)
def test_refused_values_give_graphql_cores_errors_and_paths(seeded: Any, query: str) -> None:
    container = seeded[0]
    answers = [
        _answer(asyncio.run(_odd_schema(light).execute(query, context_value=Context(container, SUPERVISOR))))
        for light in (False, True)
    ]
    assert answers[1] == answers[0]


def test_withheld_fields_still_go_through_withheld_for_readers_without_the_right(seeded: Any) -> None:
    container = seeded[0]
    query = "{ odds { fine note } }"
    context = Context(container, ANALYST)
    light = asyncio.run(_odd_schema(True).execute(query, context_value=context))
    assert light.data == {"odds": [{"fine": 1, "note": None}, {"fine": 1, "note": None}]}
    assert context.withheld == {"Odd.note"}  # noted for the response's extensions.personalData
    supervised = asyncio.run(_odd_schema(True).execute(query, context_value=Context(container, SUPERVISOR)))
    assert supervised.data == {"odds": [{"fine": 1, "note": "n"}, {"fine": 1, "note": "n"}]}


def test_the_served_schema_uses_leaf_fields_with_the_installed_graphql_core() -> None:
    # a graphql-core whose execute_fields changed makes use_leaf_fields step aside (standard path):
    # this says so here rather than only as a slower benchmark
    from interfaces.graphql.schema import schema as served

    assert served.execution_context_class is LeafFields

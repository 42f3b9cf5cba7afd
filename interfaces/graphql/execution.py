"""A lighter path for plain leaf fields (bench/graphql.py: GraphQL per-field cost).

graphql-core executes every field alike: a path, a resolve info, strawberry's resolver chain, then
completion by type — about ten calls for `edges { node { position } }` times 50 entries. A field that
is a dataclass attribute of scalar or enum type (no resolver, no arguments, no permission) needs
only `getattr` and the scalar's output coercion, which is what `LeafFields` does for them. Personal
fields (interfaces/graphql/personal.py) take it too when the reader may see personal data, a per-
request invariant; for other readers they go the standard way, through `Withheld`, which nulls them
and notes them. Anything unusual (a null for a non-null field, a value the scalar refuses, an
exception) also goes the standard way, so errors and their paths stay graphql-core's own.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable
from typing import Any, NamedTuple

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

from interfaces.graphql.personal import Withheld, may_see_personal_data


class Leaf(NamedTuple):
    attribute: str  # the dataclass attribute (python name)
    type: GraphQLLeafType
    non_null: bool
    personal: bool  # declared with personal(): only for readers with personal-data.read


PLANS = "gongjian-leaf-fields"  # key of the plans in the GraphQL schema's extensions


# graphql-core 3.3's ExecutionContext.execute_fields, which LeafFields overrides
EXPECTED = ("self", "parent_type", "source_value", "path", "grouped_field_set", "position_context")


def use_leaf_fields(schema: strawberry.Schema) -> bool:
    """Executes `schema`'s queries with `LeafFields`, its leaf fields planned once, here. Not with
    an executor whose `execute_fields` it does not know (a newer graphql-core): then every field
    goes the standard way, slower but right. Returns whether it is in use."""
    params = tuple(inspect.signature(StrawberryGraphQLCoreExecutionContext.execute_fields).parameters)
    if params != EXPECTED:
        log.warning("graphql-core's execute_fields%s is not the one LeafFields knows: not used", params)
        return False
    graphql_schema = schema._schema
    graphql_schema.extensions[PLANS] = plan_leaves(graphql_schema, schema.config.default_resolver)
    schema.execution_context_class = LeafFields
    return True


def plan_leaves(schema: GraphQLSchema, getattr_resolver: Any) -> dict[str, dict[str, Leaf]]:
    """The leaf fields of every object type that strawberry resolves by plain `getattr`."""
    plans: dict[str, dict[str, Leaf]] = {}
    for gql_type in schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType) or gql_type.name.startswith("__"):
            continue
        fields: dict[str, Leaf] = {}
        for name, gql_field in gql_type.fields.items():
            field = (gql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if field is None or gql_field.args or field.base_resolver is not None:
                continue
            personal = [type(e) for e in field.extensions] == [Withheld]
            if field.extensions and not personal:
                continue
            if field.default_resolver is not getattr_resolver:
                continue
            if not personal and not getattr(gql_field.resolve, "_is_default", False):
                continue  # strawberry wraps it (exception handlers): keep its resolver
            of_type, non_null = gql_field.type, False
            if isinstance(of_type, GraphQLNonNull):
                of_type, non_null = of_type.of_type, True
            if isinstance(of_type, (GraphQLScalarType, GraphQLEnumType)):
                fields[name] = Leaf(field.python_name, of_type, non_null, personal)
        if fields:
            plans[gql_type.name] = fields
    return plans


log = logging.getLogger("gongjian.graphql")
_SLOW = object()
_NONE: dict[str, dict[str, Leaf]] = {}


class LeafFields(StrawberryGraphQLCoreExecutionContext):
    """Completes planned leaf fields in one loop; hands every other field to graphql-core."""

    _personal: bool | None = None

    def _may_see_personal(self) -> bool:
        if self._personal is None:
            actor = getattr(self.context_value, "actor", None)
            self._personal = actor is not None and may_see_personal_data(actor.role)
        return self._personal

    def _leaf(self, plan: Leaf, source: Any) -> Any:
        if plan.personal and not self._may_see_personal():
            return _SLOW
        try:
            value = getattr(source, plan.attribute)
            if value is None:
                return _SLOW if plan.non_null else None
            coerced = plan.type.coerce_output_value(value)
        except Exception:
            return _SLOW
        return _SLOW if coerced is None or coerced is Undefined else coerced

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        plans = self.schema.extensions.get(PLANS, _NONE).get(parent_type.name)
        middleware = self.middleware_manager
        if plans is None or (middleware is not None and middleware.middlewares):
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        done: dict[str, Any] = {}
        rest: GroupedFieldSet = {}
        for response_name, details in grouped_field_set.items():
            plan = plans.get(details[0].node.name.value)
            value = _SLOW if plan is None else self._leaf(plan, source_value)
            if value is _SLOW:
                rest[response_name] = details
            else:
                done[response_name] = value
        if not rest:
            return done
        others: Any = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if self.is_awaitable(others):
            return self._merge_later(grouped_field_set, done, others)
        return _merge(grouped_field_set, done, others)

    @staticmethod
    async def _merge_later(order: GroupedFieldSet, done: dict[str, Any], others: Awaitable[Any]) -> dict[str, Any]:
        return _merge(order, done, await others)


def _merge(order: GroupedFieldSet, done: dict[str, Any], others: dict[str, Any]) -> dict[str, Any]:
    """Both halves in the order of the selection, as graphql-core answers."""
    if not done:
        return others
    return {k: done[k] if k in done else others[k] for k in order if k in done or k in others}

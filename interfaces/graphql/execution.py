"""A lighter path for plain fields (bench/graphql.py: GraphQL per-field cost).

graphql-core executes every field alike: a path, a resolve info, strawberry's resolver chain, then
completion by type — about ten calls for `edges { node { position } }` times 50 entries. A field that
is a dataclass attribute of scalar or enum type (no resolver, no arguments, no permission) needs
only `getattr` and the scalar's output coercion, which is what `LeafFields` does for them. Personal
fields (interfaces/graphql/personal.py) take it too when the reader may see personal data, a per-
request invariant; for other readers they go the standard way, through `Withheld`, which nulls them
and notes them. Anything unusual (a null for a non-null field, a value the scalar refuses, an
exception) also goes the standard way, so errors and their paths stay graphql-core's own.

An attribute holding an object or a list of objects (`edges`, `node`, `pageInfo`) is completed the
same way: `getattr`, then its sub-selection field by field, with graphql-core's paths and its error
handling (`handle_field_error`) at the field and at each item; a null, a null item or anything not
a plain list goes the standard way. Fields are executed in the order of the selection, as
graphql-core does, so the errors of a response come in the same order.
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
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from graphql.type.scalars import GRAPHQL_MAX_INT, GRAPHQL_MIN_INT, serialize_int, serialize_string
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

from interfaces.graphql.personal import Withheld, may_see_personal_data


class Leaf(NamedTuple):
    attribute: str  # the dataclass attribute (python name)
    type: GraphQLLeafType
    non_null: bool
    personal: bool  # declared with personal(): only for readers with personal-data.read
    as_is: object  # the class whose values the scalar's coercion returns unchanged (String, Int), or None


class Child(NamedTuple):
    attribute: str  # the dataclass attribute (python name)
    type: GraphQLObjectType  # of the object, or of each item of the list
    return_type: GraphQLOutputType  # the field's, as declared
    item_type: GraphQLOutputType | None  # a list's items' (non-null or not); None: one object


PLANS = "gongjian-leaf-fields"  # key of the plans in the GraphQL schema's extensions


# graphql-core 3.3's executor methods that LeafFields overrides (execute_fields) or calls
EXPECTED = {
    "execute_fields": ("self", "parent_type", "source_value", "path", "grouped_field_set", "position_context"),
    "execute_field": ("self", "parent_type", "source", "field_details_list", "path", "position_context"),
    "handle_field_error": ("self", "raw_error", "return_type", "field_details_list", "path"),
    "collect_subfields": ("self", "return_type", "field_details_list"),
}


def use_leaf_fields(schema: strawberry.Schema) -> bool:
    """Executes `schema`'s queries with `LeafFields`, its leaf fields planned once, here. Not with
    an executor whose `execute_fields` it does not know (a newer graphql-core): then every field
    goes the standard way, slower but right. Returns whether it is in use."""
    for method, expected in EXPECTED.items():
        params = tuple(inspect.signature(getattr(StrawberryGraphQLCoreExecutionContext, method)).parameters)
        if params != expected:
            log.warning("graphql-core's %s%s is not the one LeafFields knows: not used", method, params)
            return False
    graphql_schema = schema._schema
    graphql_schema.extensions[PLANS] = plan_leaves(graphql_schema, schema.config.default_resolver)
    schema.execution_context_class = LeafFields
    return True


def plan_leaves(schema: GraphQLSchema, getattr_resolver: Any) -> dict[str, dict[str, Leaf | Child]]:
    """The leaf and object fields of every object type that strawberry resolves by plain `getattr`.
    Object fields not where @defer or @stream could split a selection (not in our schema)."""
    incremental = schema.get_directive("defer") is not None or schema.get_directive("stream") is not None
    plans: dict[str, dict[str, Leaf | Child]] = {}
    for gql_type in schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType) or gql_type.name.startswith("__"):
            continue
        fields: dict[str, Leaf | Child] = {}
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
                as_is = _AS_IS.get(getattr(of_type, "coerce_output_value", None))
                fields[name] = Leaf(field.python_name, of_type, non_null, personal, as_is)
            elif not personal and not incremental:
                child = _child(field.python_name, gql_field.type)
                if child is not None:
                    fields[name] = child
        if fields:
            plans[gql_type.name] = fields
    return plans


def _child(attribute: str, return_type: GraphQLOutputType) -> Child | None:
    """An object or a list of objects (no list of lists), of a type that needs no `is_type_of` check."""
    of_type, item_type = return_type, None
    if isinstance(of_type, GraphQLNonNull):
        of_type = of_type.of_type
    if isinstance(of_type, GraphQLList):
        of_type = item_type = of_type.of_type
        if isinstance(of_type, GraphQLNonNull):
            of_type = of_type.of_type
    if isinstance(of_type, GraphQLObjectType) and of_type.is_type_of is None:
        return Child(attribute, of_type, return_type, item_type)
    return None


log = logging.getLogger("gongjian.graphql")
_SLOW = object()
_NONE: dict[str, dict[str, Leaf | Child]] = {}
_AS_IS: dict[Any, type] = {serialize_string: str, serialize_int: int}  # an int in the 32-bit range


class Step(NamedTuple):
    """One field of a selection: its plan (None: graphql-core's way) and, for an object, its sub-selection."""

    response_name: str
    details: FieldDetailsList
    plan: Leaf | Child | None
    grouped: GroupedFieldSet | None


class LeafFields(StrawberryGraphQLCoreExecutionContext):
    """Completes planned fields in one loop; hands every other field to graphql-core."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._steps: dict[tuple[str, int], tuple[GroupedFieldSet, list[Step] | None]] = {}

    def _may_see_personal(self) -> bool:
        actor = getattr(self.context_value, "actor", None)
        return actor is not None and may_see_personal_data(actor.role)

    def _steps_of(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> list[Step] | None:
        """The planned fields of a selection, once per request: graphql-core keeps each sub-selection
        for the request, so the 50 nodes of a page share one. None: graphql-core executes them all."""
        key = (parent_type.name, id(grouped_field_set))
        known = self._steps.get(key)
        if known is not None:
            return known[1]
        plans = self.schema.extensions.get(PLANS, _NONE).get(parent_type.name)
        middleware = self.middleware_manager
        steps: list[Step] | None = None
        if plans is not None and not (middleware is not None and middleware.middlewares):
            personal = self._may_see_personal()  # a per-request invariant
            steps = []
            for response_name, details in grouped_field_set.items():
                plan = plans.get(details[0].node.name.value)
                grouped = None
                if isinstance(plan, Leaf) and plan.personal and not personal:
                    plan = None  # through Withheld, which nulls it and notes it
                elif isinstance(plan, Child):
                    grouped, defers, _ = self.collect_subfields(plan.type, details)
                    if defers:
                        plan = None
                steps.append(Step(response_name, details, plan, grouped))
        self._steps[key] = (grouped_field_set, steps)  # the set kept alive: its id stays its own
        return steps

    def _leaf(self, plan: Leaf, source: Any) -> Any:
        try:
            value = getattr(source, plan.attribute)
            if value is None:
                return _SLOW if plan.non_null else None
            kind = type(value)
            if kind is plan.as_is and (kind is str or GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT):
                return value  # what serialize_string or serialize_int would return
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
        steps = self._steps_of(parent_type, grouped_field_set)
        if steps is None:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        return self._execute(steps, parent_type, source_value, path, position_context)

    def _execute(
        self, steps: list[Step], parent_type: GraphQLObjectType, source_value: Any, path: Path | None, position: Any
    ) -> Any:
        """graphql-core's execute_fields, in the same order, with the planned fields done here."""
        results: dict[str, Any] = {}
        pending: list[str] = []  # fields whose value is still to be awaited
        try:
            for response_name, details, plan, grouped in steps:
                if plan is not None:
                    if isinstance(plan, Leaf):
                        value = self._leaf(plan, source_value)
                    else:
                        value = self._object(plan, grouped, parent_type, source_value, path, response_name, details)
                        if value is not _SLOW and self.is_awaitable(value):
                            pending.append(response_name)
                    if value is not _SLOW:
                        results[response_name] = value
                        continue
                field_path = Path(path, response_name, parent_type.name)
                value = self.execute_field(parent_type, source_value, details, field_path, position)
                if value is not Undefined:
                    results[response_name] = value
                    if self.is_awaitable(value):
                        pending.append(response_name)
        except Exception:
            if pending:  # settled, as graphql-core does: they may fail too
                self.settle_in_background([results[name] for name in pending])
            raise
        if not pending:
            return results
        return _awaited(results, pending)

    def _object(
        self,
        plan: Child,
        grouped: Any,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path | None,
        response_name: str,
        details: FieldDetailsList,
    ) -> Any:
        """graphql-core's execute_field and complete_value for an object (or list of objects) attribute."""
        try:
            value = getattr(source, plan.attribute)
        except Exception:
            return _SLOW
        if value is None:
            return _SLOW  # null, or graphql-core's error for a non-null field
        if plan.item_type is not None:
            if type(value) is not list:
                return _SLOW
            for item in value:
                if item is None or self.is_awaitable(item):
                    return _SLOW
        field_path = Path(path, response_name, parent_type.name)
        steps = self._steps_of(plan.type, grouped)  # once for every item of a list
        try:
            if plan.item_type is None:
                completed = self._sub(steps, plan.type, value, field_path, grouped)
            else:
                completed = self._items(steps, plan.type, plan.item_type, value, details, field_path, grouped)
        except Exception as raw_error:
            self.handle_field_error(raw_error, plan.return_type, details, field_path)
            return None
        if self.is_awaitable(completed):
            return self._completed_later(completed, plan.return_type, details, field_path)
        return completed

    def _sub(
        self, steps: list[Step] | None, of_type: GraphQLObjectType, source: Any, path: Path, grouped: GroupedFieldSet
    ) -> Any:
        """An object's sub-selection (graphql-core's complete_object_value, no defer: position None)."""
        if steps is None:
            return self.execute_fields(of_type, source, path, grouped, None)
        return self._execute(steps, of_type, source, path, None)

    def _items(
        self,
        steps: list[Step] | None,
        of_type: GraphQLObjectType,
        item_type: GraphQLOutputType,
        items: list[Any],
        details: FieldDetailsList,
        path: Path,
        grouped: GroupedFieldSet,
    ) -> Any:
        """graphql-core's complete_iterable_value for objects, each item's errors handled at its path."""
        completed: list[Any] = []
        pending: list[int] = []
        try:
            for index, item in enumerate(items):
                item_path = path.add_key(index, None)
                try:
                    value = self._sub(steps, of_type, item, item_path, grouped)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, details, item_path)
                    value = None
                else:
                    if self.is_awaitable(value):
                        value = self._completed_later(value, item_type, details, item_path)
                        pending.append(index)
                completed.append(value)
        except Exception:
            if pending:
                self.settle_in_background([completed[index] for index in pending])
            raise
        if not pending:
            return completed
        return _awaited(completed, pending)

    async def _completed_later(
        self, completed: Awaitable[Any], return_type: GraphQLOutputType, details: FieldDetailsList, path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, details, path)
            return None


async def _awaited(results: Any, pending: list[Any]) -> Any:
    """`results` (a dict or a list) with its awaitables at `pending` replaced by their values."""
    if len(pending) == 1:  # as graphql-core: no gather for one
        results[pending[0]] = await results[pending[0]]
    else:
        values = await gather_with_cancel(*(results[key] for key in pending))
        for key, value in zip(pending, values, strict=True):
            results[key] = value
    return results

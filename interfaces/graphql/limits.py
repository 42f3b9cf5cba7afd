"""GraphQL limits beyond strawberry's depth, alias and token limiters, checked before a query runs.

- 查询成本 QueryCost: every field selected costs one per item it may be asked for, so a field inside
  `cases(first: 100)` costs 100. A `first` given as a variable counts as the page cap.
- RefuseNul: no string argument or variable may contain NUL (U+0000): PostgreSQL text cannot hold it,
  so it could only ever fail inside a resolver (found by tests/e2e/test_fuzz.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
    get_named_type,
    visit,
)
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from interfaces.graphql.common import MAX_PAGE

MAX_COST = 20_000


def _page(node: FieldNode, field: Any) -> int:
    """How many items a field may return per parent item: its `first`, else 1."""
    if field is None or "first" not in field.args:
        return 1
    for arg in node.arguments or ():
        if arg.name.value == "first":
            return int(arg.value.value) if isinstance(arg.value, IntValueNode) else MAX_PAGE
    default = field.args["first"].default_value
    return default if isinstance(default, int) else MAX_PAGE


class QueryCost(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        schema = self.context.schema
        root = schema.get_root_type(node.operation)
        fragments = {
            d.name.value: d for d in self.context.document.definitions if isinstance(d, FragmentDefinitionNode)
        }

        def cost(selections: SelectionSetNode, parent: Any, multiplier: int, depth: int) -> int:
            if depth > 50:  # fragment cycles are refused by another rule; do not recurse forever meanwhile
                return 0
            total = 0
            for sel in selections.selections:
                if isinstance(sel, FieldNode):
                    fields = parent.fields if isinstance(parent, GraphQLObjectType) else {}
                    field = fields.get(sel.name.value)
                    total += multiplier
                    if sel.selection_set is not None:
                        child = get_named_type(field.type) if field is not None else None
                        total += cost(sel.selection_set, child, multiplier * _page(sel, field), depth + 1)
                elif isinstance(sel, InlineFragmentNode):
                    typed = schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                    total += cost(sel.selection_set, typed, multiplier, depth + 1)
                elif isinstance(sel, FragmentSpreadNode) and sel.name.value in fragments:
                    fragment = fragments[sel.name.value]
                    typed = schema.get_type(fragment.type_condition.name.value)
                    total += cost(fragment.selection_set, typed, multiplier, depth + 1)
            return total

        total = cost(node.selection_set, root, 1, 0)
        if total > MAX_COST:
            self.report_error(
                GraphQLError(
                    f"the query costs {total}, more than {MAX_COST}: ask for smaller pages or fewer fields",
                    node,
                    extensions={"code": "QUERY_TOO_COMPLEX", "status": 422},
                )
            )


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class _NulLiterals(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if "\x00" in node.value:
            self.found = True


_NUL_MEMO: dict[str, bool] = {}  # query text → has a NUL literal: the text decides, walked once
NUL_MEMO = 512


def _document_has_nul(document: DocumentNode | None, query: str | None = None) -> bool:
    if document is None:
        return False
    if query is not None and query in _NUL_MEMO:
        return _NUL_MEMO[query]
    visitor = _NulLiterals()
    visit(document, visitor)
    if query is not None:
        if len(_NUL_MEMO) >= NUL_MEMO:
            _NUL_MEMO.clear()
        _NUL_MEMO[query] = visitor.found
    return visitor.found


class RefuseNul(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if _has_nul(context.variables) or _document_has_nul(context.graphql_document, context.query):
            # set before validation runs: strawberry then answers with this error and executes nothing
            context.pre_execution_errors = [
                GraphQLError(
                    "strings may not contain NUL (U+0000)", extensions={"code": "BAD_USER_INPUT", "status": 422}
                )
            ]
        yield

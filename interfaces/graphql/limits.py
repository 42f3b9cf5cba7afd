"""GraphQL limits beyond strawberry's depth, alias and token limiters, checked before a query runs.

- 查询成本 QueryCost: every field selected costs one per item it may be asked for, so a field inside
  `cases(first: 100)` costs 100. A `first` given as a variable counts as the page cap.
- RefuseBadText: no string argument or variable may hold a code point no text may hold
  (domain/shared/hygiene.py): NUL, which PostgreSQL text cannot hold, so it could only ever fail inside
  a resolver (found by tests/e2e/test_fuzz.py); a lone surrogate, which cannot be encoded to reach the
  store (it answered Python's error text, uncoded); controls, bidi controls and noncharacters. Refused
  as BAD_USER_INPUT with `extensions.rule` naming the rule, before anything runs.
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

from domain.shared.hygiene import forbidden, forbidden_in
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


class _BadLiterals(Visitor):
    found: tuple[str, str] | None = None

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if self.found is None:
            self.found = forbidden(node.value)


_TEXT_MEMO: dict[str, tuple[str, str] | None] = {}  # query text → its first bad literal: walked once
TEXT_MEMO = 512


def _document_bad_text(document: DocumentNode | None, query: str | None = None) -> tuple[str, str] | None:
    if document is None:
        return None
    if query is not None and query in _TEXT_MEMO:
        return _TEXT_MEMO[query]
    visitor = _BadLiterals()
    visit(document, visitor)
    if query is not None:
        if len(_TEXT_MEMO) >= TEXT_MEMO:
            _TEXT_MEMO.clear()
        _TEXT_MEMO[query] = visitor.found
    return visitor.found


class RefuseBadText(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        problem = forbidden_in(context.variables) or _document_bad_text(context.graphql_document, context.query)
        if problem is not None:
            rule, message = problem
            # set before validation runs: strawberry then answers with this error and executes nothing
            context.pre_execution_errors = [
                GraphQLError(message, extensions={"code": "BAD_USER_INPUT", "status": 422, "rule": rule})
            ]
        yield

"""Per-query work that depends on the query text alone, done once per text (bench/: GraphQL).

Validation (the schema's rules, depth, aliases, tokens and cost, which counts a `first` given as a
variable as the page cap) looks at the document, never at variables or the caller: a text that
passed once passes again. Parsing is cached by strawberry's ParserCache next to this.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

_VALID: OrderedDict[str, None] = OrderedDict()  # query texts that passed validation, newest last
VALID_MEMO = 512


class KnownValid(SchemaExtension):
    """Skips validating a query text that passed before; records the ones that pass. Last among the
    extensions, so that an error another one set first (RefuseBadText: variables) still stands."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        known = query is not None and context.pre_execution_errors is None and query in _VALID
        if known and query is not None:
            _VALID.move_to_end(query)
            context.pre_execution_errors = []  # strawberry runs no validation when this is set
        yield
        if not known and query is not None and context.pre_execution_errors == []:
            _VALID[query] = None
            if len(_VALID) > VALID_MEMO:
                _VALID.popitem(last=False)

"""docs/schema.graphql is the exported schema; it must not drift from the code."""

from pathlib import Path

from interfaces.graphql.schema import schema

EXPORTED = Path(__file__).parents[2] / "docs" / "schema.graphql"


def test_the_exported_schema_matches_the_code() -> None:
    assert EXPORTED.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "docs/schema.graphql is stale: run `gongjian schema > docs/schema.graphql`"
    )


def test_the_schema_has_the_contracts_query_fields() -> None:
    query = schema.get_type_by_name("Query")
    assert query is not None
    names = {f.python_name for f in query.fields}  # type: ignore[attr-defined]
    assert {"project", "projects", "case_", "cases", "audit_trail", "projections"} <= names

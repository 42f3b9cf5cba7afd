"""The shadow's SQL (projections/upgrade.py): a read model's own statements with its tables and
indexes renamed, and nothing else: not string literals, not a column that shares a table's name."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from projections.case_timeline import CaseTimeline
from projections.upgrade import Renaming, ShadowModel


def shadow() -> ShadowModel:
    model = CaseTimeline.__new__(CaseTimeline)
    model.db = None  # type: ignore[assignment]  # never used: no statement runs here
    model.outbox = []
    return ShadowModel(model)


def test_tables_are_renamed_where_they_stand_as_tables_and_a_column_of_the_same_name_is_left() -> None:
    s = shadow()
    assert s.name == f"case_timeline@shape{CaseTimeline.shape}"
    suffix = f"__s{CaseTimeline.shape}"
    assert s.rename("SELECT * FROM cases WHERE case_id = ?") == f"SELECT * FROM cases{suffix} WHERE case_id = ?"
    assert s.rename("UPDATE cases SET stop_days = NULL") == f"UPDATE cases{suffix} SET stop_days = NULL"
    # `cases` is also a column of case_summary_days
    assert s.rename("DELETE FROM case_summary_days WHERE days = 1 AND cases = 0") == (
        f"DELETE FROM case_summary_days{suffix} WHERE days = 1 AND cases = 0"
    )
    assert s.rename("SELECT SUM(cases) AS n FROM case_summary_days") == (
        f"SELECT SUM(cases) AS n FROM case_summary_days{suffix}"
    )
    assert s.rename("UPDATE case_summary_days SET cases = case_summary_days.cases + excluded.cases") == (
        f"UPDATE case_summary_days{suffix} SET cases = case_summary_days{suffix}.cases + excluded.cases"
    )
    assert s.rename("SELECT cases.case_id FROM cases JOIN case_transitions t ON t.case_id = cases.case_id") == (
        f"SELECT cases{suffix}.case_id FROM cases{suffix} JOIN case_transitions{suffix} t"
        f" ON t.case_id = cases{suffix}.case_id"
    )
    # an index is renamed from its creation on (index names are global to a file or schema)
    assert s.rename("CREATE INDEX IF NOT EXISTS cases_project ON cases (project_code)") == (
        f"CREATE INDEX IF NOT EXISTS cases_project{suffix} ON cases{suffix} (project_code)"
    )
    assert s.names["cases_project"] == f"cases_project{suffix}"
    # names that merely start with a table's are other names
    assert s.rename("SELECT cases_total FROM casesx") == "SELECT cases_total FROM casesx"


@given(st.lists(st.sampled_from(["cases", "case_summary", " ", "'", "x", "_", ".", "FROM "]), max_size=12))
def test_string_literals_are_never_changed(parts: list[str]) -> None:
    s, text = shadow(), "".join(parts)
    literal = "'" + text.replace("'", "''") + "'"
    renamed = s.rename(f"SELECT * FROM cases WHERE note = {literal}")
    assert renamed == f"SELECT * FROM cases__s{CaseTimeline.shape} WHERE note = {literal}"


class Recorder:
    def __init__(self) -> None:
        self.sql: list[str] = []
        self.inserted: list[str] = []

    def execute(self, sql: str, params: Any = ()) -> None:
        self.sql.append(sql)

    def insert_rows(self, table: str, columns: Any, rows: Any) -> None:
        self.inserted.append(table)


def test_the_cursor_renames_statements_and_bulk_inserts_and_offers_no_sibling_where_there_is_none() -> None:
    s, cur = shadow(), Recorder()
    renaming = Renaming(cur, s)
    renaming.execute("DELETE FROM case_calendars")
    renaming.insert_rows("case_transitions", ("case_id",), [("c",)])
    assert cur.sql == [f"DELETE FROM case_calendars__s{CaseTimeline.shape}"]
    assert cur.inserted == [f"case_transitions__s{CaseTimeline.shape}"]
    assert getattr(renaming, "sibling", None) is None  # base.fetch_together then asks one by one

"""project_overview — one row per project code: owner, region, land, parcels, unit works, the
stage reached, approved items, merges. Case lists come from case_timeline by project code.
Consumes: Project.* events. Table: `projects`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from domain.approvals import Case
from domain.catalog import CATALOG
from domain.projects import Project
from domain.shared.reference import REFERENCE, regions_within
from infrastructure.db import Cursor
from projections.base import Envelope, Events, ReadModel, Rows, Where, bigint, to_json

CASE_CREATED = (Case.Received, Case.BackEntered)
PROJECT_COLUMNS = (
    "code", "project_id", "name", "owner_name", "owner_uscc", "region_code", "unit_code", "flow_type",
    "investment_type", "category", "total_investment", "planned_start", "planned_end", "red_line",
    "land_supply_mode", "land_supplied_on", "parcel_codes", "unit_works", "stage_reached", "case_count",
    "approved_items", "merged_into", "merged_codes", "generated_at", "created_position", "last_position",
)  # fmt: skip


class ProjectOverview(ReadModel):
    name = "project_overview"
    tables = ("projects",)
    reads = Events(Project, *CASE_CREATED)

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS projects ("
            " code TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, owner_name TEXT NOT NULL,"
            " owner_uscc TEXT NOT NULL, region_code TEXT NOT NULL, unit_code TEXT NOT NULL, flow_type INTEGER NOT NULL,"
            " investment_type TEXT NOT NULL, category TEXT NOT NULL, total_investment TEXT NOT NULL,"
            " planned_start TEXT NOT NULL, planned_end TEXT NOT NULL, red_line TEXT,"
            " land_supply_mode TEXT, land_supplied_on TEXT, parcel_codes TEXT NOT NULL, unit_works TEXT NOT NULL,"
            " stage_reached INTEGER NOT NULL, case_count INTEGER NOT NULL, approved_items TEXT NOT NULL,"
            " merged_into TEXT, merged_codes TEXT NOT NULL, generated_at TEXT NOT NULL,"
            f" created_position {big} NOT NULL, last_position {big} NOT NULL)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS projects_region ON projects (region_code)")
        cur.execute("CREATE INDEX IF NOT EXISTS projects_owner ON projects (owner_uscc)")
        # the dashboard pages in creation order: without it every page sorts the whole table
        cur.execute("CREATE INDEX IF NOT EXISTS projects_created ON projects (created_position)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        """Per batch: the projects it touches read in two queries, changed in memory, written once."""
        projects = Rows("projects", "code", PROJECT_COLUMNS)
        code_of: dict[str, str] = {}  # later project events carry only the aggregate id
        ids = {
            str(cast(Any, env.event).originator_id)
            for env in batch
            if isinstance(env.event, Project.Event) and not isinstance(env.event, Project.Generated)
        }
        for row in projects.load_by(cur, "project_id", ids):
            code_of[row["project_id"]] = row["code"]
        projects.load(cur, {cast(Any, env.event).project_code for env in batch if isinstance(env.event, CASE_CREATED)})
        for env in batch:
            if isinstance(env.event, Project.Event):
                self._apply(projects, code_of, env)
            elif isinstance(env.event, CASE_CREATED):
                held = projects.get(cur, cast(Any, env.event).project_code)
                if held is not None:
                    projects.update(held["code"], {"case_count": held["case_count"] + 1, "last_position": env.position})
        projects.flush(cur)

    def _apply(self, projects: Rows, code_of: dict[str, str], env: Envelope) -> None:
        e: Any = env.event
        if isinstance(e, Project.Generated):
            code_of[str(e.originator_id)] = e.code
            projects.insert(
                {
                    "code": e.code,
                    "project_id": str(e.originator_id),
                    "name": e.name,
                    "owner_name": e.owner_name,
                    "owner_uscc": e.owner_uscc,
                    "region_code": e.region_code,
                    "unit_code": REFERENCE.unit_of(e.region_code),
                    "flow_type": e.flow_type,
                    "investment_type": e.investment_type,
                    "category": e.category,
                    "total_investment": str(e.total_investment),
                    "planned_start": e.planned_start.isoformat(),
                    "planned_end": e.planned_end.isoformat(),
                    "red_line": to_json(e.red_line) if e.red_line else None,
                    "land_supply_mode": None,
                    "land_supplied_on": None,
                    "parcel_codes": "[]",
                    "unit_works": "[]",
                    "stage_reached": 0,
                    "case_count": 0,
                    "approved_items": "[]",
                    "merged_into": None,
                    "merged_codes": "[]",
                    "generated_at": e.business_time.isoformat(),
                    "created_position": env.position,
                    "last_position": env.position,
                }
            )
            return
        code = code_of.get(str(e.originator_id))
        row = projects.rows.get(code) if code is not None else None
        if row is None:
            raise LookupError(f"project {e.originator_id} not in project_overview")
        updates: dict[str, Any] = {}
        match e:
            case Project.LandSupplied():
                updates = {
                    "land_supply_mode": e.mode,
                    "land_supplied_on": e.supplied_on.isoformat(),
                    "red_line": to_json(e.red_line),
                }
            case Project.ParcelLinked():
                updates = {"parcel_codes": json.dumps([*json.loads(row["parcel_codes"]), e.parcel_code])}
            case Project.UnitWorkRegistered():
                works = [*json.loads(row["unit_works"]), {"code": e.unit_work_code, "name": e.name}]
                updates = {"unit_works": to_json(works)}
            case Project.ItemApproved():
                items = sorted({*json.loads(row["approved_items"]), e.item_code})
                updates = {"approved_items": json.dumps(items), "stage_reached": stage_reached(items)}
            case Project.ItemApprovalRevoked():
                items = [i for i in json.loads(row["approved_items"]) if i != e.item_code]
                updates = {"approved_items": json.dumps(items), "stage_reached": stage_reached(items)}
            case Project.MergedInto():
                updates = {"merged_into": e.canonical_code}
            case Project.DuplicateAbsorbed():
                updates = {"merged_codes": json.dumps([*json.loads(row["merged_codes"]), e.duplicate_code])}
        updates["last_position"] = env.position
        projects.update(row["code"], updates)

    # --- queries ----------------------------------------------------------------------

    def get(self, code: str) -> dict[str, Any] | None:
        rows = self.db.query("SELECT * FROM projects WHERE code = ?", (code,))
        return rows[0] if rows else None

    def list(
        self,
        *,
        region_scope: str | None = None,
        owner_uscc: str | None = None,
        flow_type: int | None = None,
        stage_reached: int | None = None,
        name_contains: str | None = None,
        after: int = 0,
        first: int = 50,
    ) -> tuple[list[dict[str, Any]], bool, int]:
        """Projects ordered by creation position after `after`; (rows, has_next, total)."""
        where = (
            Where()
            .equal("owner_uscc", owner_uscc)
            .equal("flow_type", flow_type)
            .equal("stage_reached", stage_reached)
            .like("name", name_contains)
        )
        if region_scope and region_scope != "460000":
            where.any_of("region_code", regions_within(region_scope))
        return where.page(self.db, "projects", "created_position", after, first)


def stage_reached(approved_items: Sequence[str]) -> int:
    """阶段 — the highest main stage (1–4) in which the project has an approved item; 0 if none."""
    stages = [CATALOG.items[i].stage for i in approved_items if i in CATALOG.items]
    return max([s for s in stages if s <= 4], default=0)

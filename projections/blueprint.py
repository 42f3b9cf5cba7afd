"""blueprint — the 一张蓝图 as it stands (control-plan zones, regional assessment areas, with their
geometry as GeoJSON text and bounding box), and each project's land as checked against it: red-line
area in m², zones overlapped, conflicts, assessment results applied, and parcel codes both ways
(project → parcels, parcel → projects).

Geometry is matched in Python with shapely after a bounding-box pre-filter in SQL: a province has a
few thousand zones and areas, which needs no spatial index (PostGIS would, at city-parcel scale).
Consumes: PlanZone.*, AssessmentArea.*, Project.Generated, Project.LandSupplied,
Project.BlueprintChecked, Project.ParcelLinked.
Tables: `bp_zones`, `bp_areas`, `bp_projects`, `bp_parcels`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, cast

from shapely.geometry import shape

from domain.blueprint.check import Area, Zone, area_m2
from domain.blueprint.plan import AssessmentArea, PlanZone
from domain.projects import Project
from infrastructure.db import Cursor, Database
from projections.base import Envelope, Events, ReadModel, Rows, bigint, to_json

PROJECT_COLUMNS = (
    "code", "project_id", "red_line_area_m2", "check_trigger", "zones", "conflicts", "assessments",
    "checked_position", "last_position",
)  # fmt: skip
BLUEPRINT_EVENTS = (PlanZone.Event, AssessmentArea.Event)
PROJECT_EVENTS = (Project.Generated, Project.LandSupplied, Project.BlueprintChecked, Project.ParcelLinked)


def _bbox(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = shape(geometry).bounds
    return float(minx), float(miny), float(maxx), float(maxy)


def _d(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class Blueprint(ReadModel):
    name = "blueprint"
    tables = ("bp_zones", "bp_areas", "bp_projects", "bp_parcels")
    reads = Events(PlanZone, AssessmentArea, *PROJECT_EVENTS)

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        box = "minx DOUBLE PRECISION NOT NULL, miny DOUBLE PRECISION NOT NULL, maxx DOUBLE PRECISION NOT NULL, maxy DOUBLE PRECISION NOT NULL"
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bp_zones ("
            " code TEXT PRIMARY KEY, zone_id TEXT NOT NULL, name TEXT NOT NULL, region_code TEXT NOT NULL,"
            f" geometry TEXT NOT NULL, {box}, land_uses TEXT NOT NULL, max_plot_ratio TEXT, height_limit_m TEXT,"
            " plan_name TEXT NOT NULL, retired INTEGER NOT NULL, retired_reason TEXT,"
            f" position {big} NOT NULL, last_position {big} NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bp_areas ("
            " code TEXT PRIMARY KEY, area_id TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,"
            f" region_code TEXT NOT NULL, geometry TEXT NOT NULL, {box}, result TEXT NOT NULL,"
            " valid_from TEXT NOT NULL, valid_until TEXT, retired INTEGER NOT NULL, retired_reason TEXT,"
            f" position {big} NOT NULL, last_position {big} NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bp_projects ("
            " code TEXT PRIMARY KEY, project_id TEXT NOT NULL, red_line_area_m2 TEXT, check_trigger TEXT,"
            " zones TEXT NOT NULL, conflicts TEXT NOT NULL, assessments TEXT NOT NULL,"
            f" checked_position {big}, last_position {big} NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bp_parcels ("
            f" parcel_code TEXT NOT NULL, project_code TEXT NOT NULL, position {big} NOT NULL,"
            " PRIMARY KEY (parcel_code, project_code))"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS bp_projects_id ON bp_projects (project_id)")
        cur.execute("CREATE INDEX IF NOT EXISTS bp_parcels_project ON bp_parcels (project_code)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        projects = Rows("bp_projects", "code", PROJECT_COLUMNS)
        code_of = {
            r["project_id"]: r["code"]
            for r in projects.load_by(
                cur,
                "project_id",
                {
                    str(cast(Any, env.event).originator_id)
                    for env in batch
                    if isinstance(env.event, PROJECT_EVENTS) and not isinstance(env.event, Project.Generated)
                },
            )
        }
        parcels: list[tuple[Any, ...]] = []
        for env in batch:
            e: Any = env.event
            if isinstance(e, BLUEPRINT_EVENTS):
                self._blueprint(cur, env)
            elif isinstance(e, Project.Generated):
                code_of[str(e.originator_id)] = e.code
                projects.insert(
                    {
                        "code": e.code,
                        "project_id": str(e.originator_id),
                        "red_line_area_m2": str(area_m2(e.red_line)) if e.red_line else None,
                        "check_trigger": None,
                        "zones": "[]",
                        "conflicts": "[]",
                        "assessments": "[]",
                        "checked_position": None,
                        "last_position": env.position,
                    }
                )
            elif isinstance(env.event, PROJECT_EVENTS):
                code = code_of.get(str(e.originator_id))
                if code is None:
                    raise LookupError(f"project {e.originator_id} not in the blueprint read model")
                if isinstance(e, Project.LandSupplied):
                    projects.update(code, {"red_line_area_m2": str(area_m2(e.red_line)), "last_position": env.position})
                elif isinstance(e, Project.BlueprintChecked):
                    projects.update(
                        code,
                        {
                            "check_trigger": e.trigger,
                            "zones": to_json(e.zones),
                            "conflicts": to_json(e.conflicts),
                            "assessments": to_json(e.assessments),
                            "checked_position": env.position,
                            "last_position": env.position,
                        },
                    )
                else:
                    parcels.append((e.parcel_code, code, env.position))
        projects.flush(cur)
        cur.insert_rows("bp_parcels", ("parcel_code", "project_code", "position"), parcels)

    def _blueprint(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        table, key = ("bp_zones", "zone_id") if isinstance(e, PlanZone.Event) else ("bp_areas", "area_id")
        if isinstance(e, PlanZone.Retired | AssessmentArea.Retired):
            cur.execute(
                f"UPDATE {table} SET retired = 1, retired_reason = ?, last_position = ? WHERE {key} = ?",  # noqa: S608
                (e.reason, env.position, str(e.originator_id)),
            )
            return
        row: dict[str, Any] = {"name": e.name, "geometry": to_json(e.geometry)}
        row |= dict(zip(("minx", "miny", "maxx", "maxy"), _bbox(e.geometry), strict=True))
        if table == "bp_zones":
            row |= {
                "land_uses": json.dumps(e.land_uses),
                "max_plot_ratio": _d(e.max_plot_ratio),
                "height_limit_m": _d(e.height_limit_m),
                "plan_name": e.plan_name,
            }
        else:
            row |= {
                "kind": e.kind,
                "result": e.result,
                "valid_from": e.valid_from.isoformat(),
                "valid_until": e.valid_until.isoformat() if e.valid_until else None,
            }
        if isinstance(e, PlanZone.Imported | AssessmentArea.Imported):
            row |= {
                "code": e.code,
                key: str(e.originator_id),
                "region_code": e.region_code,
                "retired": 0,
                "retired_reason": None,
                "position": env.position,
                "last_position": env.position,
            }
            cur.insert_rows(table, tuple(row), [tuple(row.values())])
        else:  # Replaced
            row["last_position"] = env.position
            cur.execute(
                f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in row)} WHERE {key} = ?",  # noqa: S608
                (*row.values(), str(e.originator_id)),
            )

    # --- queries ----------------------------------------------------------------------

    def candidates(self, red_line: dict[str, Any]) -> tuple[list[Zone], list[Area]]:
        """Live zones and areas whose bounding box meets the red line's (exact test: the check)."""
        minx, miny, maxx, maxy = _bbox(red_line)
        box = "retired = 0 AND maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?"
        params = (minx, maxx, miny, maxy)
        zones = [
            Zone(
                r["code"],
                json.loads(r["geometry"]),
                tuple(json.loads(r["land_uses"])),
                Decimal(r["max_plot_ratio"]) if r["max_plot_ratio"] else None,
                Decimal(r["height_limit_m"]) if r["height_limit_m"] else None,
            )
            for r in self.db.query(f"SELECT * FROM bp_zones WHERE {box}", params)  # noqa: S608
        ]
        areas = [
            Area(
                r["code"],
                r["kind"],
                r["name"],
                json.loads(r["geometry"]),
                r["result"],
                date.fromisoformat(r["valid_from"]),
                date.fromisoformat(r["valid_until"]) if r["valid_until"] else None,
            )
            for r in self.db.query(f"SELECT * FROM bp_areas WHERE {box}", params)  # noqa: S608
        ]
        return zones, areas

    def project(self, code: str) -> dict[str, Any] | None:
        rows = self.db.query("SELECT * FROM bp_projects WHERE code = ?", (code,))
        return rows[0] if rows else None

    def projects(self, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not codes:
            return {}
        marks = ", ".join("?" for _ in codes)
        return {
            r["code"]: r
            for r in self.db.query(f"SELECT * FROM bp_projects WHERE code IN ({marks})", list(codes))  # noqa: S608
        }

    def projects_of_parcel(self, parcel_code: str) -> list[str]:
        rows = self.db.query(
            "SELECT project_code FROM bp_parcels WHERE parcel_code = ? ORDER BY position", (parcel_code,)
        )
        return [r["project_code"] for r in rows]

    def parcels_of_project(self, project_code: str) -> list[str]:
        rows = self.db.query(
            "SELECT parcel_code FROM bp_parcels WHERE project_code = ? ORDER BY position", (project_code,)
        )
        return [r["parcel_code"] for r in rows]

    def zones(self, region_codes: Sequence[str] | None = None, include_retired: bool = False) -> list[dict[str, Any]]:
        return self._layer("bp_zones", region_codes, include_retired)

    def areas(self, region_codes: Sequence[str] | None = None, include_retired: bool = False) -> list[dict[str, Any]]:
        return self._layer("bp_areas", region_codes, include_retired)

    def _layer(self, table: str, region_codes: Sequence[str] | None, include_retired: bool) -> list[dict[str, Any]]:
        conditions, params = ([] if include_retired else ["retired = 0"]), list(region_codes or [])
        if region_codes:
            conditions.append(f"region_code IN ({', '.join('?' for _ in region_codes)})")
        where = " AND ".join(conditions) or "1 = 1"
        return self.db.query(f"SELECT * FROM {table} WHERE {where} ORDER BY position", params)  # noqa: S608


def blueprint_candidates(db: Database, red_line: dict[str, Any]) -> tuple[list[Zone], list[Area]]:
    return Blueprint(db).candidates(red_line)

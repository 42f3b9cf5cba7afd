"""宗地 — which projects a parcel code is linked to, across merged project codes (its own module: it
returns `Project`s, whose `land` field comes from blueprint.py, so neither module imports the other back)."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import strawberry
from strawberry.types import Info

from application.policy import in_scope
from domain.shared.codes import validate_parcel_code
from domain.shared.errors import InvalidValue
from interfaces.graphql.blueprint import canonical_row
from interfaces.graphql.common import actor_of, error, wait
from interfaces.graphql.context import Context
from interfaces.graphql.router import IsAuthenticated
from interfaces.graphql.types import Project, project_node
from projections.blueprint import Blueprint


@strawberry.type(description="宗地 — a parcel code and the projects linked to it (merged codes followed).")
class Parcel:
    code: str
    project_codes: list[str]
    projects: list[Project]


@strawberry.type
class ParcelQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="宗地 — the projects linked to a parcel code (宗地代码 → 项目代码), canonical codes after merges.",
    )
    async def parcel(self, info: Info[Context, None], code: str, at_least: int | None = None) -> Parcel:
        await wait(info, at_least)
        try:
            parcel_code = validate_parcel_code(code, "code")
        except InvalidValue as exc:
            raise error(exc.message, "BAD_USER_INPUT", 422) from None
        model = Blueprint(info.context.container.db)
        overview = info.context.projects
        linked = await anyio.to_thread.run_sync(model.projects_of_parcel, parcel_code)
        actor = actor_of(info)
        rows: dict[str, dict[str, Any]] = {}
        for linked_code in linked:
            row = await anyio.to_thread.run_sync(canonical_row, overview.get, linked_code)
            if row is None or row["code"] in rows:
                continue
            visible = (
                row["owner_uscc"] == actor.org
                if actor.role == "applicant"
                else actor.role == "admin" or in_scope(actor, row["region_code"])
            )
            if visible:
                rows[row["code"]] = row
        return Parcel(code=parcel_code, project_codes=list(rows), projects=[project_node(r) for r in rows.values()])

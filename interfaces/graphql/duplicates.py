"""GraphQL of 智能查重: `duplicateCandidates(filter, first, after, atLeast)`, merged into the schema's
Query in schema.py, and the alias following every field that takes a project code uses (`family`,
`family_page`). Scoring and blocking: projections/duplicates.py, docs/duplicates.md.

Readers: supervisors, analysts and admins (policy `duplicate.read`). A pair is listed to a reader
when both its projects lie in the reader's region: a pair across two cities is the province's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.types import Info

from application.policy import authorize
from domain.shared.codes import PROJECT_CODE_RE
from domain.shared.errors import Forbidden
from interfaces.graphql.common import actor_of, error, page, region_scope, wait
from interfaces.graphql.context import Context
from interfaces.graphql.router import IsAuthenticated
from interfaces.graphql.types import Connection, Project, connection, decode_cursor, project_node
from projections.duplicates import Duplicates, candidate_signals

Page = tuple[list[dict[str, Any]], bool, int]


def family(info: Info[Context, None], code: str) -> list[str]:
    """The codes one project code stands for: its canonical code first, then the aliases merged into
    it. Anything else (a case id, an actor) stands for itself, without a query."""
    if not PROJECT_CODE_RE.match(code):
        return [code]
    return Duplicates(info.context.container.db).family(code)


def family_page(fetch: Callable[[str], Page], codes: Sequence[str], key: str, first: int) -> Page:
    """One page over the rows of several project codes, from one page per code (each already after
    the cursor, in `key` order): the first `first` of their union are the page. The codes' rows are
    disjoint (a case or a warning has one project code), so the totals add up."""
    if len(codes) == 1:
        return fetch(codes[0])
    rows: list[dict[str, Any]] = []
    more, total = False, 0
    for code in codes:
        part, has_next, count = fetch(code)
        rows.extend(part)
        more = more or has_next
        total += count
    rows.sort(key=lambda r: r[key])
    return rows[:first], more or len(rows) > first, total


@strawberry.input(description="Filters for `duplicateCandidates`.")
class DuplicateFilter:
    region_code: str | None = strawberry.field(default=None, description="both projects lie in this region")
    min_score: float | None = strawberry.field(
        default=None, description="0–1; the threshold of duplicate_rules.toml by default"
    )


@strawberry.type(description="The signals a candidate's score is made of (docs/duplicates.md).")
class DuplicateSignals:
    same_owner: bool = strawberry.field(description="same owner USCC")
    name_similarity: float = strawberry.field(description="0–1, of the normalised names")
    red_line_overlap: float | None = strawberry.field(
        description="shared area / the smaller red line's area; null when a red line is missing"
    )
    same_region: bool = strawberry.field(description="same city/county unit")
    legacy_and_current_code: bool = strawberry.field(description="one code legacy, the other current, of one project")


@strawberry.type(
    description="疑似重复赋码 — two live project codes that may stand for one project, scored and explained."
)
class DuplicateCandidate:
    code_a: str
    code_b: str
    score: float = strawberry.field(description="0–1, weighted sum of the signals")
    reasons: list[str] = strawberry.field(description="e.g. 同一建设单位, 名称相似 0.93, 红线重叠 78%, 旧版/新版代码")
    signals: DuplicateSignals
    project_a: Project | None
    project_b: Project | None
    position: int = strawberry.field(description="log position of the change that (re)scored the pair")


def _node(row: dict[str, Any], projects: dict[str, dict[str, Any] | None]) -> DuplicateCandidate:
    s = candidate_signals(row)
    a, b = projects.get(row["code_a"]), projects.get(row["code_b"])
    return DuplicateCandidate(
        code_a=row["code_a"],
        code_b=row["code_b"],
        score=float(row["score"]),
        reasons=json.loads(row["reasons"]),
        signals=DuplicateSignals(
            same_owner=s["same_owner"],
            name_similarity=s["name"],
            red_line_overlap=s["overlap"],
            same_region=s["same_unit"],
            legacy_and_current_code=s["legacy_current"],
        ),
        project_a=project_node(a) if a else None,
        project_b=project_node(b) if b else None,
        position=int(row["position"]),
    )


@strawberry.type
class DuplicatesQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="智能查重 — duplicate-code candidates in the actor's region, highest score first.",
    )
    async def duplicate_candidates(
        self,
        info: Info[Context, None],
        filter: DuplicateFilter | None = None,
        first: int = 20,
        after: str | None = None,
        at_least: int | None = None,
    ) -> Connection[DuplicateCandidate]:
        await wait(info, at_least)
        actor = actor_of(info)
        try:
            authorize(actor, "duplicate.read")
        except Forbidden as exc:
            raise error(str(exc), "FORBIDDEN", 403) from None
        f = filter or DuplicateFilter()
        if f.min_score is not None and not 0 <= f.min_score <= 1:
            raise error("minScore must be between 0 and 1", "BAD_USER_INPUT", 422)
        try:
            cursor = decode_cursor(after)
        except ValueError as exc:
            raise error(str(exc), "BAD_USER_INPUT", 422) from None
        model = Duplicates(info.context.container.db)
        rows, has_next, total = await anyio.to_thread.run_sync(
            partial(
                model.candidates,
                min_score=f.min_score,
                region_scope=region_scope(actor, f.region_code),
                after=cursor,
                first=page(first),
            )
        )
        overview = info.context.projects

        def load() -> dict[str, dict[str, Any] | None]:
            return {c: overview.get(c) for r in rows for c in (r["code_a"], r["code_b"])}

        projects = await anyio.to_thread.run_sync(load)
        # the cursor is the offset in the queue (highest score first)
        return connection([(cursor + i + 1, _node(r, projects)) for i, r in enumerate(rows)], has_next, total)


__all__ = ["DuplicatesQuery", "family", "family_page"]

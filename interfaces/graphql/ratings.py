"""好差评 analysis (`ratings`) and 综合窗口考核 (`windowAssessment`), merged into the schema's Query.

Officials see their region (a narrower filter inside it is allowed); an applicant sees only its
own ratings and feedback. "Late and still not rectified" depends on today: the container's clock.
"""

from __future__ import annotations

from enum import Enum
from functools import partial
from typing import Annotated

import anyio.to_thread
import strawberry
from strawberry.types import Info

from domain.shared.events import SHANGHAI
from interfaces.graphql.common import actor_of, error, region_scope, wait
from interfaces.graphql.context import Context
from interfaces.graphql.personal import may_see_personal_data, personal
from interfaces.graphql.router import IsAuthenticated
from projections.ratings import Ratings
from projections.window_assessment import WindowAssessment


@strawberry.enum(description="How `ratings` groups: by item, department, region, month of the rating, or clerk.")
class RatingsGroupBy(Enum):
    ITEM = "ITEM"
    DEPARTMENT = "DEPARTMENT"
    REGION = "REGION"
    MONTH = "MONTH"
    CLERK = "CLERK"


@strawberry.enum(description="How `windowAssessment` groups: per window clerk, or per window (organisation).")
class WindowGroupBy(Enum):
    CLERK = "CLERK"
    WINDOW = "WINDOW"


@strawberry.input(description="Filters for `ratings`; month is YYYY-MM (of the rating).")
class RatingsFilter:
    region_code: str | None = None
    department: str | None = None
    item_code: str | None = None
    month: str | None = None


@strawberry.input(description="Filters for `windowAssessment`; month is YYYY-MM, org the window's organisation.")
class WindowAssessmentFilter:
    region_code: str | None = None
    month: str | None = None
    org: str | None = None


@strawberry.type(description="Ratings at one level (ratings.csv).")
class LevelCount:
    level: int
    name: str
    count: int


@strawberry.type(description="好差评 — one group's ratings, bad reviews, rectification, follow-up and feedback.")
class RatingGroup:
    key: str
    label: str
    total: int
    by_level: list[LevelCount]
    bad_count: int = strawberry.field(description="差评: levels 1–2")
    bad_rate: float
    rectified_on_time: int = strawberry.field(description="bad reviews first rectified within 15 working days")
    rectification_overdue: int = strawberry.field(
        description="bad reviews rectified late, or not rectified and past their deadline today"
    )
    followed_up: int = strawberry.field(description="bad reviews followed up (回访)")
    feedback_count: int = strawberry.field(description="体验员 and applicant feedback about the group")


@strawberry.type(description="综合窗口考核 — one window clerk's (or one window's) acceptance work and satisfaction.")
class WindowAssessmentRow:
    clerk_id: str | None = personal("null when grouped by window")
    org: str
    region_code: str = strawberry.field(description="the narrowest region containing the cases handled")
    accepted: int
    not_accepted: int
    refused_at_acceptance: int
    corrections_requested: int
    mean_hours_to_accept: float | None
    p90_hours_to_accept: float | None = strawberry.field(description="90th percentile by nearest rank")
    ratings: int
    mean_rating: float | None
    bad_reviews: int


def _month(month: str | None) -> str | None:
    if month is not None and not (len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()):
        raise error("month is YYYY-MM", "BAD_USER_INPUT", 422)
    return month


def _per_person(role: str) -> None:
    """Per-clerk figures assess a person: personal data, even with the clerk's id withheld."""
    if not may_see_personal_data(role):
        raise error(f"role {role} reads aggregates without personal data: group by WINDOW", "FORBIDDEN", 403)


@strawberry.type
class RatingsQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="好差评 — ratings grouped by item, department, region, month or clerk, in the actor's scope.",
    )
    async def ratings(
        self,
        info: Info[Context, None],
        group_by: RatingsGroupBy,
        filter: RatingsFilter | None = None,
        at_least: int | None = None,
    ) -> list[RatingGroup]:
        await wait(info, at_least)
        f = filter or RatingsFilter()
        actor = actor_of(info)
        if group_by == RatingsGroupBy.CLERK:
            _per_person(actor.role)
        container = info.context.container
        groups = await anyio.to_thread.run_sync(
            partial(
                Ratings(container.db).groups,
                group_by.value,
                today=container.clock.now().astimezone(SHANGHAI).date(),
                region_scope=f.region_code if actor.role == "applicant" else region_scope(actor, f.region_code),
                department=f.department,
                item_code=f.item_code,
                month=_month(f.month),
                applicant_org=actor.org if actor.role == "applicant" else None,
            )
        )
        return [
            RatingGroup(
                key=g["key"],
                label=g["label"],
                total=g["total"],
                by_level=[LevelCount(level=lv, name=name, count=n) for lv, name, n in g["by_level"]],
                bad_count=g["bad_count"],
                bad_rate=g["bad_rate"],
                rectified_on_time=g["rectified_on_time"],
                rectification_overdue=g["rectification_overdue"],
                followed_up=g["followed_up"],
                feedback_count=g["feedback_count"],
            )
            for g in groups
        ]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="综合窗口考核 — acceptance work, time to accept and satisfaction per window clerk or window.",
    )
    async def window_assessment(
        self,
        info: Info[Context, None],
        filter: WindowAssessmentFilter | None = None,
        group_by: Annotated[
            WindowGroupBy | None,
            strawberry.argument(
                description="default: CLERK, or WINDOW for a role that reads aggregates only (analyst)"
            ),
        ] = None,
        at_least: int | None = None,
    ) -> list[WindowAssessmentRow]:
        await wait(info, at_least)
        f = filter or WindowAssessmentFilter()
        actor = actor_of(info)
        if actor.role == "applicant":
            raise error("window assessment is for officials", "FORBIDDEN", 403)
        if group_by is None:  # a bare query answers every official, each as far as they may read
            group_by = WindowGroupBy.CLERK if may_see_personal_data(actor.role) else WindowGroupBy.WINDOW
        if group_by == WindowGroupBy.CLERK:
            _per_person(actor.role)
        rows = await anyio.to_thread.run_sync(
            partial(
                WindowAssessment(info.context.container.db).assess,
                by_window=group_by == WindowGroupBy.WINDOW,
                region_scope=region_scope(actor, f.region_code),
                month=_month(f.month),
                org=f.org,
            )
        )
        return [WindowAssessmentRow(**r) for r in rows]

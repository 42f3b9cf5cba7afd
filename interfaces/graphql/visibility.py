"""Who may see what: a project or case of the actor's scope (an applicant: its own), and audit
trails (审计追溯). Shared by the schema and the modules merged into it."""

from __future__ import annotations

from uuid import UUID

from strawberry.types import Info

from application.policy import authorize, in_scope
from domain.shared.errors import Forbidden
from interfaces.graphql.common import actor_of, error
from interfaces.graphql.context import Context


def check_visible(info: Info[Context, None], region_code: str, owner_org: str) -> None:
    actor = actor_of(info)
    if actor.role == "applicant":
        if owner_org != actor.org:
            raise error("an applicant sees only its own projects and cases", "FORBIDDEN", 403)
    elif actor.role != "admin" and not in_scope(actor, region_code):
        raise error(f"region {region_code} is outside the actor's scope {actor.region}", "FORBIDDEN", 403)


def check_trail_visible(info: Info[Context, None], subject: str) -> None:
    """审计追溯 of a project or case in the actor's scope (an applicant: its own), or of the actor's own
    actions; another actor's trail only province-wide. Anything else is 403, never rows (OWASP API1)."""
    actor = actor_of(info)
    try:
        authorize(actor, "audit.read")
    except Forbidden as exc:
        raise error(str(exc), "FORBIDDEN", 403) from None
    if subject in (actor.actor_id, actor.org) or (actor.role != "applicant" and in_scope(actor, "460000")):
        return
    if actor.role == "admin":
        return
    project = info.context.projects.get(subject)
    if project is not None:
        check_visible(info, project["region_code"], project["owner_uscc"])
        return
    try:
        case = info.context.cases.get(str(UUID(subject)))
    except ValueError:
        case = None
    if case is not None:
        check_visible(info, case["region_code"], case["applicant_org"])
        return
    raise error(
        "outside the actor's scope: trace projects and cases of your scope, or your own actions", "FORBIDDEN", 403
    )

"""The typed per-request context: the container, the actor, and this request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from application.bootstrap import Container
from application.policy import Actor
from projections.audit_trail import AuditTrail
from projections.case_timeline import CaseTimeline
from projections.project_overview import ProjectOverview

READ_VIEW = "graphql_read_view"  # key in Container.extras


def read_view(container: Container) -> Container:
    """The container GraphQL sees: with a read replica configured, the same services (commands go to
    the primary through them) but `db` is the replica's, so every resolver's read-model query goes
    there. Built once per container."""
    replica = container.replica
    if replica is None:
        return container
    view = container.extras.get(READ_VIEW)
    if not isinstance(view, Container):
        view = replace(container, db=replica.db)
        container.extras[READ_VIEW] = view
    return view


@dataclass
class Context(BaseContext):
    container: Container
    actor: Actor | None
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)
    withheld: set[str] = field(default_factory=set)  # personal-data fields withheld (interfaces/graphql/personal.py)

    def __post_init__(self) -> None:
        super().__init__()
        self.container = read_view(self.container)

    @property
    def cases(self) -> CaseTimeline:
        return CaseTimeline(self.container.db)

    @property
    def projects(self) -> ProjectOverview:
        return ProjectOverview(self.container.db)

    @property
    def audit(self) -> AuditTrail:
        return AuditTrail(self.container.db)

"""The composition root: builds the store, the services, the read-model database and the
projection engine from Settings. Nothing else constructs infrastructure."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from application.app import GongjianApplication
from application.approvals import CaseService
from application.clock import Clock, SystemClock
from application.projects import ProjectService
from infrastructure.db import Database, DatabaseURL
from infrastructure.settings import Settings
from infrastructure.store import make_append_only, open_store, position_of


@dataclass
class Container:
    settings: Settings
    app: GongjianApplication
    db: Database
    clock: Clock
    projects: ProjectService
    cases: CaseService
    extras: dict[str, object] = field(default_factory=dict)

    def close(self) -> None:
        self.db.close()
        self.app.close()


def bootstrap(settings: Settings | None = None, clock: Clock | None = None) -> Container:
    settings = settings or Settings()
    url = DatabaseURL(settings.database_url)
    app = open_store(url, settings.postgres_lock_timeout_s)
    db = url.open()
    make_append_only(db)
    clock = clock or SystemClock()
    locate = partial(position_of, db)
    return Container(
        settings=settings,
        app=app,
        db=db,
        clock=clock,
        projects=ProjectService(app, clock, locate),
        cases=CaseService(app, clock, locate),
    )

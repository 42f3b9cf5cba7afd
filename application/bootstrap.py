"""The composition root: builds the store, the services, the read-model database and the
projection engine from Settings. Nothing else constructs infrastructure."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from application.app import GongjianApplication
from application.approvals import CaseService
from application.archives import ArchiveService, Backoff
from application.automation import Automation
from application.blueprint import BlueprintService
from application.clock import Clock, SystemClock
from application.delivery import DeliveryService, Routes
from application.exchange import ExchangeService
from application.licences import LicenceService
from application.projects import ProjectService
from application.ratings import FeedbackService, RatingService
from application.signatures import MemoryCodeSender, SealService, SigningService, VerificationService
from application.spgl import SpglService
from application.supervision import SupervisionService
from domain.exchange import RetrySchedule
from infrastructure.archives import ArchiveStore, HttpArchiveSystem
from infrastructure.broadcast import Broadcaster
from infrastructure.db import Database, DatabaseURL
from infrastructure.delivery import HttpSender
from infrastructure.keystore import EncryptedFileKeyStore
from infrastructure.notify import PostgresListener, RedisNotifier, Waker, WakeSource
from infrastructure.settings import Settings
from infrastructure.store import events_table, make_append_only, open_store, position_of
from projections.blueprint import blueprint_candidates
from projections.engine import ProjectionEngine
from projections.inquiries import find_warning
from projections.ledger import ledger_config
from projections.registry import all_read_models
from projections.spgl_exchange import export_rows, known_key


@dataclass
class Container:
    settings: Settings
    app: GongjianApplication
    db: Database
    clock: Clock
    projects: ProjectService
    blueprint: BlueprintService
    cases: CaseService
    exchange: ExchangeService
    spgl: SpglService
    supervision: SupervisionService
    ratings: RatingService
    feedback: FeedbackService
    seals: SealService
    signing: SigningService
    verifications: VerificationService
    archives: ArchiveService
    licences: LicenceService
    engine: ProjectionEngine
    waker: Waker
    live: Broadcaster
    automation: Automation
    deliveries: DeliveryService
    extras: dict[str, object] = field(default_factory=dict)

    def close(self) -> None:
        self.automation.stop()
        self.engine.stop()
        self.live.close()
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
    live = Broadcaster(settings.redis_url)
    keys = EncryptedFileKeyStore(
        settings.keystore_path, settings.keystore_passphrase, allow_dev_passphrase=settings.embedded
    )
    engine = _projection_engine(settings, url, app, db, live)
    licences = LicenceService(app, clock, locate, keys)
    archives = ArchiveService(
        app,
        clock,
        locate,
        engine.models["ledger"],  # type: ignore[arg-type]
        ArchiveStore(settings.archive_path),
        HttpArchiveSystem(settings.archive_transfer_url),
        Backoff(settings.archive_retry_base_s, settings.archive_retry_cap_s, settings.archive_max_attempts),
    )
    return Container(
        settings=settings,
        app=app,
        db=db,
        clock=clock,
        projects=ProjectService(
            app,
            clock,
            locate,
            partial(_blueprint_lookup, engine, db),
            Decimal(str(settings.land_area_tolerance)),
        ),
        blueprint=BlueprintService(app, clock, locate),
        cases=CaseService(app, clock, locate),
        exchange=ExchangeService(app, clock, locate),
        spgl=SpglService(
            app,
            clock,
            locate,
            partial(known_key, db),
            partial(engine.catch_up, ["spgl_exchange"]),
            partial(export_rows, db),
        ),
        supervision=SupervisionService(app, clock, locate, partial(find_warning, db)),
        ratings=RatingService(app, clock, locate),
        feedback=FeedbackService(app, clock, locate),
        seals=SealService(app, clock, locate, keys),
        signing=SigningService(app, clock, locate, keys, MemoryCodeSender(), reveal_codes=settings.embedded),
        verifications=VerificationService(app, clock, locate),
        archives=archives,
        licences=licences,
        engine=engine,
        waker=engine.waker,
        live=live,
        automation=Automation(app, db, clock, licences, archives, engine.waker),
        deliveries=DeliveryService(
            app,
            clock,
            locate,
            db,
            HttpSender(settings.delivery_urls, settings.delivery_timeout_s),
            RetrySchedule(
                settings.delivery_retry_base_s, settings.delivery_retry_cap_s, settings.delivery_max_attempts
            ),
            Routes(tuple(settings.delivery_utilities), tuple(settings.delivery_utility_items)),
            archives,
        ),
    )


def _blueprint_lookup(engine: ProjectionEngine, db: Database, red_line: dict[str, Any]) -> Any:
    """Project commands see the blueprint as of now: the read model is caught up first."""
    engine.catch_up(["blueprint"])
    return blueprint_candidates(db, red_line)


def _projection_engine(
    settings: Settings, url: DatabaseURL, app: GongjianApplication, db: Database, live: Broadcaster
) -> ProjectionEngine:
    """Wake-ups: in-process saves always; Redis across processes if configured; LISTEN/NOTIFY on
    PostgreSQL. SQLite has no subscription, so the runner also polls, more often."""
    waker = Waker()
    app.after_save.append(waker.notify)
    sources: list[WakeSource] = []
    projected: list[RedisNotifier] = []  # batch commits, so that wait_for in any process wakes on them
    if settings.redis_url:
        notifier = RedisNotifier(settings.redis_url)
        app.after_save.append(notifier.publish)
        sources.append(notifier)
        projected.append(RedisNotifier(settings.redis_url, "gongjian:projected"))
    if url.scheme == "postgresql":
        sources.append(PostgresListener(url.conninfo, events_table(db)))
    engine = ProjectionEngine(
        app,
        db,
        all_read_models(db, ledger_config(settings)),
        batch_size=settings.batch_size,
        waker=waker,
        sources=sources,
        idle_timeout=0.5 if url.scheme == "sqlite" else 1.0,
        publisher=live.publish,
        announce=projected[0].publish if projected else None,
        progress_sources=projected,
    )
    engine.setup()
    return engine

"""The composition root: builds the store, the services, the read-model database and the
projection engine from Settings. Nothing else constructs infrastructure."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from application.approvals import CaseService
from application.archives import ArchiveService
from application.assessment_reviews import AssessmentReviewService
from application.automation import Automation
from application.blueprint import BlueprintService
from application.catalogue import CatalogueService, PinMemory
from application.catalogue_editions import CatalogueEditionService
from application.clock import Clock, SystemClock
from application.delivery import DeliveryService, Routes
from application.drawings import DrawingService
from application.exchange import ExchangeService
from application.forms import FormService
from application.guidance import GuidanceService
from application.industry import IndustryService
from application.intermediaries import AgencyService, ServiceOrderService
from application.licences import LicenceService
from application.mobile_codes import CodeDispatcher, CodeSender
from application.multiplan import MultiPlanService
from application.ports import CaseFigures as CaseFiguresPort
from application.ports import QualityFacts as QualityFactsPort
from application.ports import SupervisionFacts as SupervisionFactsPort
from application.projects import ProjectService
from application.ratings import FeedbackService, RatingService
from application.rule_approval import LicenceLocator
from application.signatures import MemoryCodeSender, SealService, SigningService, VerificationService
from application.spgl import SpglService
from application.supervision import SupervisionService
from application.work_calendar import WorkCalendarService
from domain.catalog import on_unknown_item, reset_to_seed
from domain.exchange import RetrySchedule
from infrastructure.archives import ArchiveStore, HttpArchiveSystem
from infrastructure.broadcast import Broadcaster
from infrastructure.db import Database, DatabaseURL
from infrastructure.delivery import HttpSender
from infrastructure.ifc import parse_ifc
from infrastructure.keystore import EncryptedFileKeyStore
from infrastructure.log import GongjianApplication
from infrastructure.notify import PostgresListener, RedisNotifier, Waker, WakeSource
from infrastructure.replica import ReadReplica
from infrastructure.settings import EMBEDDED_DEFAULT, Settings
from infrastructure.sms import HttpCodeSender
from infrastructure.store import (
    events_table,
    install_latest_edition,
    make_append_only,
    open_store,
    position_of,
    stored_versions,
)
from projections.case_figures import CaseFigures
from projections.engine import ProjectionEngine
from projections.ledger import ledger_config
from projections.lookups import AgencyPool, BlueprintLookup, LicenceLookup, OpenCases, SpglKeys, WarningLookup
from projections.quality_facts import QualityFacts
from projections.registry import all_read_models
from projections.supervision_facts import SupervisionFacts


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
    catalogue: CatalogueService
    catalogue_editions: CatalogueEditionService  # 事项库发布 (issue 17)
    guidance: GuidanceService
    forms: FormService
    drawings: DrawingService
    industry: IndustryService
    multiplan: MultiPlanService
    agencies: AgencyService
    service_orders: ServiceOrderService
    assessment_reviews: AssessmentReviewService
    work_calendars: WorkCalendarService  # 工作日历 (issue 17)
    figures: CaseFiguresPort  # what statistics, the monthly report and data quality read
    quality: QualityFactsPort  # what data quality reads besides
    supervised: SupervisionFactsPort  # what the monthly report's supervisor sections read
    extras: dict[str, object] = field(default_factory=dict)
    replica: ReadReplica | None = None  # GONGJIAN_READ_DATABASE_URL: GraphQL's reads (docs/scaling.md)

    def close(self) -> None:
        if self.signing.codes is not None:
            self.signing.codes.stop()
        self.engine.stop()
        self.live.close()
        self.db.close()
        if self.replica is not None:
            self.replica.close()
        self.app.close()


log = logging.getLogger("gongjian")


def bootstrap(
    settings: Settings | None = None, clock: Clock | None = None, code_sender: CodeSender | None = None
) -> Container:
    """`code_sender`: tests hand in their own (e.g. `MemoryCodeSender`), which turns mobile signing on."""
    settings = settings or Settings()
    if settings.development and settings.database_url != EMBEDDED_DEFAULT:
        log.warning(
            "DEVELOPMENT MODE on %s (GONGJIAN_DEVELOPMENT=true): the public development JWT key is accepted, "
            "tokens are minted and signing codes are returned in responses. Never on a production store.",
            settings.database_url,
        )
    url = DatabaseURL(settings.database_url)
    app = open_store(url, settings.postgres_lock_timeout_s)
    db = url.open()
    make_append_only(db)
    clock = clock or SystemClock()
    locate = partial(position_of, db)
    pins = PinMemory(partial(stored_versions, db))  # one per process: cases and catalogue share it
    reset_to_seed()  # this store's catalogue in force, not another's this process opened before
    install_latest_edition(app, locate)
    on_unknown_item(partial(install_latest_edition, app, locate))  # an edition another process published
    live = Broadcaster(settings.redis_url)
    keys = EncryptedFileKeyStore(
        settings.keystore_path, settings.keystore_passphrase, allow_dev_passphrase=settings.development_mode
    )
    engine = _projection_engine(settings, url, app, db, live)
    licence_library = LicenceLookup(db, engine.catch_up)  # 电子证照库 as commands and the applicant's side see it
    codes = _mobile_codes(settings, app, clock, locate, code_sender)
    licences = LicenceService(app, clock, locate, keys)
    drawings = DrawingService(app, clock, locate)
    multiplan = MultiPlanService(app, clock, locate)
    archives = ArchiveService(
        app,
        clock,
        locate,
        engine.models["ledger"],  # type: ignore[arg-type]
        ArchiveStore(settings.archive_path),
        HttpArchiveSystem(settings.archive_transfer_url),
        RetrySchedule(settings.archive_retry_base_s, settings.archive_retry_cap_s, settings.archive_max_attempts),
        drawings=drawings.approved_for_case,
    )
    catalogue = CatalogueService(app, clock, locate, memory=pins)
    # process managers: the engine drives them from its own tracking table (run(managers=True))
    automation = Automation(app, db, clock, licences, archives, engine.managers)
    deliveries = DeliveryService(
        app,
        clock,
        locate,
        HttpSender(settings.delivery_urls, settings.delivery_timeout_s),
        RetrySchedule(settings.delivery_retry_base_s, settings.delivery_retry_cap_s, settings.delivery_max_attempts),
        Routes(tuple(settings.delivery_utilities), tuple(settings.delivery_utility_items)),
        archives,
        driver=engine.managers,
    )
    engine.managers.add(automation, deliveries)
    return Container(
        settings=settings,
        app=app,
        db=db,
        clock=clock,
        projects=ProjectService(
            app,
            clock,
            locate,
            BlueprintLookup(db, engine.catch_up),
            Decimal(str(settings.land_area_tolerance)),
            multiplan.control_lines,
        ),
        blueprint=BlueprintService(app, clock, locate),
        cases=CaseService(app, clock, locate, LicenceLocator(app, licence_library), pins),
        exchange=ExchangeService(app, clock, locate),
        spgl=SpglService(app, clock, locate, SpglKeys(db, engine.catch_up)),
        supervision=SupervisionService(app, clock, locate, WarningLookup(db)),
        ratings=RatingService(app, clock, locate),
        feedback=FeedbackService(app, clock, locate),
        seals=SealService(app, clock, locate, keys),
        signing=SigningService(app, clock, locate, keys, codes, reveal_codes=settings.development_mode),
        verifications=VerificationService(app, clock, locate),
        archives=archives,
        agencies=AgencyService(app, clock, locate),
        service_orders=ServiceOrderService(app, clock, locate, keys, AgencyPool(db, engine.catch_up)),
        assessment_reviews=AssessmentReviewService(app, clock, locate),
        drawings=drawings,
        industry=IndustryService(app, clock, locate, parse_ifc, licence_library),
        multiplan=multiplan,
        licences=licences,
        engine=engine,
        figures=CaseFigures(db),
        quality=QualityFacts(db),
        supervised=SupervisionFacts(db),
        waker=engine.waker,
        live=live,
        automation=automation,
        deliveries=deliveries,
        catalogue=catalogue,
        catalogue_editions=CatalogueEditionService(app, clock, locate, flows=catalogue),
        guidance=GuidanceService(app, clock, locate, licence_library),
        forms=FormService(app, clock, locate, licence_library),
        work_calendars=WorkCalendarService(app, clock, locate, open_cases=OpenCases(db, engine.catch_up)),
        replica=ReadReplica(settings.read_database_url, db) if settings.read_database_url else None,
    )


def _mobile_codes(
    settings: Settings, app: GongjianApplication, clock: Clock, locate: Any, sender: CodeSender | None
) -> CodeDispatcher | None:
    """移动签章: the SMS gateway when configured; codes in memory in development mode only (Settings
    refuses GONGJIAN_MOBILE_SIGNING=true without a gateway elsewhere); None: mobile signing is off."""
    if sender is None:
        if not settings.mobile_signing_on:
            return None
        if settings.sms_url:
            sender = HttpCodeSender(settings.sms_url, settings.sms_token, settings.sms_template, settings.sms_timeout_s)
        else:
            sender = MemoryCodeSender()
    return CodeDispatcher(
        app,
        clock,
        locate,
        sender,
        RetrySchedule(settings.sms_retry_base_s, settings.sms_retry_cap_s, max_attempts=None),
    )


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

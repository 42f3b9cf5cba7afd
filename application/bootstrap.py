"""The composition root: builds the store, the services, the read-model database and the
projection engine from Settings. Nothing else constructs infrastructure."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

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
from projections.blueprint import blueprint_candidates
from projections.case_figures import CaseFigures
from projections.engine import ProjectionEngine
from projections.inquiries import find_warning
from projections.ledger import ledger_config
from projections.quality_facts import QualityFacts
from projections.registry import all_read_models
from projections.spgl_exchange import export_rows, known_key
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
            partial(_blueprint_lookup, engine, db),
            Decimal(str(settings.land_area_tolerance)),
            multiplan.control_lines,
        ),
        blueprint=BlueprintService(app, clock, locate),
        cases=CaseService(app, clock, locate, LicenceLocator(app, partial(_licence_numbers, engine)), pins),
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
        signing=SigningService(app, clock, locate, keys, codes, reveal_codes=settings.development_mode),
        verifications=VerificationService(app, clock, locate),
        archives=archives,
        agencies=AgencyService(app, clock, locate),
        service_orders=ServiceOrderService(app, clock, locate, keys, partial(_agency_pool, engine)),
        assessment_reviews=AssessmentReviewService(app, clock, locate),
        drawings=drawings,
        industry=IndustryService(app, clock, locate, parse_ifc, partial(_permit_area, engine)),
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
        guidance=GuidanceService(app, clock, locate, partial(_valid_licence, engine)),
        forms=FormService(app, clock, locate, partial(_valid_licence, engine)),
        work_calendars=WorkCalendarService(app, clock, locate, open_cases=partial(_open_cases, engine)),
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


def _open_cases(engine: ProjectionEngine, year: int) -> list[UUID]:
    """工作日历: the open cases a publication judges again, from the caught-up case timeline (each is
    checked again on its aggregate)."""
    engine.catch_up(["case_timeline"])
    timeline: Any = engine.models["case_timeline"]
    return [UUID(case_id) for case_id in timeline.open_cases(year)]


def _blueprint_lookup(engine: ProjectionEngine, db: Database, red_line: dict[str, Any]) -> Any:
    """Project commands see the blueprint as of now: the read model is caught up first."""
    engine.catch_up(["blueprint"])
    return blueprint_candidates(db, red_line)


def _licence_numbers(engine: ProjectionEngine, project_code: str, holder_uscc: str, licence_type: str) -> list[str]:
    """智能审批: the licences the library already knows (not caught up: commands never wait for a read
    model; application/rule_approval.py LicenceLocator reads the approvals' documents from the log)."""
    library: Any = engine.models["licence_library"]
    rows, _more, _total = library.search(
        today=date.min, project_code=project_code, holder_uscc=holder_uscc, licence_type=licence_type, first=50
    )
    return [str(r["number"]) for r in rows]


def _agency_pool(engine: ProjectionEngine, service_type: str) -> list[str]:
    """中介超市: the draw's candidates from the caught-up read model (each checked again on its aggregate)."""
    engine.catch_up(["intermediaries"])
    market: Any = engine.models["intermediaries"]
    return list(market.pool(service_type))


def _valid_licence(
    engine: ProjectionEngine, licence_type: str, topic: list[tuple[str, str]], today: date
) -> dict[str, Any] | None:
    """智能引导/智能表单: a licence valid today matching the topic fields, from the caught-up library."""
    engine.catch_up(["licence_library"])
    library: Any = engine.models["licence_library"]
    rows, _more, _total = library.search(today=today, licence_type=licence_type, status="valid", topic=topic, first=1)
    return dict(rows[0]) if rows else None


def _permit_area(engine: ProjectionEngine, project_code: str, owner_uscc: str) -> Decimal | None:
    """BIM 图审: the approved building area of the project's latest engineering planning permit."""
    engine.catch_up(["licence_library"])
    library: Any = engine.models["licence_library"]
    rows, _more, _total = library.search(
        today=date.min, project_code=project_code, holder_uscc=owner_uscc, licence_type="engineering_planning_permit"
    )
    areas = [r["topic"].get("building_area") for r in rows if r.get("status") != "revoked"]
    return Decimal(str(areas[-1])) if areas and areas[-1] else None


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

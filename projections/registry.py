"""Every read model the engine runs, by name."""

from __future__ import annotations

from infrastructure.db import Database
from projections.audit_trail import AuditTrail
from projections.base import ReadModel
from projections.blueprint import Blueprint
from projections.case_timeline import CaseTimeline
from projections.deliveries import Deliveries
from projections.duplicates import Duplicates
from projections.feedback import FeedbackReports
from projections.industry import Industry
from projections.inquiries import Inquiries
from projections.intermediaries import Intermediaries
from projections.ledger import Ledger, LedgerConfig
from projections.licence_library import LicenceLibrary
from projections.offline_warnings import OfflineWarnings
from projections.process_catalogue import ProcessCatalogue
from projections.project_overview import ProjectOverview
from projections.ratings import Ratings
from projections.spgl_exchange import SpglExchange
from projections.utility_connections import UtilityConnections
from projections.window_assessment import WindowAssessment

READ_MODELS: tuple[type[ReadModel], ...] = (
    AuditTrail,
    CaseTimeline,
    ProjectOverview,
    Inquiries,
    OfflineWarnings,
    Ratings,
    FeedbackReports,
    WindowAssessment,
    LicenceLibrary,
    Deliveries,
    Ledger,
    SpglExchange,
    Blueprint,
    Duplicates,
    Intermediaries,
    UtilityConnections,
    Industry,
    ProcessCatalogue,
)


def all_read_models(db: Database, ledger: LedgerConfig | None = None) -> list[ReadModel]:
    """`ledger`: the ledger's algorithm, checkpoint interval and signer (from Settings, in bootstrap)."""
    return [Ledger(db, ledger) if cls is Ledger else cls(db) for cls in READ_MODELS]

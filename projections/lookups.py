"""What commands need from the read side, as the objects the composition root hands the services
(they implement the ports BlueprintLookup, LicenceLookup, AgencyPool, OpenCases, SpglKeys and
WarningLookup of application/ports.py). `catch_up` is the engine's (bootstrap passes
`engine.catch_up`): a port that answers as of the log head brings its read model up to date when
asked, which is before a command's `work` and outside its save's transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

from domain.blueprint.check import Area, Zone
from infrastructure.db import Database
from projections.blueprint import Blueprint
from projections.case_timeline import CaseTimeline
from projections.inquiries import find_warning
from projections.intermediaries import Intermediaries
from projections.licence_library import LicenceLibrary
from projections.spgl_exchange import SpglExchange, export_rows, known_key

CatchUp = Callable[[Sequence[str]], object]


class BlueprintLookup:
    def __init__(self, db: Database, catch_up: CatchUp) -> None:
        self.model, self.catch_up = Blueprint(db), catch_up

    def candidates(self, red_line: dict[str, Any]) -> tuple[list[Zone], list[Area]]:
        self.catch_up([self.model.name])
        return self.model.candidates(red_line)


class LicenceLookup:
    def __init__(self, db: Database, catch_up: CatchUp) -> None:
        self.library, self.catch_up = LicenceLibrary(db), catch_up

    def numbers(self, project_code: str, holder_uscc: str, licence_type: str) -> list[str]:
        # not caught up: rule approval reads the project's own documents from the log (LicenceLocator)
        rows, _more, _total = self.library.search(
            today=date.min, project_code=project_code, holder_uscc=holder_uscc, licence_type=licence_type, first=50
        )
        return [str(r["number"]) for r in rows]

    def valid_licence(self, licence_type: str, topic: list[tuple[str, str]], today: date) -> dict[str, Any] | None:
        self.catch_up([self.library.name])
        rows, _more, _total = self.library.search(
            today=today, licence_type=licence_type, status="valid", topic=topic, first=1
        )
        return dict(rows[0]) if rows else None

    def permit_area(self, project_code: str, owner_uscc: str) -> Decimal | None:
        self.catch_up([self.library.name])
        rows, _more, _total = self.library.search(
            today=date.min,
            project_code=project_code,
            holder_uscc=owner_uscc,
            licence_type="engineering_planning_permit",
        )
        areas = [r["topic"].get("building_area") for r in rows if r.get("status") != "revoked"]
        return Decimal(str(areas[-1])) if areas and areas[-1] else None


class AgencyPool:
    def __init__(self, db: Database, catch_up: CatchUp) -> None:
        self.market, self.catch_up = Intermediaries(db), catch_up

    def pool(self, service_type: str) -> list[str]:
        self.catch_up([self.market.name])
        return self.market.pool(service_type)


class OpenCases:
    def __init__(self, db: Database, catch_up: CatchUp) -> None:
        self.timeline, self.catch_up = CaseTimeline(db), catch_up

    def open_cases(self, year: int) -> list[UUID]:
        self.catch_up([self.timeline.name])
        return [UUID(case_id) for case_id in self.timeline.open_cases(year)]


class SpglKeys:
    def __init__(self, db: Database, catch_up: CatchUp) -> None:
        self.db, self.catch_up = db, catch_up

    def known_keys(self) -> Callable[[str, str], bool]:
        self.catch_up([SpglExchange.name])
        return partial(known_key, self.db)

    def export(self, since: int) -> dict[str, list[dict[str, str]]]:
        self.catch_up([SpglExchange.name])
        return export_rows(self.db, since)


class WarningLookup:
    def __init__(self, db: Database) -> None:
        self.db = db

    def warning(self, warning_id: str) -> dict[str, Any] | None:
        return find_warning(self.db, warning_id)

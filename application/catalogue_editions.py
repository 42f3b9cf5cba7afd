"""事项库发布 — an administrator publishes an edition of the item catalogue (REST, `gongjian catalogue
import PATH`): checked whole (every bad row reported, nothing recorded when one is bad), recorded as
one `Catalogue` event with, in the same atomic save, a new version of each flow its `flows` sheet
lists; then put in force in this process (`install`). Other processes install it from the log: at
start (`install_latest_edition`, the composition root) and the projection runner when it reads the event
(projections/engine.py `read`).

Publishing the file in force again (same SHA-256) is a 409 (`EditionUnchanged`) and records nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from application.base import Service
from application.catalogue import CatalogueService
from application.commands import Invocation
from application.commands.catalogue import EditionPublished, PublishCatalogueEdition
from application.policy import authorize
from domain.catalog import Catalog, in_force
from domain.catalog.definition import check_definition
from domain.catalog.edition import CatalogueErrors, RowError
from domain.catalog.edition_rows import parse_edition
from domain.catalog.publication import CATALOGUE_ID, Catalogue, EditionUnchanged
from domain.catalog.seed import flow_definition, licence_topic_fields
from domain.shared.errors import InvalidValue
from domain.shared.events import Meta
from infrastructure.store import install_latest_edition


def tables_sha256(tables: dict[str, Any]) -> str:
    """The SHA-256 of tables sent as JSON (canonical form): a REST body has no file."""
    canonical = json.dumps(tables, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class CatalogueEditionService(Service):
    def __init__(self, *args: Any, flows: CatalogueService) -> None:
        super().__init__(*args)
        self.flows = flows

    def latest(self) -> Catalogue | None:
        return self.find(Catalogue, CATALOGUE_ID)

    def publish(self, by: Invocation, command: PublishCatalogueEdition) -> EditionPublished:
        """事项库发布 — check the tables, record the edition and its flows, put it in force here."""
        authorize(by.actor, "catalogue.edition.publish")
        tables, file_name = dict(command.tables), command.file_name
        digest = command.sha256 or tables_sha256(tables)

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            catalogue = self.latest()
            if catalogue is not None and catalogue.sha256 == digest:
                raise EditionUnchanged(f"this file is edition {catalogue.latest_version}, already in force")
            edition = parse_edition(tables, last_version=in_force().version)
            processes = self._flows(meta, edition)
            if catalogue is None:
                catalogue = Catalogue.first(meta, edition, digest, file_name)
            else:
                catalogue.publish(meta, edition, digest, file_name)
            response = {
                "id": str(catalogue.id),
                "version": edition["version"],
                "sha256": digest,
                "items": len(edition["items"]),
                "departments": len(edition["departments"]),
                "licence_types": len(edition["licence_types"]),
                "flows": [{"code": p.code, "version": str(p.latest_version)} for p in processes],
            }
            return [catalogue, *processes], response

        result = self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work)
        install_latest_edition(self.app, self.position_of)
        return EditionPublished.of(result)

    def _flows(self, meta: Meta, edition: dict[str, Any]) -> list[Any]:
        """A new version of each flow of the `flows` sheet, defined from this edition."""
        if not edition["flows"]:
            return []
        catalog = Catalog(edition)
        topics = licence_topic_fields(catalog)
        processes = []
        errors: list[RowError] = []
        for index, flow in enumerate(edition["flows"]):
            region, flow_type = flow["region_code"], flow["flow_type"]
            raw = flow_definition(catalog, flow_type, flow["items"], self.flows.next_version(region, flow_type), region)
            try:
                checked = check_definition(raw, topics)
                processes.append(self.flows.published(meta, region, flow_type, checked))
            except InvalidValue as exc:  # e.g. a prerequisite left out of the flow, R6
                errors.append(RowError("flows", index, "items", exc.rule, f"{exc.field}: {exc.message}"))
        if errors:
            raise CatalogueErrors(errors)
        return processes

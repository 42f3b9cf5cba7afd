"""事项库发布 — the item catalogue's editions as events: one `Catalogue` aggregate per store (its id is
uuid5 of a fixed name), each publication carrying the whole edition (domain/catalog/edition.py), its
version (newer than the last), the file's name and SHA-256.

The latest published edition is the catalogue in force (domain/catalog/catalog.py); before any, the
packaged seed. Events are never changed: an edition replaces the one before from its position on.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.catalog.edition import version_key
from domain.shared.errors import Conflict, InvalidValue
from domain.shared.events import AuditedEvent, Meta

CATALOGUE_NAMESPACE = UUID("5d1f6c2a-8b7e-5f43-a1c9-3e2b7d4f6a18")
CATALOGUE_ID = uuid5(CATALOGUE_NAMESPACE, "gongjian:item-catalogue")


class EditionUnchanged(Conflict):
    """The same file (SHA-256) as the edition in force: nothing to publish (409)."""


class Catalogue(Aggregate):
    """事项库 — the province's item catalogue: its published editions, newest last."""

    class Event(AuditedEvent):
        pass

    class FirstEditionPublished(Event, Aggregate.Created):
        """事项库首次发布 — the first edition of the item catalogue published from a file: items, departments
        per region, licence types with their topic fields, regions and parks, limits and targets."""

        version: str
        sha256: str
        file_name: str
        edition: dict[str, Any]

        def apply(self, aggregate: Catalogue) -> None:
            aggregate.take(self.version, self.sha256, self.edition)

    class EditionPublished(Event):
        """事项库发布 — a new edition of the item catalogue, the whole of it: it is in force from here on."""

        version: str
        sha256: str
        file_name: str
        edition: dict[str, Any]

        def apply(self, aggregate: Catalogue) -> None:
            aggregate.take(self.version, self.sha256, self.edition)

    def __init__(self) -> None:
        self.versions: list[str] = []
        self.sha256 = ""
        self.edition: dict[str, Any] = {}  # the latest: the one in force

    def take(self, version: str, sha256: str, edition: dict[str, Any]) -> None:
        self.versions.append(version)
        self.sha256, self.edition = sha256, edition

    @property
    def latest_version(self) -> str | None:
        return self.versions[-1] if self.versions else None

    @classmethod
    def first(cls, meta: Meta, edition: dict[str, Any], sha256: str, file_name: str) -> Catalogue:
        return cls._create(
            cls.FirstEditionPublished,
            id=CATALOGUE_ID,
            version=edition["version"],
            sha256=sha256,
            file_name=file_name,
            edition=edition,
            **meta.fields(),
        )

    def publish(self, meta: Meta, edition: dict[str, Any], sha256: str, file_name: str) -> None:
        if sha256 == self.sha256:
            raise EditionUnchanged(f"this file is edition {self.latest_version}, already in force")
        last = self.latest_version
        if last is not None and version_key(edition["version"]) <= version_key(last):
            raise InvalidValue(
                "tables.edition.version", f"{edition['version']} is not newer than {last}", "version_not_newer"
            )
        self.trigger_event(
            self.EditionPublished,
            version=edition["version"],
            sha256=sha256,
            file_name=file_name,
            edition=edition,
            **meta.fields(),
        )

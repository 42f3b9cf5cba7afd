"""事项库 in force for the read side: the projection runner puts a published edition in force
(domain/catalog/catalog.py `install`) as soon as it reads its event, before any read model handles
the batch, so that a case for an item new in that edition finds it (docs/catalogue.md, "Which
edition is in force"). An older edition never replaces a newer one: a rebuild, which replays from
position 0, reads the latest edition for every event (installed at start, `infrastructure.store.install_latest_edition`)."""

from __future__ import annotations

from domain.catalog import install
from domain.catalog.publication import Catalogue
from projections.base import Envelope

EDITION_EVENTS = (Catalogue.FirstEditionPublished, Catalogue.EditionPublished)


def install_editions(batch: list[Envelope]) -> list[Envelope]:
    """The newest edition of a batch put in force; the batch itself (the engine reads through it)."""
    for envelope in reversed(batch):
        if isinstance(envelope.event, EDITION_EVENTS):
            install(envelope.event.edition, envelope.position)
            break
    return batch

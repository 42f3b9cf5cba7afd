"""事项库 — the item catalogue: stages, items, departments, time limits, prerequisites."""

from domain.catalog.catalog import CATALOG, Catalog, Item

__all__ = ["CATALOG", "Catalog", "Item"]

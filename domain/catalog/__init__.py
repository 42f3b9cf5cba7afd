"""事项库 — the item catalogue: stages, items, departments, time limits, prerequisites."""

from domain.catalog.catalog import (
    CATALOG,
    SEED_CATALOG,
    Catalog,
    Department,
    Item,
    in_force,
    install,
    installed_position,
    on_unknown_item,
    reset_to_seed,
)

__all__ = [
    "CATALOG",
    "SEED_CATALOG",
    "Catalog",
    "Department",
    "Item",
    "in_force",
    "install",
    "installed_position",
    "on_unknown_item",
    "reset_to_seed",
]

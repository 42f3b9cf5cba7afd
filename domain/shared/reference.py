"""Reference data (copied from ../shared/reference, versioned with the code; a test keeps them equal).

Loaded once from package data: static tables, not I/O against a live system.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib import resources


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str | None


@dataclass(frozen=True)
class CaseStatusRef:
    code: int
    name: str
    english: str


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("domain.catalog").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


class Reference:
    @cached_property
    def gbt_regions(self) -> dict[str, Region]:
        """GB/T 2260 (regions.csv): the codes national tables and project codes carry."""
        return {
            r["code"]: Region(r["code"], r["name"], r["level"], r["parent_code"] or None) for r in _rows("regions.csv")
        }

    @cached_property
    def regions(self) -> dict[str, Region]:
        """GB/T 2260 and the parks with approval powers of the catalogue in force (`set_parks`)."""
        return dict(self.gbt_regions)

    def set_parks(self, parks: Iterable[Region]) -> None:
        """The parks of the catalogue in force (domain/catalog installs them with an edition); the
        mapping is replaced whole, so a reader never sees it half changed."""
        regions = dict(self.gbt_regions)
        regions.update({p.code: p for p in parks if p.code not in regions and p.parent_code in regions})
        self.__dict__["regions"] = regions

    def gbt_code(self, code: str) -> str:
        """The GB/T 2260 code a national table carries for a region: a park's parent's."""
        while code not in self.gbt_regions and code in self.regions and self.regions[code].parent_code:
            code = str(self.regions[code].parent_code)
        return code

    @cached_property
    def stages(self) -> dict[int, str]:
        return {int(r["code"]): r["name"] for r in _rows("stages.csv")}

    @cached_property
    def flow_types(self) -> dict[int, str]:
        return {int(r["code"]): r["name"] for r in _rows("flow_types.csv")}

    @cached_property
    def case_statuses(self) -> dict[int, CaseStatusRef]:
        return {
            int(r["code"]): CaseStatusRef(int(r["code"]), r["name"], r["english"]) for r in _rows("case_status.csv")
        }

    def is_region(self, code: str) -> bool:
        return code in self.regions

    def city_county_units(self) -> list[Region]:
        """The 19 city/county units directly under the province (市县)."""
        return [r for r in self.regions.values() if r.parent_code == "460000"]

    def unit_of(self, region_code: str) -> str:
        """The city/county unit a region belongs to (a district maps to its prefecture)."""
        region = self.regions[region_code]
        if region.level == "park" and region.parent_code:  # a park counts with the unit it lies in
            return self.unit_of(region.parent_code)
        if region.level == "district" and region.parent_code:
            return region.parent_code
        return region.code

    def within(self, region_code: str, scope: str) -> bool:
        """Is region_code the scope itself or below it? 460000 covers everything."""
        code: str | None = region_code
        while code:
            if code == scope:
                return True
            code = self.regions[code].parent_code if code in self.regions else None
        return False


REFERENCE = Reference()


def regions_within(scope: str) -> list[str]:
    """The codes of the regions at or below `scope` (the scope itself if it is not a known region)."""
    return [code for code in REFERENCE.regions if REFERENCE.within(code, scope)] or [scope]

"""How a city system's item codes and department names map to ours (docs/supervision.md).

Items: our catalogue code as is; else the standard item code (DYBZSPSXBM) the city's stage-item
row maps its code to, when that is one of ours; else the `[mapping.items]` table of
warning_rules.toml; else unknown (None). Departments: our code as is; else the
`[mapping.departments]` table; else a name that ends with the catalogue's name of one of our
departments after a region prefix (`海口市自然资源和规划局` → zrzy); else the name itself, which
is then in no item's flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.catalog import CATALOG


@dataclass(frozen=True)
class NameMapping:
    items: Mapping[str, str] = field(default_factory=dict)
    departments: Mapping[str, str] = field(default_factory=dict)

    def item(self, code: str | None, standard: str | None = None) -> str | None:
        if not code:
            return None
        for candidate in (code, standard, self.items.get(code)):
            if candidate and candidate in CATALOG.items:
                return candidate
        return None

    def department(self, name: str | None) -> str | None:
        if not name:
            return None
        name = name.strip()
        if name in CATALOG.departments:
            return name
        if name in self.departments:
            return self.departments[name]
        for code, ours in CATALOG.departments.items():
            if name.endswith(ours):
                return code
        return name

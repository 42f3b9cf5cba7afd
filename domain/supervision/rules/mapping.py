"""How a city system's item codes and department names map to ours (docs/supervision.md).

Items: our catalogue code as is; else the standard item code (DYBZSPSXBM) the city's stage-item
row maps its code to, when that is one of ours or the national code of one of ours; else the
`[mapping.items]` table of warning_rules.toml; else unknown (None). Departments: our code as is;
else the `[mapping.departments]` table; else the exact name of a body of the catalogue in force in
any region (`三亚市住房和城乡建设局` → zjj); else a name that ends with the catalogue's name of one of
our departments after a region prefix (`海口市自然资源和规划局` → zrzy); else the name itself,
which is then in no item's flow.
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
        candidates = [c for c in (code, standard, self.items.get(code)) if c]
        for candidate in candidates:
            if candidate in CATALOG.items:
                return candidate
        national = {i.national_code: c for c, i in CATALOG.items.items() if i.national_code}
        return next((national[c] for c in candidates if c in national), None)

    def department(self, name: str | None) -> str | None:
        if not name:
            return None
        name = name.strip()
        if name in CATALOG.departments:
            return name
        if name in self.departments:
            return self.departments[name]
        for row in CATALOG.department_rows:
            if row["name"] == name:
                return str(row["code"])
        for code, ours in CATALOG.departments.items():
            if name.endswith(ours):
                return code
        return name

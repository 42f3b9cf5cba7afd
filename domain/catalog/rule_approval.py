"""智能审批 (秒批) — an item's rule-approval configuration: the named rules a case must pass and the
materials it needs, each either internally shared structured data or a valid electronic licence.

An item is eligible only when none of its materials is asked of the applicant: the configuration
is refused on load otherwise. The evaluation lives in domain/approvals/rule_check.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RULE_KINDS = ("project", "licence", "prerequisites")
PROJECT_ATTRIBUTES = ("investment_type", "category", "flow_type", "land_supply_mode")
SHARED_FROM = ("project", "land_supply")  # where a shared material's structured data comes from


@dataclass(frozen=True)
class RuleSpec:
    """One named rule: a project attribute among allowed values, a valid licence, or prerequisites decided."""

    name: str
    label: str
    kind: str
    attribute: str | None = None
    allowed: tuple[str, ...] = ()
    licence_type: str | None = None


@dataclass(frozen=True)
class MaterialSpec:
    """A material of an eligible item: shared (内部共享) or satisfied by a licence type (证照)."""

    code: str
    name: str
    source: str  # shared | licence
    shared_from: str | None = None
    licence_type: str | None = None


@dataclass(frozen=True)
class RuleApproval:
    version: str
    rules: tuple[RuleSpec, ...]
    materials: tuple[MaterialSpec, ...]

    @property
    def licence_types(self) -> tuple[str, ...]:
        wanted = [r.licence_type for r in self.rules if r.licence_type]
        wanted += [m.licence_type for m in self.materials if m.licence_type]
        return tuple(dict.fromkeys(wanted))


def parse_rule_approval(item_code: str, raw: dict[str, Any]) -> RuleApproval:
    """Check an item's `rule_approval` entry of the catalogue (ValueError names the item and the rule)."""
    rules: list[RuleSpec] = []
    for r in raw.get("rules", []):
        kind = r["kind"]
        if kind not in RULE_KINDS:
            raise ValueError(f"item {item_code}: rule {r['name']} has unknown kind {kind}")
        if kind == "project" and (r.get("attribute") not in PROJECT_ATTRIBUTES or not r.get("in")):
            raise ValueError(f"item {item_code}: rule {r['name']} needs an attribute of {PROJECT_ATTRIBUTES} and `in`")
        if kind == "licence" and not r.get("licence_type"):
            raise ValueError(f"item {item_code}: rule {r['name']} needs a licence_type")
        rules.append(
            RuleSpec(
                name=r["name"],
                label=r.get("label", r["name"]),
                kind=kind,
                attribute=r.get("attribute"),
                allowed=tuple(str(v) for v in r.get("in", [])),
                licence_type=r.get("licence_type"),
            )
        )
    materials: list[MaterialSpec] = []
    for m in raw.get("materials", []):
        source = m["source"]
        if source == "shared" and m.get("shared_from") in SHARED_FROM:
            materials.append(MaterialSpec(m["code"], m["name"], source, shared_from=m["shared_from"]))
        elif source == "licence" and m.get("licence_type"):
            materials.append(MaterialSpec(m["code"], m["name"], source, licence_type=m["licence_type"]))
        else:
            # an applicant-provided material makes an item ineligible: the rule cannot judge a document
            raise ValueError(f"item {item_code}: material {m['code']} is neither shared nor a licence")
    if not rules:
        raise ValueError(f"item {item_code}: rule_approval needs at least one rule")
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise ValueError(f"item {item_code}: rule names repeat")
    return RuleApproval(str(raw.get("version", "1")), tuple(rules), tuple(materials))

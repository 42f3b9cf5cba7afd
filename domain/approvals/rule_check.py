"""智能审批 — judging a received case by its item's rules (domain/catalog/rule_approval.py).

Pure: the service gathers the facts (the project, the licences found for it, as verified against
their aggregates) and `evaluate` says which rules and materials pass, with the evidence, which is
what the decision event records. A rule that cannot be judged fails: the case goes to a human.

Whatever the item's rules say, a project with open plan conflicts (一张蓝图/多规合一: the conflicts of
its last blueprint check, as its aggregate records them) or a missing rule input (an attribute a rule
reads, the land supply a shared material comes from, any licence of a wanted type, the red line the
plan check needs) is never decided by rule: the evidence lists each conflict with its kind and values
and each missing input by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.catalog.rule_approval import RuleApproval


@dataclass(frozen=True)
class LicenceFacts:
    """A licence as its aggregate records it, with the log position of its last event."""

    number: str
    licence_type: str
    holder_uscc: str
    project_code: str
    valid_until: date | None
    revoked: bool
    position: int | None
    document_hash: str

    def problem(self, holder_uscc: str, project_code: str, today: date) -> str | None:
        """Why this licence cannot stand for the project, or None when it can."""
        if self.holder_uscc != holder_uscc:
            return f"licence {self.number} is held by {self.holder_uscc}, not {holder_uscc}"
        if self.project_code != project_code:
            return f"licence {self.number} is for project {self.project_code}"
        if self.revoked:
            return f"licence {self.number} was revoked"
        if self.valid_until is not None and self.valid_until < today:
            return f"licence {self.number} expired on {self.valid_until.isoformat()}"
        return None

    def evidence(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "licence_type": self.licence_type,
            "position": self.position,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "document_hash": self.document_hash,
        }


@dataclass(frozen=True)
class ProjectFacts:
    code: str
    owner_uscc: str
    attributes: Mapping[str, str | None]
    approved_items: Mapping[str, str]  # item code → case id
    land_supplied: bool
    has_red_line: bool = True
    conflicts: Sequence[Mapping[str, Any]] = ()  # Project.blueprint.conflicts: the open plan conflicts


@dataclass
class RuleOutcome:
    passed: bool
    rules: list[dict[str, Any]] = field(default_factory=list)
    materials: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    missing_inputs: list[dict[str, Any]] = field(default_factory=list)

    def evidence(self, version: str) -> dict[str, Any]:
        """What the decision (or the refusal to decide) records."""
        return {
            "rule_set_version": version,
            "passed": self.passed,
            "rules": self.rules,
            "materials": self.materials,
            "conflicts": self.conflicts,
            "missing_inputs": self.missing_inputs,
        }


def plan_conflicts(conflicts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each open conflict with its kind (land_use, plot_ratio, height_limit, control_line …) and values."""
    return [
        {
            "kind": str(c.get("rule", "")),
            "subject": str(c.get("zone_code") or c.get("line_code") or c.get("code") or ""),
            "field": c.get("field"),
            "declared": c.get("declared"),
            "limit": c.get("limit"),
            "message": c.get("message"),
        }
        for c in conflicts
    ]


def missing_inputs(spec: RuleApproval, project: ProjectFacts, licences: Sequence[LicenceFacts]) -> list[dict[str, Any]]:
    """Each input a rule or material needs that is not on record, by name, with who needs it."""
    found_types = {lic.licence_type for lic in licences}
    missing: list[dict[str, Any]] = []
    if not project.has_red_line:
        missing.append({"name": "red_line", "needed_by": "plan_conformity"})
    for rule in spec.rules:
        if rule.kind == "project" and rule.attribute and project.attributes.get(rule.attribute) is None:
            missing.append({"name": rule.attribute, "needed_by": rule.name})
        if rule.kind == "licence" and rule.licence_type not in found_types:
            missing.append({"name": f"licence:{rule.licence_type}", "needed_by": rule.name})
    for material in spec.materials:
        if material.shared_from == "land_supply" and not project.land_supplied:
            missing.append({"name": "land_supply", "needed_by": material.code})
        if material.licence_type and material.licence_type not in found_types:
            missing.append({"name": f"licence:{material.licence_type}", "needed_by": material.code})
    return missing


def evaluate(
    spec: RuleApproval,
    prerequisites: Sequence[str],
    project: ProjectFacts,
    licences: Sequence[LicenceFacts],
    today: date,
) -> RuleOutcome:
    outcome = RuleOutcome(passed=True)

    def valid_of(licence_type: str) -> tuple[LicenceFacts | None, list[str]]:
        problems: list[str] = []
        for licence in sorted(licences, key=lambda lic: lic.number):
            if licence.licence_type != licence_type:
                continue
            problem = licence.problem(project.owner_uscc, project.code, today)
            if problem is None:
                return licence, problems
            problems.append(problem)
        return None, problems or [f"no licence of type {licence_type} for project {project.code}"]

    for rule in spec.rules:
        entry: dict[str, Any] = {"name": rule.name, "label": rule.label, "kind": rule.kind}
        if rule.kind == "project":
            assert rule.attribute is not None
            value = project.attributes.get(rule.attribute)
            ok = value is not None and str(value) in rule.allowed
            entry.update(attribute=rule.attribute, value=value, allowed=list(rule.allowed))
            if not ok:
                entry["reason"] = f"{rule.attribute} is {value!r}, not one of {list(rule.allowed)}"
        elif rule.kind == "prerequisites":
            missing = [p for p in prerequisites if p not in project.approved_items]
            ok = not missing
            entry["cases"] = {p: project.approved_items[p] for p in prerequisites if p in project.approved_items}
            if missing:
                entry["reason"] = f"prerequisite items not approved: {missing}"
        else:
            assert rule.licence_type is not None
            found, problems = valid_of(rule.licence_type)
            ok = found is not None
            entry["licence_type"] = rule.licence_type
            if found is not None:
                entry["licence"] = found.evidence()
            else:
                entry["reason"] = "; ".join(problems)
        entry["passed"] = ok
        outcome.passed &= ok
        outcome.rules.append(entry)

    for material in spec.materials:
        item: dict[str, Any] = {"code": material.code, "name": material.name, "source": material.source}
        if material.source == "shared":
            ok = material.shared_from == "project" or project.land_supplied
            item["shared_from"] = material.shared_from
            if not ok:
                item["reason"] = "no land supply is recorded for the project"
        else:
            assert material.licence_type is not None
            found, problems = valid_of(material.licence_type)
            ok = found is not None
            if found is not None:
                item["licence"] = found.evidence()
            else:
                item["reason"] = "; ".join(problems)
        item["satisfied"] = ok
        outcome.passed &= ok
        outcome.materials.append(item)
    # manual review (转人工) whatever the rules said: open plan conflicts, missing inputs
    outcome.conflicts = plan_conflicts(project.conflicts)
    outcome.missing_inputs = missing_inputs(spec, project, licences)
    outcome.passed &= not outcome.conflicts and not outcome.missing_inputs
    return outcome

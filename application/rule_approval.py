"""智能审批 (秒批) — a rule-eligible case is decided by the system in the request that receives it.

`CaseService.submit` calls `decide` after `Case.receive`, inside the same unit of work: the case,
its acceptance, its approval and the project's `ItemApproved` are saved in one transaction, so the
REST answer to the submission already shows the approval. The system acts as `RULE_APPROVER`
(role integration, channel system_rule) through the ordinary permissions.

Licences are found without waiting for any read model (`LicenceLocator`): the documents of the
project's approved items, read from their cases' events (an approval's document number is the
number of the licence it issues), whatever the licence library already knows (not caught up: a
licence it has not seen yet is simply not a candidate), and those the applicant cites
(`materials[].licence_number`). Every candidate is then checked against its aggregate: the
lookups only say where to look, the log decides.

Plan conformity is read from the Project aggregate itself (its last `BlueprintChecked`: the
blueprint zones' and the multi-plan control lines' conflicts), never from a read model: a project
with open conflicts or a missing rule input goes to a person (`Case.RuleApprovalDeclined`, whose
evidence lists each conflict and each missing input).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from application.policy import RULE_APPROVER, authorize
from application.ports import LicenceLookup
from domain.approvals import Case
from domain.approvals.rule_check import LicenceFacts, ProjectFacts, evaluate
from domain.catalog import Item
from domain.licences import License, licence_id
from domain.projects import Project, project_id
from domain.shared.events import SHANGHAI, Channel, Meta

# (project code, holder USCC, licence type) → licence numbers worth checking
LicenceFinder = Callable[[str, str, str], list[str]]
Finder = Callable[[type[Any], UUID], Any]
DECISIONS = (Case.Approved, Case.ApprovedPendingMaterials)


class LicenceLocator:
    """The LicenceFinder a command uses: aggregates first, then the library as it stands (no wait)."""

    def __init__(self, app: Any, library: LicenceLookup | None = None) -> None:
        self.app = app  # the one eventsourcing Application
        self.library = library
        # the last project's documents, by (id, version): one submission asks once per licence type
        self._last: tuple[tuple[UUID, int], list[str]] | None = None

    def documents(self, project_code: str) -> list[str]:
        """The document numbers of the project's approved items, from their cases' events."""
        try:
            project = self.app.repository.get(project_id(project_code))
        except AggregateNotFoundError:
            return []
        if not isinstance(project, Project):
            return []
        last = self._last
        if last is not None and last[0] == (project.id, project.version):
            return last[1]
        numbers = [
            str(event.document_number)
            for case_id in project.approved_items.values()
            for event in self.app.repository.event_store.get(UUID(str(case_id)))
            if isinstance(event, DECISIONS) and event.document_number
        ]
        self._last = ((project.id, project.version), numbers)
        return numbers

    def __call__(self, project_code: str, holder_uscc: str, licence_type: str) -> list[str]:
        numbers = list(self.documents(project_code))
        if self.library is not None:
            numbers += self.library.numbers(project_code, holder_uscc, licence_type)
        return list(dict.fromkeys(numbers))


def decide(
    find: Finder,
    position_of: Callable[[UUID, int], int | None],
    find_licences: LicenceFinder | None,
    meta: Meta,
    case: Case,
    project: Project,
    item: Item,
    materials: list[dict[str, Any]],
) -> tuple[list[Aggregate], dict[str, Any]]:
    """Approve by rule when every rule and material passes, else record why not. Returns the
    aggregates changed besides the case and the evidence for the response."""
    spec = item.rule_approval
    if spec is None:
        return [], {}
    system = replace(meta, actor_id=RULE_APPROVER.actor_id, actor_role=RULE_APPROVER.role,
                     actor_org=RULE_APPROVER.org, channel=Channel.SYSTEM_RULE, occurred_at=None)  # fmt: skip
    today = meta.now.astimezone(SHANGHAI).date()
    numbers = {str(m["licence_number"]) for m in materials if isinstance(m.get("licence_number"), str)}
    for licence_type in spec.licence_types:
        if find_licences is not None:
            numbers.update(find_licences(project.code, project.owner_uscc, licence_type))
    licences = [f for f in (_facts(find, position_of, n) for n in sorted(numbers)) if f is not None]
    facts = ProjectFacts(
        code=project.code,
        owner_uscc=project.owner_uscc,
        attributes={
            "investment_type": str(project.investment_type),
            "category": project.category,
            "flow_type": str(project.flow_type),
            "land_supply_mode": project.land_supply_mode,
        },
        approved_items={code: str(case_id) for code, case_id in project.approved_items.items()},
        land_supplied=project.land_supply_mode is not None,
        has_red_line=project.red_line is not None,
        conflicts=list(project.blueprint.conflicts),
    )
    outcome = evaluate(spec, item.prerequisites, facts, licences, today)
    evidence = outcome.evidence(spec.version)
    if not outcome.passed:
        case.decline_rule_approval(system, evidence)
        return [], {"rule_approval": evidence}
    authorize(RULE_APPROVER, "case.accept", region_code=case.region_code)
    authorize(RULE_APPROVER, "case.approve", region_code=case.region_code)
    case.accept(system, item)
    number = f"ZNSP-{today:%Y%m%d}-{case.id.hex[:8].upper()}"
    case.approve(system, number, f"{item.name}（智能审批）", None, rule_evidence=evidence)
    project.record_item_approved(system, case_id=case.id, item_code=case.item_code)
    return [project], {"rule_approval": evidence, "document_number": number}


def _facts(find: Finder, position_of: Callable[[UUID, int], int | None], number: str) -> LicenceFacts | None:
    try:
        licence = find(License, licence_id(number))
    except ValueError:
        return None
    if licence is None:
        return None
    return LicenceFacts(
        number=licence.number,
        licence_type=licence.licence_type,
        holder_uscc=licence.holder_uscc,
        project_code=licence.project_code,
        valid_until=licence.valid_until,
        revoked=licence.revoked,
        position=position_of(licence.id, licence.version),
        document_hash=licence.document_hash,
    )

"""在建工程迁移 — an approval a project under construction obtained before the system started,
recorded as a back-entered case (`Case.BackEntered` v3) through the `import` channel with its
provenance: the source file and its SHA-256, the row, the migrating official and the original
issuing authority. The case is decided (approved) on the licence's issue date, so the project's
remaining stages find their prerequisites satisfied (docs/operations.md, "Migrating 在建工程").
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from uuid import UUID, uuid5

from domain.approvals.case import Case, Decision
from domain.catalog import Item
from domain.licences.licence import check_number, check_provenance
from domain.projects.project import NAMESPACE
from domain.shared.errors import InvalidValue
from domain.shared.events import SHANGHAI, Channel, Meta

ISSUE_HOUR = time(9)  # a historical issue date becomes 09:00 Shanghai that day
REASON = "在建工程迁移：系统上线前已办结，原发证机关 {authority}"


def migrated_case_id(project_code: str, item_code: str, document_number: str) -> UUID:
    """One migrated case per project, item and licence (or approval document) number: a re-run finds it."""
    return uuid5(NAMESPACE, f"migrated-case:{project_code}:{item_code}:{document_number}")


def issued_at(issued_on: date) -> datetime:
    return datetime.combine(issued_on, ISSUE_HOUR, SHANGHAI)


def migrate_approval(
    meta: Meta,
    *,
    project_id: UUID,
    project_code: str,
    region_code: str,
    applicant_org: str,
    item: Item,
    document_number: str,
    provenance: dict[str, Any],
) -> Case:
    """A migrated approval: channel import, the issue date as business time, decision approved."""
    if meta.channel != Channel.IMPORT:
        raise InvalidValue("channel", "a migrated approval is recorded through the import channel", "channel")
    if meta.occurred_at is None:
        raise InvalidValue("issued_on", "a migrated approval needs the date it was issued", "required")
    checked = check_provenance(provenance)
    number = check_number(document_number)
    return Case._create(
        Case.BackEntered,
        id=migrated_case_id(project_code, item.code, number),
        project_id=project_id,
        project_code=project_code,
        item_code=item.code,
        item_name=item.name,
        stage=item.stage,
        department=item.department,
        region_code=region_code,
        applicant_org=applicant_org,
        decision=Decision.APPROVED.value,
        received_on=None,
        accepted_on=None,
        document_number=number,
        reason=REASON.format(authority=checked["issuing_authority"]),
        flow_code=None,
        flow_version=None,
        item_version=None,
        provenance=checked,
        **meta.fields(),
    )

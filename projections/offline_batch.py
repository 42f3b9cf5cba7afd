"""What a batch's events name, for the offline_warnings read model to read up front in one round
trip (`WarningsBase._begin`): the numbers they make known or cite, the projects they are about, the
city cases their rows may approve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.approvals import Case
from domain.exchange import ExternalRecord, spgl
from projections.base import Envelope

CASE_EVENTS: frozenset[type] = frozenset({Case.Approved, Case.ApprovedPendingMaterials, Case.BackEntered})
RECORD_EVENTS: frozenset[type] = frozenset({ExternalRecord.Reported, ExternalRecord.Amended})
SPGL_ROWS: frozenset[type] = frozenset({spgl.SpglRow.Imported, spgl.SpglRow.Corrected})


def batch_numbers(batch: Sequence[Envelope]) -> list[str]:
    """The certificate and approval numbers the batch's events make known (`_number_known`)."""
    found: set[Any] = set()
    for env in batch:
        e: Any = env.event
        kind = type(e)
        if kind in CASE_EVENTS:
            found.add(getattr(e, "document_number", None))
        elif kind in RECORD_EVENTS:
            found.add(getattr(e, "number", None))
        elif kind in SPGL_ROWS:
            if e.table == spgl.DOCUMENT:
                found.update((e.row.get("PFWH"), e.row.get("ZZBH")))
            elif e.table in spgl.CERTIFICATE_TABLES:
                found.add(e.row.get(spgl.CERTIFICATE_TABLES[e.table][1]))
    return sorted(n for n in found if isinstance(n, str) and n)


def batch_approved(batch: Sequence[Envelope]) -> list[str]:
    """The city cases the batch's approving status rows and approval documents name."""
    found: set[Any] = set()
    for env in batch:
        e: Any = env.event
        if type(e) in SPGL_ROWS and e.table in (spgl.STATUS, spgl.DOCUMENT):
            found.add(e.row.get("SPSXSLBM"))
    return sorted(c for c in found if isinstance(c, str) and c)


def batch_projects(batch: Sequence[Envelope]) -> set[str]:
    """The projects the batch's records and imported rows are about (their facts are read up front)."""
    found: set[Any] = set()
    for env in batch:
        e: Any = env.event
        if type(e) in RECORD_EVENTS:
            found.add(getattr(e, "project_code", None))
        elif type(e) in SPGL_ROWS:
            found.add(e.row.get("XMDM") or spgl.gcdm_project_code(e.row.get("GCDM", "")))
    return {c for c in found if isinstance(c, str) and c}


def batch_cited(batch: Sequence[Envelope]) -> list[str]:
    """The upstream numbers the batch's certificates cite (`_upstream` looks each up)."""
    found: set[Any] = set()
    for env in batch:
        e: Any = env.event
        if type(e) in RECORD_EVENTS:
            found.update((getattr(e, "upstream", None) or {}).values())
        elif type(e) in SPGL_ROWS and e.table in spgl.CERTIFICATE_TABLES:
            found.update(e.row.get(f) for f in spgl.CERTIFICATE_TABLES[e.table][3])
    return sorted(n for n in found if isinstance(n, str) and n)

"""W7 procedure abuse after a decision (docs/supervision.md, "W7 after the decision"): a 容缺 approval
whose materials to follow were not all supplied by their due date (`W7.materials_not_supplied`), and
an approval on commitment (告知承诺制) whose commitments were not verified by their deadline
(`W7.commitment_unverified`).

Pure functions of a case's facts and a day: the decision day, the due day, the day the follow-up was
settled (the last material supplied; the commitment verified, or the case revoked) or None, and the
day to judge on. Same facts, same finding: no clock, no database, no arrival order.
"""

from __future__ import annotations

from datetime import date

from domain.supervision.rules.facts import Finding

RULE = "W7"
MATERIALS = "W7.materials_not_supplied"
COMMITMENT = "W7.commitment_unverified"


def _breached(due_on: date | None, settled_on: date | None, today: date) -> bool:
    """Past the due day and not settled by it. No due day (a 容缺 approval from before due dates were
    recorded) is never breached: there is nothing to measure against."""
    if due_on is None or today <= due_on:
        return False
    return settled_on is None or settled_on > due_on


def materials_not_supplied(
    case_id: str,
    decided_on: date,
    due_on: date | None,
    supplied_on: date | None,
    today: date,
    evidence: tuple[int, ...] = (),
) -> Finding | None:
    """容缺材料逾期未补齐: `supplied_on` is the day the last pending material arrived (None: not all yet)."""
    if not _breached(due_on, supplied_on, today):
        return None
    late = f"至{supplied_on}方补齐" if supplied_on is not None else f"至{today}仍未补齐"
    text = f"办件{case_id}于{decided_on}容缺通过，容缺材料应于{due_on}前补齐，{late}。"
    return Finding(RULE, (case_id, "materials_not_supplied"), MATERIALS, text, tuple(sorted(set(evidence))))


def commitment_not_verified(
    case_id: str,
    decided_on: date,
    due_on: date | None,
    verified_on: date | None,
    today: date,
    evidence: tuple[int, ...] = (),
) -> Finding | None:
    """告知承诺逾期未核查: `verified_on` is the day it was verified or found false (None: not yet)."""
    if not _breached(due_on, verified_on, today):
        return None
    late = f"至{verified_on}方核查" if verified_on is not None else f"至{today}仍未核查"
    text = f"办件{case_id}于{decided_on}按告知承诺制审批通过，承诺应于{due_on}前核查，{late}。"
    return Finding(RULE, (case_id, "commitment_unverified"), COMMITMENT, text, tuple(sorted(set(evidence))))

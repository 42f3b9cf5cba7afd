"""docs/security.md cannot drift: it names every action of the policy and each limit's default."""

from __future__ import annotations

from pathlib import Path

import pytest

from application.policy import PERMISSIONS, ROLES
from domain.shared.geometry import MAX_VERTICES
from infrastructure.settings import Settings
from interfaces.graphql.common import MAX_PAGE
from interfaces.graphql.limits import MAX_COST
from interfaces.rest.schemas import MAX_LIST, MAX_STR

DOC = (Path(__file__).parents[2] / "docs" / "security.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("action", sorted(PERMISSIONS))
def test_every_action_of_the_policy_is_on_the_page(action: str) -> None:
    family = action.split(".")[0] + ".*"
    assert f"`{action}`" in DOC or action in DOC or family in DOC, action


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_a_row(role: str) -> None:
    assert f"\n| {role} |" in DOC


def test_the_limits_table_gives_the_defaults_in_force() -> None:
    defaults = Settings.model_fields
    for setting in ("max_body_bytes", "max_body_bytes_bulk"):
        assert f"`GONGJIAN_{setting.upper()}` = {defaults[setting].default}" in DOC
    assert f"`GONGJIAN_RATE_LIMIT` = `{defaults['rate_limit'].default}`" in DOC
    assert f"`first` ≤ {MAX_PAGE}" in DOC
    for value in (MAX_VERTICES, MAX_COST, MAX_STR, MAX_LIST):
        assert f"{value:,}" in DOC, value

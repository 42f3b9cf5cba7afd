"""docs/operations.md lists every setting a deployment can set: a setting added to `Settings` and not
documented fails here (issue 21: operators found GONGJIAN_KEYSTORE_PASSPHRASE required but unlisted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infrastructure.settings import Settings

DOC = (Path(__file__).parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented_in_the_operations_guide(field: str) -> None:
    assert f"`GONGJIAN_{field.upper()}`" in DOC, f"GONGJIAN_{field.upper()} is missing from docs/operations.md"

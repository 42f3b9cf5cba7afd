"""docs/operations.md says which shape each read model is at ("Shapes now"): an operator reads it to
know what an upgrade will rebuild. The sentence must name every read model above shape 1, with the
shape its class declares."""

from __future__ import annotations

import re
from pathlib import Path

from projections.registry import READ_MODELS

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def _documented() -> dict[str, int]:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("Shapes now")
    paragraph = text[start : text.index("every other read model 1", start)]
    # "`a` 2 and `b` 2" names two models at one shape
    found: dict[str, int] = {}
    for names, shape in re.findall(r"((?:`\w+`(?: and |, )?)+) (\d+)", paragraph):
        for name in re.findall(r"`(\w+)`", names):
            found[name] = int(shape)
    return found


def test_the_operations_guide_gives_every_read_model_its_declared_shape() -> None:
    declared = {cls.name: cls.shape for cls in READ_MODELS if cls.shape != 1}
    assert declared, "some read model has changed shape at least once"
    assert _documented() == declared

"""Small rooms (issue 19): no source module of the layers, nor the demo, over 600 lines."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "application", "projections", "infrastructure", "interfaces", "demo")
LIMIT = 600


def test_no_source_module_is_over_600_lines() -> None:
    modules = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")]
    assert len(modules) > 100  # the packages were found
    sizes = {str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines()) for path in modules}
    assert {name: n for name, n in sizes.items() if n > LIMIT} == {}

"""docs/events.md lists every event of every aggregate with all its fields, and nothing stale.

Aggregates are found by importing domain/ and application/, so a new aggregate must be documented.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from eventsourcing.domain import Aggregate

import application
import domain
from application.idempotency import Receipt
from domain.approvals import Case
from domain.projects import Project

CATALOGUE = Path(__file__).parents[2] / "docs" / "events.md"
# Carried by every event: listed once, in the "Common fields" section.
COMMON = (
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "actor_id",
    "actor_role",
    "actor_org",
    "channel",
    "request_id",
    "occurred_at",
)
CHINESE_TERM = re.compile(r"^[\u3400-\u9fff]")


def _aggregates() -> list[type[Aggregate]]:
    for package in (domain, application):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    found: set[type[Aggregate]] = set()
    todo = list(Aggregate.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in ("domain", "application"):
            found.add(cls)
    return sorted(found, key=lambda c: c.__qualname__)


def _events(aggregate: type[Aggregate]) -> list[type]:
    """The event classes nested in an aggregate, without its `Event` base and the library's
    implicit `Created` (which we never trigger: creation events have their own names)."""
    events = []
    for name, value in vars(aggregate).items():
        if not isinstance(value, type) or not issubclass(value, Aggregate.Event) or name == "Event":
            continue
        if name == "Created" and (value.__doc__ or "").startswith("Created("):
            continue
        events.append(value)
    return events


AGGREGATES = _aggregates()
EVENTS = [e for a in AGGREGATES for e in _events(a)]


def _sections() -> dict[str, str]:
    """Markdown sections by heading (`### \\`Case.Accepted\\` — 受理` → `Case.Accepted`)."""
    text = CATALOGUE.read_text(encoding="utf-8")
    sections: dict[str, str] = {}
    for chunk in re.split(r"^#{2,3} ", text, flags=re.MULTILINE)[1:]:
        heading, _, body = chunk.partition("\n")
        match = re.match(r"`([\w.]+)`", heading)
        sections[match.group(1) if match else heading.strip()] = body
    return sections


def _table_fields(body: str) -> list[str]:
    return re.findall(r"^\| `(\w+)` \|", body, flags=re.MULTILINE)


def test_the_known_aggregates_are_found() -> None:
    assert {Project, Case, Receipt} <= set(AGGREGATES)
    assert len(EVENTS) >= 25


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.__qualname__)
def test_every_event_is_in_the_catalogue_with_every_field(event: type) -> None:
    sections = _sections()
    assert event.__qualname__ in sections, f"docs/events.md has no section for {event.__qualname__}"
    own = [f.name for f in dataclasses.fields(event) if f.name not in COMMON]
    assert _table_fields(sections[event.__qualname__]) == own


def test_the_common_fields_are_listed_once() -> None:
    common = _sections()["Common fields (every event)"]
    assert _table_fields(common) == list(COMMON)
    for event in EVENTS:  # and every event really carries them (the topic only on creation)
        fields = {f.name for f in dataclasses.fields(event)}
        assert set(COMMON) - {"originator_topic"} <= fields, event.__qualname__
        assert ("originator_topic" in fields) == issubclass(event, Aggregate.Created), event.__qualname__


def test_the_catalogue_lists_no_event_that_does_not_exist() -> None:
    documented = {name for name in _sections() if re.fullmatch(r"\w+\.\w+", name)}
    assert documented == {e.__qualname__ for e in EVENTS}


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.__qualname__)
def test_every_event_docstring_opens_with_its_chinese_term(event: type) -> None:
    doc = (event.__doc__ or "").strip()
    assert CHINESE_TERM.match(doc), f"{event.__qualname__}: docstring should open with the Chinese term: {doc!r}"
    term = re.split(r"\s*—", doc, maxsplit=1)[0]
    assert f"`{event.__qualname__}` — {term}" in CATALOGUE.read_text(encoding="utf-8")


@pytest.mark.parametrize("aggregate", AGGREGATES, ids=lambda a: a.__qualname__)
def test_every_aggregate_docstring_opens_with_its_chinese_term(aggregate: type) -> None:
    assert CHINESE_TERM.match((aggregate.__doc__ or "").strip()), aggregate.__qualname__

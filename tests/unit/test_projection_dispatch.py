"""Read models name the events they handle by class (projections/base.py `Events`), so a name that
does not exist fails where the read model is declared, not silently at run time; and no event
name is left written as a string in projections/ (the offline_* read models were the last)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

import domain
from domain.approvals import Case
from domain.shared.events import AuditedEvent, Meta
from domain.work_calendar import WorkCalendar
from projections.base import Envelope, Events, ReadModel, event_name
from projections.registry import READ_MODELS

PROJECTIONS = Path(__file__).parents[2] / "projections"


def _aggregates() -> list[type[Aggregate]]:
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)
    found, todo = set(), list(Aggregate.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("domain."):
            found.add(cls)
    return sorted(found, key=lambda c: c.__qualname__)


AGGREGATES = _aggregates()
# every event class an aggregate declares (not its `Event` base nor the library's implicit `Created`)
EVENTS = [
    value
    for aggregate in AGGREGATES
    for name, value in vars(aggregate).items()
    if isinstance(value, type)
    and issubclass(value, Aggregate.Event)
    and name != "Event"
    and not (name == "Created" and (value.__doc__ or "").startswith("Created("))
]
EVENT_NAMES = {e.__qualname__ for e in EVENTS}


class Survey(Aggregate):
    """A throwaway aggregate of this test."""

    class Event(AuditedEvent):
        pass

    class Opened(Event, Aggregate.Created):
        pass

    class Closed(Event):
        pass


def _envelope(position: int, event: Any) -> Envelope:
    return Envelope(position, event)


# --- the guard -----------------------------------------------------------------------------------


def test_a_misspelt_event_class_fails_when_the_read_model_is_declared() -> None:
    with pytest.raises(AttributeError, match="Acepted"):

        class Misspelt(ReadModel):  # declaring it is what fails
            name = "misspelt"
            reads = Events(Case.Acepted)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "declared",
    ["Case.Accepted", Case.Event, Meta, AuditedEvent],
    ids=["a string name", "an aggregate's Event base", "not an event", "an event base of no aggregate"],
)
def test_only_event_classes_of_an_aggregate_can_be_declared(declared: Any) -> None:
    with pytest.raises(TypeError, match="not an event class of an aggregate"):
        Events(declared)


def test_an_event_class_outside_its_aggregate_is_refused() -> None:
    class Stray(Survey.Event):  # nested in no aggregate: the log has no name for it
        pass

    with pytest.raises(TypeError):
        event_name(Stray)


def test_a_read_model_declaring_names_instead_of_classes_fails_at_registration() -> None:
    with pytest.raises(TypeError, match="by class"):

        class ByName(ReadModel):  # declaring it is what fails
            name = "by_name"
            reads = frozenset({"Case.Acepted"})  # type: ignore[assignment]


def test_a_declaration_resolves_to_the_names_envelopes_carry() -> None:
    events = Events(Survey, WorkCalendar.Published)
    opened, closed = object.__new__(Survey.Opened), object.__new__(Survey.Closed)
    published, revised = object.__new__(WorkCalendar.Published), object.__new__(WorkCalendar.Revised)
    batch = [_envelope(i, e) for i, e in enumerate([opened, revised, closed, published], start=1)]
    assert [env.position for env in events.of(batch)] == [1, 3, 4]
    assert "Survey.Closed" in events and "WorkCalendar.Published" in events
    assert "WorkCalendar.Revised" not in events and "SurveyX.Closed" not in events
    joined = Events(Case.Accepted) | events
    assert [env.position for env in joined.of(batch)] == [1, 3, 4]
    assert "Case.Accepted" in joined and "Case.Refused" not in joined


# --- what the class dispatch relies on -----------------------------------------------------------


def test_the_aggregates_and_events_are_found() -> None:
    assert {"Case.Accepted", "Project.Generated", "WorkCalendar.Revised"} <= EVENT_NAMES
    assert len(EVENTS) >= 100


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.__qualname__)
def test_every_event_is_declarable_and_an_exact_class(event: type) -> None:
    """Read models test `isinstance(e, Case.Accepted)` where they compared the name `Case.Accepted`,
    and `isinstance(e, Case.Event)` where they tested the prefix `Case.`: the same events only while
    no event class derives from another and every event derives from its aggregate's `Event`."""
    assert event_name(event) == event.__qualname__
    owner = next(a for a in AGGREGATES if vars(a).get(event.__name__) is event)
    assert issubclass(event, vars(owner)["Event"])
    assert not [other for other in EVENTS if other is not event and issubclass(event, other)]


def test_every_read_model_declares_what_it_reads() -> None:
    # these follow every event (the trail, the ledger)
    every_event = {"audit_trail", "ledger"}
    undeclared = {cls.name for cls in READ_MODELS if cls.reads is None}
    assert undeclared == every_event


# --- the names still written as strings ----------------------------------------------------------

QUALIFIED = re.compile(r"[A-Z]\w*\.[A-Z]\w*")
PREFIX = re.compile(r"[A-Z]\w*\.")


def _strings(node: ast.AST) -> list[ast.Constant]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _is_kind(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "kind"


def _short_names(trees: dict[str, ast.Module]) -> list[tuple[str, int, str]]:
    """Strings a variable `kind` (an event's name after its aggregate) is compared with:
    `kind == "X"`, `kind in ("X", …)`, `kind in NAMES` (NAMES assigned at a module's top level,
    followed through the names it is made of) and the `case "X":` of `match kind:`."""
    constants = {
        target.id: node.value
        for tree in trees.values()
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def expand(expr: ast.AST, seen: set[str]) -> list[ast.Constant]:
        if isinstance(expr, ast.Dict):  # `kind in MAPPING`: its keys
            return [c for key in expr.keys if key is not None for c in expand(key, seen)]
        found = _strings(expr)
        for n in ast.walk(expr):
            if isinstance(n, ast.Name) and n.id in constants and n.id not in seen:
                seen.add(n.id)
                found += expand(constants[n.id], seen)
        return found

    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            compared: list[ast.AST] = []
            if isinstance(node, ast.Compare) and _is_kind(node.left):
                compared = list(node.comparators)
            elif isinstance(node, ast.Match) and _is_kind(node.subject):
                compared = [case.pattern for case in node.cases]
            found += [(path, c.lineno, c.value) for part in compared for c in expand(part, set())]
    return found


def test_no_read_model_writes_an_event_name_as_a_string() -> None:
    """The offline_* read models were the last to compare names (`kind == "Approved"`, `case
    "Accepted"`, `"Case.Received"`): they dispatch on classes too now, so a misspelt event fails
    at import and in mypy. Neither a full name nor a short name compared with `kind` is left."""
    trees = {p.name: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(PROJECTIONS.glob("*.py"))}
    aggregates = {a.__qualname__ for a in AGGREGATES}
    written = [
        f"{path}:{c.lineno} {c.value!r}"
        for path, tree in trees.items()
        for c in _strings(tree)
        if QUALIFIED.fullmatch(c.value) or (PREFIX.fullmatch(c.value) and c.value[:-1] in aggregates)
    ]
    shorts = _short_names({path: tree for path, tree in trees.items() if path.startswith("offline_")})
    written += [f"{path}:{line} {value!r} (compared with kind)" for path, line, value in shorts]
    assert not written, "\n".join(written)


def test_the_scan_catches_a_misspelt_name() -> None:
    source = 'APPROVALS = frozenset({"Aproved"})\ndef f(kind):\n    return kind in APPROVALS or kind == "Revoked"\n'
    shorts = {v for _, _, v in _short_names({"x.py": ast.parse(source)})}
    assert shorts == {"Aproved", "Revoked"}
    assert "Aproved" not in {name.split(".", 1)[1] for name in EVENT_NAMES}

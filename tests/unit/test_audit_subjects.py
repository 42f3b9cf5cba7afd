"""The audit trail's subject table (projections/audit_subjects.py) covers every aggregate of domain/
and every event field that names a subject: an aggregate or a field added later cannot be missed."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from typing import Any

from eventsourcing.domain import Aggregate

import domain
from projections.audit_subjects import AGGREGATES, EVENTS, plan_of

# fields that name a subject wherever they appear
SUBJECT_FIELDS = frozenset(
    {"project_code", "case_id", "document_hash", "seal_id", "inquiry_id", "warning_id", "warning_ids", "signer",
     "signing_request_id", "set_hash", "package_hash", "manifest_hash"}
)  # fmt: skip


def aggregates() -> list[type[Aggregate]]:
    found: dict[type[Aggregate], None] = {}
    for info in pkgutil.walk_packages(domain.__path__, "domain."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, Aggregate) and value.__module__ == info.name:
                found[value] = None
    return list(found)


def events_of(aggregate: type[Aggregate]) -> list[type[Any]]:
    return [v for v in vars(aggregate).values() if inspect.isclass(v) and issubclass(v, Aggregate.Event) and v.__dict__]


def test_every_aggregate_of_the_domain_has_its_subjects_listed() -> None:
    found = aggregates()
    assert len(found) >= 27
    assert [a.__qualname__ for a in found if a not in AGGREGATES] == []


def test_every_event_class_is_owned_by_its_aggregate_and_every_subject_field_is_mapped() -> None:
    missing = []
    for aggregate in aggregates():
        for event in events_of(aggregate):
            plan = plan_of(event)
            assert plan.own == AGGREGATES[aggregate].own, event.__qualname__
            mapped = {attr for attr, _ in plan.fields if isinstance(attr, str)}
            names = {f.name for f in dataclasses.fields(event)}
            missing += [f"{event.__qualname__}.{n}" for n in sorted(names & SUBJECT_FIELDS - mapped)]
    assert missing == []


def test_every_field_named_in_the_table_exists_on_its_event_class() -> None:
    for event, fields in EVENTS.items():
        names = {f.name for f in dataclasses.fields(event)}
        assert [a for a, _ in fields if isinstance(a, str) and a not in names] == [], event.__qualname__

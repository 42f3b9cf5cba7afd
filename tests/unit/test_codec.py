"""The log's fast decoding (infrastructure/codec.py) gives what eventsourcing's own gives: for every
event type we store, from bytes the application's encoder wrote, the same event (same class, equal
fields of the same types) or the same error; and for odd JSON (big integers, NaN, lone surrogates,
look-alike `_type_` dicts) the same value or the same error."""

from __future__ import annotations

import math
import types
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent
from eventsourcing.utils import get_topic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infrastructure.codec import FastJSONTranscoder, FastMapper, uuid_from_hex
from infrastructure.log import GongjianApplication
from tests.unit.test_events_catalogue import EVENTS  # every event of every aggregate

APP = GongjianApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
LIBRARY = JSONTranscoder()
APP.register_transcodings(LIBRARY)
REFERENCE = Mapper(LIBRARY)  # eventsourcing's own decoding, with our transcodings


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (1 == 1.0 == True would hide a difference)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or repr(a) == repr(b)
    if isinstance(a, UUID):
        return a == b and a.is_safe == b.is_safe
    if isinstance(a, datetime | Decimal):
        return repr(a) == repr(b)
    if hasattr(a, "__dict__") and not isinstance(a, Enum | type):
        return same(vars(a), vars(b))
    return bool(a == b)


def outcome(decode: Any, data: Any) -> tuple[str, Any]:
    try:
        return "value", decode(data)
    except Exception as exc:
        return "error", type(exc)


def agree(fast: tuple[str, Any], reference: tuple[str, Any]) -> bool:
    return fast[0] == reference[0] and (same(fast[1], reference[1]) if fast[0] == "value" else fast[1] is reference[1])


zones = st.one_of(st.just(UTC), st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))))
aware = st.datetimes(timezones=zones)
floats = st.one_of(st.floats(), st.sampled_from([1e300, 2.0**63, -(2.0**63), 2.0**64, 0.1, -0.0]))
integers = st.one_of(st.integers(), st.integers(2**60, 2**70), st.integers(-(2**70), -(2**60)))
texts = st.text()  # (a lone surrogate cannot be encoded: the literal cases below have one)
scalars = st.one_of(
    st.none(), st.booleans(), integers, floats, texts, st.uuids(), aware, st.datetimes(), st.dates(),
    st.decimals(), st.decimals(allow_nan=False, allow_infinity=False),
)  # fmt: skip
look_alikes = st.one_of(
    st.fixed_dictionaries(
        {"_type_": st.sampled_from(["uuid_hex", "date_iso", "nope", "decimal_str"]), "_data_": texts}
    ),
    st.fixed_dictionaries({"_type_": st.just("uuid_hex"), "_data_": st.uuids().map(lambda u: u.hex.upper())}),
    st.fixed_dictionaries({"_type_": st.just("datetime_iso"), "_data_": st.one_of(integers, st.lists(texts))}),
)
values = st.recursive(
    st.one_of(scalars, look_alikes),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)


def storable(hint: Any) -> st.SearchStrategy[Any]:
    """Values of a field's annotation, as a service could give them (and odd ones within the type)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return st.one_of(*(storable(a) for a in args))
    if origin in (list, tuple):
        return st.lists(storable(args[0]) if args else values, max_size=3)
    if origin is dict:
        return st.dictionaries(texts, storable(args[1]), max_size=3)
    if hint is type(None):
        return st.none()
    if isinstance(hint, type) and issubclass(hint, Enum):
        return st.sampled_from(list(hint))
    simple = {str: texts, int: integers, bool: st.booleans(), float: floats, UUID: st.uuids(), Decimal: st.decimals()}
    if hint in simple:
        return simple[hint]
    if hint is datetime:
        return aware
    if hint is date:
        return st.dates()
    return values  # Any


def stored_events(cls: type) -> st.SearchStrategy[StoredEvent]:
    hints = typing.get_type_hints(cls)
    fields = {
        name: storable(hint)
        for name, hint in hints.items()
        if name not in ("originator_id", "originator_version") and typing.get_origin(hint) is not typing.ClassVar
    }
    class_version = getattr(cls, "class_version", 1)
    # an event stored before its class's last version carries an older one, or none (version 1)
    versions = st.sampled_from([None, *range(1, class_version + 1)]) if class_version > 1 else st.just(None)

    def encoded(state: dict[str, Any], version: int | None, oid: UUID, number: int) -> StoredEvent:
        if version is not None:
            state["class_version"] = version
        return StoredEvent(oid, number, get_topic(cls), LIBRARY.encode(state))

    return st.builds(encoded, st.fixed_dictionaries(fields), versions, st.uuids(), st.integers(1, 2**40))


@pytest.mark.parametrize("cls", EVENTS, ids=lambda c: c.__qualname__)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_event_type_decodes_to_what_the_library_decodes(cls: type, data: st.DataObject) -> None:
    stored = data.draw(stored_events(cls))
    mapper = APP.mapper
    assert isinstance(mapper, FastMapper) and isinstance(mapper.transcoder, FastJSONTranscoder)
    fast, reference = outcome(mapper.to_domain_event, stored), outcome(REFERENCE.to_domain_event, stored)
    assert agree(fast, reference), (stored, fast, reference)
    if fast[0] == "value":
        assert type(fast[1]) is cls


@settings(max_examples=200, deadline=None)
@given(state=st.dictionaries(texts, values, max_size=6))
def test_odd_json_decodes_to_what_the_library_decodes(state: dict[str, Any]) -> None:
    data = LIBRARY.encode(state)
    assert agree(outcome(APP.mapper.transcoder.decode, data), outcome(LIBRARY.decode, data))


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":123456789012345678901234567890}',  # orjson would read a float
        b'{"a":-9223372036854775809,"b":[18446744073709551616]}',
        b'{"a":NaN,"b":Infinity}',
        b'{"a":1e400}',
        b'{"a":"\\ud800"}',
        b'{"a":{"_type_":"nope","_data_":"x"}}',
        b'{"a":{"_type_":"uuid_hex","_data_":"not-a-uuid"}}',
        b'{"a":{"_type_":"datetime_iso","_data_":5}}',
        b'{"_type_":"date_iso","_data_":"2024-02-29"}',
        b'{"a":[{"_type_":"decimal_str","_data_":"1.50"},{"_type_":"uuid_hex","_data_":{"x":1}}]}',
        b"\xff",
    ],
)
def test_what_orjson_reads_otherwise_decodes_as_the_library_does(data: bytes) -> None:
    assert agree(outcome(APP.mapper.transcoder.decode, data), outcome(LIBRARY.decode, data))


@given(st.one_of(st.uuids().map(lambda u: u.hex), st.uuids().map(str), st.text(max_size=40)))
def test_uuid_from_hex_is_uuid_of_hex(text: str) -> None:
    assert agree(outcome(uuid_from_hex, text), outcome(UUID, text))

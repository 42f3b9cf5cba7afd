"""The log's decoding, fast: the same stored bytes into the same domain events, in less CPU.

Encoding is the library's (`JSONTranscoder`: the stored bytes never change). Decoding parses with
orjson (C) and then applies the registered transcodings bottom-up, as the library's `object_hook`
does: every dict of exactly the two keys `_type_` and `_data_` becomes its transcoding's value.
Whatever orjson reads differently from `json` falls back to the library's decoder, which then gives
its own result or error: orjson refuses NaN, Infinity, numbers beyond a double and lone surrogates,
and reads an integer beyond 64 bits as a float, so any float that large is taken for one and sent
back too. The mapper is the library's with its per-class look-ups cached.
(tests/unit/test_codec.py: equal objects, of equal types, for every event type and odd values.)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID, SafeUUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
    UUIDAsHex,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

_UNKNOWN = SafeUUID.unknown  # (an enum member's look-up costs a descriptor call)
_BIG = float(1 << 63)  # orjson's floats at least this large may have been integers: not trusted


class _Fallback(Exception):
    """The fast reading may differ from the library's: decode this one the library's way."""


def uuid_from_hex(data: Any) -> UUID:
    """UUIDAsHex.decode, without UUID.__init__'s string handling for the usual 32 hex digits (any
    32 alphanumerics: UUID() would strip nothing from them and parse the same int)."""
    if type(data) is not str or len(data) != 32 or not data.isalnum():
        return UUID(data)
    value = object.__new__(UUID)
    object.__setattr__(value, "int", int(data, 16))
    object.__setattr__(value, "is_safe", _UNKNOWN)
    return value


def _fast(transcoding: Transcoding) -> Callable[[Any], Any]:
    """The library's own transcodings, called without their Python method (same values, and an
    error wherever they raise one); any other transcoding as registered."""
    if type(transcoding) is UUIDAsHex:
        return uuid_from_hex
    if type(transcoding) is DatetimeAsISO:
        return datetime.fromisoformat  # a non-str raises TypeError (the library: AssertionError)
    if type(transcoding) is DecimalAsStr:
        return Decimal
    return transcoding.decode


class FastJSONTranscoder(JSONTranscoder):
    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._decoders = {name: _fast(t) for name, t in self.names.items()}

    def decode(self, data: bytes) -> Any:
        try:
            return self._revive(orjson.loads(data))
        except Exception:  # _Fallback, or bytes or a value the library may treat otherwise
            return super().decode(data)

    def _revive(self, value: Any) -> Any:
        """Transcoded values in place of their dicts, innermost first (as `object_hook`)."""
        if type(value) is dict:
            items: Any = value.items()
        elif type(value) is list:
            items = enumerate(value)
        elif type(value) is float and not -_BIG < value < _BIG:
            raise _Fallback
        else:
            return value
        decoders = self._decoders
        for key, item in items:
            kind = type(item)
            if kind is dict:
                data = item.get("_data_", item)
                if len(item) == 2 and "_type_" in item and data is not item and type(data) is str:
                    value[key] = decoders[item["_type_"]](data)  # a leaf: no dict inside to revive first
                else:
                    value[key] = self._revive(item)
            elif kind is list or (kind is float and not -_BIG < item < _BIG):
                value[key] = self._revive(item)
        if type(value) is dict and len(value) == 2 and "_type_" in value and "_data_" in value:
            return decoders[value["_type_"]](value["_data_"])
        return value


class FastMapper(Mapper[Any]):
    """`Mapper.to_domain_event` with the topic's class, class version and id convertor cached."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._classes: dict[tuple[str, type], tuple[type, int, Callable[[Any], Any]]] = {}

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        if self.cipher or self.compressor:
            return super().to_domain_event(stored_event)
        originator_id = stored_event.originator_id
        key = (stored_event.topic, type(originator_id))
        found = self._classes.get(key)
        cls = resolve_topic(stored_event.topic) if found is None else found[0]
        try:
            event_state: dict[str, Any] = self.transcoder.decode(stored_event.state)
        except Exception:  # the library's error, worded as the library words it
            return super().to_domain_event(stored_event)
        if found is None:  # (after the decoding, as in the library: its error comes first)
            convert = find_id_convertor(cls, cast(Hashable, type(originator_id)))
            found = self._classes[key] = (cls, getattr(cls, "class_version", 1), convert)
        _, class_version, convert = found
        event_state["originator_id"] = convert(originator_id)
        event_state["originator_version"] = stored_event.originator_version
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", event_state)
        return domain_event  # type: ignore[no-any-return]

"""JSON text of read-model rows, as `json.dumps(value, ensure_ascii=False, sort_keys=True,
default=...)` writes it (or with sort_keys=False), by one C encoder made once: `JSONEncoder.encode`
makes a new one per call, a good part of the cost of a small row (rebuilds encode one or more per
event)."""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)  # None: no C accelerator


def sorted_json(default: Callable[[Any], Any] | None = None, *, sort_keys: bool = True) -> Callable[[Any], str]:
    """The encoding function (no circular-reference check: rows are trees)."""
    if _make_encoder is None:
        return json.JSONEncoder(default=default, ensure_ascii=False, sort_keys=sort_keys).encode
    encode = _make_encoder(None, default, encode_basestring, None, ": ", ", ", sort_keys, False, True)

    def text(value: Any) -> str:
        return "".join(encode(value, 0))

    return text

"""Commands as values (issue 19): what a command asks is a frozen dataclass of its own (e.g.
`SubmitCase`, application/commands/cases.py), who asks and how is one `Invocation`, and what it
answers is a typed outcome (e.g. `CaseOutcome`) that the REST layer turns into the JSON of
/work/shared/API.md (`Outcome.to_json`). The services that take them: docs/architecture.md
("The command path")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cache
from typing import Any, Self, get_type_hints
from uuid import UUID

from application.idempotency import IdempotencyKey
from application.policy import Actor
from domain.shared.events import Channel


@dataclass(frozen=True)
class Invocation:
    """Who issues a command and how: the actor, the request id every event's Meta keeps, the
    Idempotency-Key (None: not keyed), the business time of an import (None: now; only the commands
    that say so take one) and the channel (None: the actor's; honoured where `Service.meta_of` is used)."""

    actor: Actor
    request_id: str
    key: IdempotencyKey | None = None
    occurred_at: datetime | None = None
    channel: Channel | None = None  # None: the actor's (a process manager names its own)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What every command answers besides its own fields: the log position of its save (of the
    receipt's, for a replay) and whether it is a replay of an earlier answer to the same key."""

    position: int | None
    replayed: bool = False
    # a replayed receipt's keys this outcome has no field for (a receipt kept by an older version):
    # answered again as they were kept
    kept: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, answer: Mapping[str, Any]) -> Self:
        """From `Service.execute`'s answer (the form a receipt keeps). A key the outcome has no
        field for is refused, so the JSON cannot lose it, except in a replay, which keeps it."""
        names = {f.name for f in fields(cls)} - {"kept"}
        unknown = set(answer) - names
        if unknown and not answer.get("replayed"):
            raise TypeError(f"{cls.__name__} has no field for {sorted(unknown)}")
        ids = _uuid_fields(cls)  # type: ignore[arg-type]  # a class is hashable
        values: dict[str, Any] = {
            k: UUID(v) if k in ids and isinstance(v, str) else v for k, v in answer.items() if k in names
        }
        try:
            return cls(**values, kept={k: answer[k] for k in unknown})
        except TypeError:
            if not answer.get("replayed"):
                raise
            # an older receipt lacking a field: its answer as kept, not a 500
            return cls._as_kept(answer)

    @classmethod
    def _as_kept(cls, answer: Mapping[str, Any]) -> Self:
        blank = {f.name: None for f in fields(cls) if f.name not in ("position", "replayed", "kept")}
        return cls(**blank, position=answer.get("position"), replayed=True, kept=dict(answer))

    def to_json(self) -> dict[str, Any]:
        """The answer as the API gives it: ids as text; an optional field (default None) left None is
        not part of this answer (e.g. `status` of a receipt), `replayed` only when true."""
        if "position" in self.kept:  # `_as_kept`: the older receipt's answer, as it was
            return dict(self.kept)
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "kept" or (value is None and f.default is None) or (f.name == "replayed" and not value):
                continue
            out[f.name] = str(value) if isinstance(value, UUID) else value
        return {**out, **self.kept}


@cache
def _uuid_fields(cls: type) -> frozenset[str]:
    """The fields an outcome types as UUID: the answer (and a receipt) keeps them as text."""
    return frozenset(name for name, hint in get_type_hints(cls).items() if hint is UUID)

"""What the projection engine drives besides read models: process managers (issue 19, one follower).

A process manager turns events into commands (a licence on an approval, a message on a decision).
The engine reads the log after its position in `projection_tracking`, hands it the events of its
`topics`, and records the new position only after `handle` returned: its commands are saved by the
application's services in transactions of their own (never the engine's: on SQLite that one holds
the write lock). A crash in between hands the same events again, which the services' natural keys
make harmless. Defined here, below both layers: projections/ drives it, application/ implements it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from eventsourcing.persistence import Notification


class ProcessManager(Protocol):
    @property
    def name(self) -> str:
        """Its row in `projection_tracking`; never a read model's name."""

    @property
    def topics(self) -> Sequence[str]:
        """The stored topics it reads (the engine selects only these)."""

    @property
    def legacy_position(self) -> str | None:
        """The table `(name, position)` it kept its own position in before issue 19: read once,
        when its tracking row is made, so an upgraded store does not handle history again."""

    def handle(self, batch: Sequence[Notification]) -> None:
        """Issue the commands for these events (in log order); a repeat must be harmless."""

    def idle(self) -> bool:
        """Work on its own clock, whatever the log did (archives once a checkpoint covers them);
        True when it did something."""


class ManagerDriver(Protocol):
    """What the engine offers a process manager that is asked for a round outside the runner (a
    test, a one-shot CLI command): the same reading, handling and position as the runner's."""

    def drive(self, manager: ProcessManager) -> int:
        """Hand `manager` every event after its position (its row, by name) until caught up;
        returns how many."""

    def position(self, name: str) -> int: ...

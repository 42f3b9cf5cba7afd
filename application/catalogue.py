"""流程—阶段—事项—区划 — the process catalogue as events: which flow and version a project's case
runs under (the nearest published flow of its flow type, up the region hierarchy, else the
province's seed), and the admin commands that publish a version or retire a flow.

Rules across aggregates live here: a county-level flow needs a flow of the same type one level up
(R6 of reference/spgl.md); an item of a definition must be in the item catalogue (事项库), whose
codes every read model knows. The province's flows start as the seed (domain/catalog/seed.py):
publishing a new version of one records the seed as version 1.0 first, so cases pinned to the
seed keep reading it back.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.base import Service, rely_on
from application.commands import Invocation
from application.commands.catalogue import FlowPublished, FlowRetired, PublishFlow, RetireFlow
from application.policy import Actor, authorize
from domain.catalog import CATALOG, Item
from domain.catalog.definition import check_definition, parse_version
from domain.catalog.process import (
    PROVINCE,
    Process,
    find_item,
    flow_code,
    parent_flow_region,
    process_id,
    regions_up,
    to_item,
)
from domain.catalog.seed import SEED_VERSION, licence_topic_fields, seed_definition
from domain.projects import Project
from domain.shared.errors import Conflict, InvalidValue, NotFound
from domain.shared.events import Channel, Meta
from domain.shared.reference import REFERENCE
from infrastructure.store import install_latest_edition

# 事项库初始化 — who records the seed: the system, through the import channel
SEEDER = Actor("system:catalogue-seed", "integration", "gongjian", PROVINCE, "事项库初始化")
Find = Callable[[type[Aggregate], UUID], Aggregate | None]
# the last stored version of each aggregate id (absent: nothing stored), in one round trip
Versions = Callable[[Sequence[UUID]], dict[UUID, int]]


@dataclass(frozen=True)
class Flow:
    """A flow as a case sees it: its code, the version in force, that version's definition."""

    code: str
    version: str
    definition: dict[str, Any]
    recorded: bool  # False: the seed, not yet in the log


@dataclass(frozen=True)
class Pin:
    """流程版本锁定 — what a case is received under."""

    flow: Flow
    item: dict[str, Any]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.flow.code, self.flow.version, self.item["version"])

    def as_item(self) -> Item:
        return to_item(self.item)

    def check_situations(self, codes: list[str], field: str = "situation_codes") -> None:
        """情形: a case chooses among its item's situations in the pinned version."""
        known = {s["code"] for s in self.item["situations"]}
        for i, code in enumerate(codes):
            if code not in known:
                raise InvalidValue(
                    f"{field}.{i}", f"situation {code} is not one of item {self.item['code']}'s", "situation_unknown"
                )


def _seed_flow(flow_type: int) -> Flow:
    return Flow(flow_code(flow_type), SEED_VERSION, seed_definition(flow_type), recorded=False)


class PinMemory:
    """What a process remembers of the catalogue, so a case command does not replay flows.

    A pinned (flow, version)'s item never changes: kept for the process's life (bounded LRU). The
    flow in force may change at any moment, in any process: a flow's head (its latest version, or
    retired) is reused only while the log's last version of its Process is the one it was read at,
    checked for all the candidate regions in one query per lookup — never by age — or, inside a
    command on PostgreSQL, by the command's save itself (`rely_on`: the versions last seen are
    compared under the table lock, and the command runs again with the query if one moved).
    """

    def __init__(self, versions: Versions, maxsize: int = 1024) -> None:
        self.versions = versions
        self.maxsize = maxsize
        self._items: OrderedDict[tuple[str, str, str], Item] = OrderedDict()
        self._heads: OrderedDict[UUID, tuple[int, Flow | None]] = OrderedDict()
        self._seen: OrderedDict[tuple[UUID, ...], dict[UUID, int]] = OrderedDict()
        self._seeds: dict[int, Flow] = {}
        self._lock = threading.Lock()  # API workers share it across threads

    def item(self, key: tuple[str, str, str]) -> Item | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def keep_item(self, key: tuple[str, str, str], item: Item) -> None:
        with self._lock:
            _put(self._items, key, item, self.maxsize)

    def head(self, process: UUID, version: int) -> tuple[bool, Flow | None]:
        """(known, flow): the head read at exactly this stored version, if remembered."""
        with self._lock:
            found = self._heads.get(process)
            if found is None or found[0] != version:
                return False, None
            self._heads.move_to_end(process)
            return True, found[1]

    def keep_head(self, process: UUID, version: int, flow: Flow | None) -> None:
        with self._lock:
            _put(self._heads, process, (version, flow), self.maxsize)

    def seen(self, ids: Sequence[UUID]) -> dict[UUID, int] | None:
        """The stored versions these ids had at their last query here, if remembered."""
        with self._lock:
            return self._seen.get(tuple(ids))

    def stored(self, ids: Sequence[UUID]) -> dict[UUID, int]:
        """The stored versions of these ids now (one query), remembered for `seen`."""
        versions = self.versions(ids)
        with self._lock:
            _put(self._seen, tuple(ids), versions, self.maxsize)
        return versions

    def seed(self, flow_type: int) -> Flow:
        """The province's seed flow: decoded once (it never changes)."""
        flow = self._seeds.get(flow_type)
        if flow is None:
            flow = self._seeds[flow_type] = _seed_flow(flow_type)
        return flow


def _put(cache: OrderedDict[Any, Any], key: Any, value: Any, maxsize: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > maxsize:
        cache.popitem(last=False)


class Pins:
    """Flow lookups on the write side: the Process aggregates of the log, the seed below them."""

    def __init__(self, find: Find, memory: PinMemory | None = None) -> None:
        self.find = find
        self.memory = memory

    def process(self, code: str) -> Process | None:
        found = self.find(Process, process_id(code))
        return found if isinstance(found, Process) else None

    def active_at(self, region_code: str, flow_type: int) -> Flow | None:
        """The flow of this type defined at exactly this region, if any and not retired."""
        process = self.process(flow_code(flow_type, region_code))
        if process is None:
            return _seed_flow(flow_type) if region_code == PROVINCE else None
        return _head(process)

    def current(self, region_code: str, flow_type: int) -> Flow:
        """The flow a project of this region and type applies under: the nearest one up the regions."""
        regions = regions_up(region_code)
        flows: Iterable[Flow | None]
        if self.memory is None:
            flows = (self.active_at(region, flow_type) for region in regions)
        else:
            flows = self._remembered(regions, flow_type, self.memory)
        for flow in flows:
            if flow is not None:
                return flow
        raise Conflict(f"no flow of type {flow_type} is in force for region {region_code}")

    def _remembered(self, regions: list[str], flow_type: int, memory: PinMemory) -> list[Flow | None]:
        """`active_at` of each region from one version query, loading only a Process that moved;
        inside a command, from the versions last seen, if the save can check they still hold."""
        ids = [process_id(flow_code(flow_type, region)) for region in regions]
        seen = memory.seen(ids)
        if seen is not None:
            remembered = self._flows(regions, ids, seen, flow_type, memory, read=False)
            if remembered is not None and rely_on({pid: seen.get(pid) for pid in ids[: len(remembered)]}):
                return remembered
        flows = self._flows(regions, ids, memory.stored(ids), flow_type, memory, read=True)
        assert flows is not None
        return flows

    def _flows(
        self,
        regions: list[str],
        ids: list[UUID],
        stored: dict[UUID, int],
        flow_type: int,
        memory: PinMemory,
        read: bool,
    ) -> list[Flow | None] | None:
        """Each region's flow at these stored versions, nearest first, up to the one that applies;
        a Process not remembered at its version is read (or, with `read` False: None)."""
        flows: list[Flow | None] = []
        for region, pid in zip(regions, ids, strict=True):
            version = stored.get(pid)
            if version is None:  # not in the log: the province's seed, else no flow here
                flows.append(memory.seed(flow_type) if region == PROVINCE else None)
                continue
            known, flow = memory.head(pid, version)
            if not known:
                if not read:
                    return None
                process = self.process(flow_code(flow_type, region))
                assert process is not None  # events are never deleted
                flow = _head(process)
                memory.keep_head(pid, process.version, flow)
            flows.append(flow)
            if flow is not None:
                break  # the nearest one applies: no need to look further up
        return flows

    def version(self, code: str, version: str | None = None) -> Flow:
        """A flow at a version (default: its latest), as recorded or as seeded."""
        process = self.process(code)
        if process is None:
            seeded = [t for t in REFERENCE.flow_types if flow_code(t) == code]
            if not seeded or version not in (None, SEED_VERSION):
                raise NotFound(f"flow {code} version {version or 'latest'} not found")
            return _seed_flow(seeded[0])
        definition = process.latest if version is None else process.definition_at(version)
        if definition is None:
            raise NotFound(f"flow {code} version {version} not found")
        return Flow(process.code, definition["version"], definition, recorded=True)

    def pin(self, project: Project, item_code: str, item_version: str | None = None) -> Pin:
        """R1: the case's (flow, version, item, version) must exist."""
        flow = self.current(project.region_code, project.flow_type)
        item = find_item(flow.definition, item_code)
        if item is None:
            raise InvalidValue(
                "item_code", f"item {item_code} is not in flow {flow.code} version {flow.version} (R1)", "R1"
            )
        if item_code in CATALOG.items and CATALOG.department_for(item_code, project.region_code) is None:
            raise InvalidValue(
                "item_code",
                f"no department handles item {item_code} ({item['department']}) for region {project.region_code} "
                f"or the regions above it (事项库 {CATALOG.version})",
                "department_unavailable",
            )
        if item_version is not None and parse_version(item_version, "item_version") != parse_version(
            item["version"], "item_version"
        ):
            raise InvalidValue(
                "item_version",
                f"item {item_code} is at version {item['version']} in flow {flow.code} {flow.version}, "
                f"not {item_version} (R1: a case's flow, item and versions must exist)",
                "R1",
            )
        if self.memory is not None:  # the case's accept reads this item back
            self.memory.keep_item(_item_key(flow.code, flow.version, item_code), to_item(item))
        return Pin(flow, item)

    def pinned_item(self, flow_code_: str | None, flow_version: str | None, item_code: str) -> Item:
        """The item a case runs under: its pinned version's, or the seed's for unpinned cases."""
        if flow_code_ is None or flow_version is None:
            return CATALOG.item(item_code)
        # a recorded version never changes, nor does the seed (recorded as 1.0 when first republished)
        key = _item_key(flow_code_, flow_version, item_code)
        remembered = self.memory.item(key) if self.memory is not None else None
        if remembered is not None:
            return remembered
        item = find_item(self.version(flow_code_, flow_version).definition, item_code)
        if item is None:  # cannot happen for a case received under R1
            raise NotFound(f"item {item_code} not in flow {flow_code_} {flow_version}")
        found = to_item(item)
        if self.memory is not None:
            self.memory.keep_item(key, found)
        return found


def _item_key(code: str, version: str, item_code: str) -> tuple[str, str, str]:
    return (code, str(parse_version(version, "flow_version")), item_code)


def _head(process: Process) -> Flow | None:
    """The version a new case of this flow gets, or None once retired."""
    if process.retired:
        return None
    return Flow(process.code, str(process.latest_version), process.latest, recorded=True)


class CatalogueService(Service):
    def __init__(self, *args: Any, memory: PinMemory | None = None) -> None:
        super().__init__(*args)
        self.memory = memory  # shared with the case commands (application/bootstrap.py)

    @property
    def pins(self) -> Pins:
        return Pins(self.find, self.memory)

    def publish(self, by: Invocation, command: PublishFlow) -> FlowPublished:
        """流程发布 — a new version of the flow of this type at this region (the first creates it)."""
        actor, region_code, flow_type = by.actor, command.region_code, command.flow_type
        authorize(actor, "catalogue.publish")
        definition = dict(command.definition)
        items = definition.get("items")
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):  # an edition another process published: its items and licence types
                know_item(self.app, self.position_of, str(item.get("code")))
        checked = check_definition(definition, licence_topic_fields())
        for i, item in enumerate(checked["items"]):
            if item["code"] not in CATALOG.items:
                raise InvalidValue(
                    f"definition.items.{i}.code",
                    f"item {item['code']} is not in the item catalogue (事项库)",
                    "item_unknown",
                )

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            process = self.published(meta, region_code, flow_type, checked)
            response = {"id": str(process.id), "code": process.code, "version": checked["version"]}
            return [process], response

        return FlowPublished.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def published(self, meta: Meta, region_code: str, flow_type: int, checked: dict[str, Any]) -> Process:
        """The flow's Process with this checked definition published (not saved: the caller saves)."""
        process = self.pins.process(flow_code(flow_type, region_code))
        if process is None:
            return self._create(meta, region_code, flow_type, checked)
        process.publish_version(meta, checked)
        return process

    def next_version(self, region_code: str, flow_type: int) -> str:
        """The next whole version of a flow: 1.0 for a new one (2.0 for a seeded provincial flow)."""
        process = self.pins.process(flow_code(flow_type, region_code))
        if process is None:
            return "2.0" if region_code == PROVINCE else SEED_VERSION
        return f"{int(process.latest_version) + 1}.0"

    def _create(self, meta: Meta, region_code: str, flow_type: int, definition: dict[str, Any]) -> Process:
        parent = parent_flow_region(region_code) if region_code in REFERENCE.regions else None
        if parent is not None and self.pins.active_at(parent, flow_type) is None:
            raise InvalidValue(
                "region_code",
                f"no flow of type {flow_type} at {parent} for this {REFERENCE.regions[region_code].level} flow "
                "(R6: a county-level flow must map to a city-level flow of the same flow type)",
                "R6",
            )
        if region_code != PROVINCE:
            return Process.publish(meta, region_code=region_code, flow_type=flow_type, definition=definition)
        # the province's flow is the seed until now: record it as 1.0, then the new version
        process = Process.publish(
            _seed_meta(meta), region_code=PROVINCE, flow_type=flow_type, definition=seed_definition(flow_type)
        )
        process.publish_version(meta, definition)
        return process

    def retire(self, by: Invocation, command: RetireFlow) -> FlowRetired:
        """流程停用 — the flow takes no new cases (the flows above it apply again)."""
        actor, code = by.actor, command.code
        authorize(actor, "catalogue.retire")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            process = self.pins.process(code)
            if process is None:
                raise NotFound(f"flow {code} has not been published")
            process.retire(meta, command.reason)
            return [process], {"id": str(process.id), "code": code}

        return FlowRetired.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def seed(self, request_id: str = "catalogue-seed") -> list[str]:
        """Record the seed (version 1.0) of every provincial flow not yet in the log; idempotent."""
        meta = self.meta(SEEDER, request_id, channel=Channel.IMPORT)
        created = []
        for flow_type in sorted(REFERENCE.flow_types):
            if self.pins.process(flow_code(flow_type)) is None:
                created.append(
                    Process.publish(
                        meta, region_code=PROVINCE, flow_type=flow_type, definition=seed_definition(flow_type)
                    )
                )
        if created:
            self.app.save_all(*created)
        return [p.code for p in created]


def _seed_meta(meta: Meta) -> Meta:
    return Meta(
        actor_id=SEEDER.actor_id,
        actor_role=SEEDER.role,
        actor_org=SEEDER.org,
        channel=Channel.IMPORT,
        request_id=meta.request_id,
        now=meta.now,
    )


def know_item(app: Any, position_of: Callable[[UUID, int], int | None], item_code: str) -> None:
    """An item this process's catalogue lacks may be in an edition another process published."""
    if item_code not in CATALOG.items:
        install_latest_edition(app, position_of)

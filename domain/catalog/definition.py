"""流程定义 — one version of a flow (流程—阶段—事项—区划): its stages with time limits and milestone
rule, its items with situations (情形), materials and form fields, checked by the uploaders' rules
of reference/spgl.md (R4 stage limits) and our own (limits, prerequisites, no cycles).

A definition is plain JSON-able data (it is stored inside `Process` events): `check_definition`
takes what an admin sent, refuses it with InvalidValue naming the field path and the rule, and
returns it normalised (defaults filled, unknown item keys kept under `extra`).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from domain.catalog.follow_up import follow_up_terms
from domain.catalog.rule_approval import parse_rule_approval
from domain.shared.errors import InvalidValue
from domain.shared.reference import REFERENCE

PARALLEL_STAGE = 5  # runs beside the main stages: no stage limit (spgl.md rule 4)
STAGE_LIMITS = range(1, 51)
MILESTONE_RULES = ("all", "any")
MATERIAL_CLASSES = ("applicant", "intermediary", "free", "shared")
FIELD_TYPES = ("string", "number", "integer", "date")
ITEM_KEYS = frozenset(
    {
        "code", "unified_code", "version", "name", "stage", "department", "department_name", "category",
        "legal_limit_days", "promised_limit_days", "milestone", "prerequisites", "licence_type",
        "applies_in_situations", "situations", "materials", "form_fields", "extra",
    }
)  # fmt: skip


def parse_version(value: Any, field: str) -> Decimal:
    """A decimal version (SPLCBBH / SPSXBBH: "1.0", "2.1")."""
    try:
        version = Decimal(str(value))
    except InvalidOperation:
        raise InvalidValue(field, f"{value!r} is not a decimal version", "version_format") from None
    if not version.is_finite() or version <= 0:
        raise InvalidValue(field, "a version is a positive decimal", "version_format")
    return version


def _text(raw: dict[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidValue(f"{path}.{key}", f"{key} is required", "required")
        return None
    if not isinstance(value, str) or len(value) > 200:
        raise InvalidValue(f"{path}.{key}", "text of at most 200 characters", "text")
    return value.strip()


def _int(raw: dict[str, Any], key: str, path: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(f"{path}.{key}", f"{key} must be a whole number", "integer")
    return value


def _list(raw: dict[str, Any], key: str, path: str) -> list[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise InvalidValue(f"{path}.{key}", f"{key} must be a list", "list")
    return value


def _stage(raw: Any, path: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidValue(path, "a stage is an object", "object")
    stage = _int(raw, "stage", path)
    if stage not in REFERENCE.stages:
        raise InvalidValue(f"{path}.stage", f"unknown stage {stage} (stages.csv: 1-5)", "stage_unknown")
    limit = raw.get("limit_days")
    if stage == PARALLEL_STAGE:
        limit = None  # rule 4: the parallel stage has no limit of its own
    elif isinstance(limit, bool) or not isinstance(limit, int) or limit not in STAGE_LIMITS:
        raise InvalidValue(
            f"{path}.limit_days",
            f"stage {stage}: limit {limit} is outside 1..50 working days (R4: a stage's time limit is "
            "1..50 working days, except stage 5)",
            "R4",
        )
    rule = raw.get("milestone_rule", "all")
    if rule not in MILESTONE_RULES:
        raise InvalidValue(f"{path}.milestone_rule", "all or any (which milestones close the stage)", "enum")
    name = _text(raw, "name", path, required=False) or REFERENCE.stages[stage]
    return {"stage": stage, "name": name, "limit_days": limit, "milestone_rule": rule}


def _situation(raw: Any, path: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidValue(path, "a situation is an object", "object")
    return {"code": _text(raw, "code", path), "name": _text(raw, "name", path)}


def _material(raw: Any, path: str, situations: set[str], licence_types: dict[str, set[str]]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidValue(path, "a material is an object", "object")
    kind = raw.get("class", "applicant")
    if kind not in MATERIAL_CLASSES:
        raise InvalidValue(f"{path}.class", f"one of {', '.join(MATERIAL_CLASSES)}", "enum")
    when = [str(s) for s in _list(raw, "situations", path)]
    for i, code in enumerate(when):
        if code not in situations:
            raise InvalidValue(
                f"{path}.situations.{i}", f"situation {code} is not one of the item's", "situation_unknown"
            )
    licence = raw.get("licence")
    if licence is not None:
        if not isinstance(licence, dict) or licence.get("type") not in licence_types:
            raise InvalidValue(
                f"{path}.licence.type", f"a licence type of {sorted(licence_types)}", "licence_type_unknown"
            )
        fields = [
            str(f)
            for f in _list(
                {"topic_fields": ["holder_uscc", "project_code"], **licence}, "topic_fields", f"{path}.licence"
            )
        ]
        unknown = [f for f in fields if f not in licence_types[licence["type"]]]
        if unknown or not fields:
            raise InvalidValue(
                f"{path}.licence.topic_fields",
                f"topic fields of {licence['type']}, not {unknown}",
                "topic_field_unknown",
            )
        licence = {"type": licence["type"], "topic_fields": fields}
    return {
        "code": _text(raw, "code", path),
        "name": _text(raw, "name", path),
        "class": kind,
        "internally_shared": bool(raw.get("internally_shared", False)),
        "situations": when,
        "licence": licence,
    }


def _form_field(raw: Any, path: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidValue(path, "a form field is an object", "object")
    kind = raw.get("type", "string")
    if kind not in FIELD_TYPES:
        raise InvalidValue(f"{path}.type", f"one of {', '.join(FIELD_TYPES)}", "enum")
    return {
        "name": _text(raw, "name", path),
        "label": _text(raw, "label", path),
        "type": kind,
        "required": bool(raw.get("required", False)),
        "prefill": _text(raw, "prefill", path, required=False),
    }


def _item(raw: Any, path: str, stages: set[int], licence_types: dict[str, set[str]]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidValue(path, "an item is an object", "object")
    stage = _int(raw, "stage", path)
    if stage not in stages:
        raise InvalidValue(f"{path}.stage", f"stage {stage} is not a stage of this flow", "stage_unknown")
    legal, promised = _int(raw, "legal_limit_days", path), _int(raw, "promised_limit_days", path)
    if legal <= 0 or promised <= 0:
        raise InvalidValue(f"{path}.promised_limit_days", "limits are positive working days", "positive")
    if promised > legal:
        raise InvalidValue(
            f"{path}.promised_limit_days",
            f"the promised limit {promised} exceeds the legal limit {legal} (承诺时限 ≤ 法定时限)",
            "promised_over_legal",
        )
    situations = [_situation(s, f"{path}.situations.{i}") for i, s in enumerate(_list(raw, "situations", path))]
    codes = {s["code"] for s in situations}
    applies = [str(s) for s in _list(raw, "applies_in_situations", path)]
    for i, code in enumerate(applies):
        if code not in codes:
            raise InvalidValue(
                f"{path}.applies_in_situations.{i}", f"situation {code} is not the item's", "situation_unknown"
            )
    extra = {k: v for k, v in raw.items() if k not in ITEM_KEYS}
    if not isinstance(raw.get("extra") or {}, dict):
        raise InvalidValue(f"{path}.extra", "extra is an object", "object")
    extra = {**dict(raw.get("extra") or {}), **extra}
    if "rule_approval" in extra:  # 智能审批: a bad configuration is refused at publication, not at a case
        try:
            parse_rule_approval(str(raw.get("code")), extra["rule_approval"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidValue(f"{path}.rule_approval", str(exc), "rule_approval_invalid") from None
    for key in ("pending_materials", "commitment"):  # 容缺 and 告知承诺 terms, checked at publication
        if key in extra:
            try:
                follow_up_terms(str(raw.get("code")), {key: extra[key]})
            except ValueError as exc:
                raise InvalidValue(f"{path}.{key}", str(exc), f"{key}_invalid") from None
    return {
        "code": _text(raw, "code", path),
        "unified_code": _text(raw, "unified_code", path, required=False) or _text(raw, "code", path),
        "version": str(parse_version(raw.get("version", "1.0"), f"{path}.version")),
        "name": _text(raw, "name", path),
        "stage": stage,
        "department": _text(raw, "department", path),
        "department_name": _text(raw, "department_name", path, required=False),
        "category": _text(raw, "category", path, required=False) or "",
        "legal_limit_days": legal,
        "promised_limit_days": promised,
        "milestone": bool(raw.get("milestone", False)),
        "prerequisites": [str(p) for p in _list(raw, "prerequisites", path)],
        "licence_type": _text(raw, "licence_type", path, required=False),
        "applies_in_situations": applies,
        "situations": situations,
        "materials": [
            _material(m, f"{path}.materials.{i}", codes, licence_types)
            for i, m in enumerate(_list(raw, "materials", path))
        ],
        "form_fields": [
            _form_field(f, f"{path}.form_fields.{i}") for i, f in enumerate(_list(raw, "form_fields", path))
        ],
        "extra": extra,  # keys other contexts add (e.g. rule_approval) are carried, not dropped
    }


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A prerequisite cycle as [a, b, …, a], or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(graph.get(start, []))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif not state.get(nxt) and nxt in graph:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph[nxt]))
    return None


def check_definition(raw: Any, licence_types: dict[str, set[str]]) -> dict[str, Any]:
    """The definition normalised, or InvalidValue naming the field path and the rule.

    `licence_types`: each licence type a material may be satisfied by, with its topic fields."""
    if not isinstance(raw, dict):
        raise InvalidValue("definition", "a flow definition is an object", "object")
    name = _text(raw, "name", "definition")
    version = str(parse_version(raw.get("version"), "definition.version"))
    stages = [_stage(s, f"definition.stages.{i}") for i, s in enumerate(_list(raw, "stages", "definition"))]
    numbers = [s["stage"] for s in stages]
    if len(set(numbers)) != len(numbers) or not stages:
        raise InvalidValue("definition.stages", "each stage once, at least one", "stage_duplicate")
    items = [
        _item(it, f"definition.items.{i}", set(numbers), licence_types)
        for i, it in enumerate(_list(raw, "items", "definition"))
    ]
    codes = [it["code"] for it in items]
    if len(set(codes)) != len(codes):
        raise InvalidValue("definition.items", "each item code once", "item_duplicate")
    for i, it in enumerate(items):
        for j, pre in enumerate(it["prerequisites"]):
            if pre not in codes:
                raise InvalidValue(
                    f"definition.items.{i}.prerequisites.{j}", f"item {it['code']}: unknown prerequisite {pre}",
                    "prerequisite_unknown",
                )  # fmt: skip
    cycle = find_cycle({it["code"]: it["prerequisites"] for it in items})
    if cycle:
        raise InvalidValue(
            "definition.items", f"prerequisite cycle {' → '.join(cycle)} (前后逻辑关系不能成环)", "prerequisite_cycle"
        )
    return {"name": name, "version": version, "stages": sorted(stages, key=lambda s: s["stage"]), "items": items}

"""The rules of each sheet of a catalogue file (docs/catalogue.md, "The catalogue file"): cells,
uniqueness, references across sheets (departments up the region chain), limits, prerequisite
cycles, implementation codes. Called by `domain/catalog/edition.py:parse_edition`."""

from __future__ import annotations

from functools import partial
from graphlib import CycleError, TopologicalSorter
from typing import Any

from domain.catalog.edition import (
    CODE_RE,
    DEFAULT_PENDING_MAX_DAYS,
    DEFAULT_TOPIC_FIELDS,
    DEPARTMENT_KINDS,
    FIELD_TYPES,
    IMPLIED_TOPIC_FIELDS,
    ITEM_CODE_RE,
    LONG_MAX,
    MATERIAL_CLASSES,
    NATIONAL_CODE_RE,
    REGION_RE,
    TOPIC_KINDS,
    VERSION_RE,
    CatalogueErrors,
    RowError,
    _bool,
    _Check,
    _enum,
    _int,
    _json,
    _list,
    _match,
    _text,
    reference_region,
    uscc,
    version_key,
)
from domain.catalog.follow_up import MAX_FOLLOW_UP_DAYS, follow_up_terms
from domain.catalog.rule_approval import parse_rule_approval
from domain.shared.reference import REFERENCE

EDITION_KEYS = ("version", "title", "source", "note")
MAIN_STAGES = (1, 2, 3, 4)
NATIONAL_CEILING_DAYS = 120


def _opt(parse: Any) -> Any:
    return lambda v: parse(v) if v else None


def parse_edition(tables: dict[str, list[dict[str, Any]]], last_version: str | None = None) -> dict[str, Any]:
    """The edition, normalised; CatalogueErrors with every bad cell. `last_version`: the catalogue in
    force, which the edition's version must be newer than."""
    if not isinstance(tables, dict):
        raise CatalogueErrors([RowError("tables", None, None, "object", "tables is an object {sheet: [rows]}")])
    check = _Check(dict(tables))
    check.headers()
    edition = check_tables(check, last_version) if not check.errors else {}
    if check.errors:
        raise CatalogueErrors(check.errors)
    return edition


def check_tables(check: _Check, last_version: str | None) -> dict[str, Any]:
    edition = _edition(check, last_version)
    regions = _regions(check)
    departments = _departments(check, regions)
    licence_types = _licence_types(check)
    items = _items(check, departments, regions, licence_types)
    _situations(check, items)
    _materials(check, items, licence_types)
    _form_fields(check, items)
    _applies_in(check, items)
    implementations = _implementations(check, items, departments, regions)
    return {
        **edition,
        "regions": regions,
        "departments": departments,
        "licence_types": list(licence_types.values()),
        "items": list(items.values()),
        "implementations": implementations,
        "stages": _stages(check),
        "project_targets": _targets(check),
        "flows": _flows(check, items, regions),
    }


def _edition(check: _Check, last_version: str | None) -> dict[str, Any]:
    values: dict[str, str | None] = {}
    seen: set[str] = set()
    for i, row in check.rows("edition"):
        key = check.field("edition", i, row, "key", _enum(EDITION_KEYS))
        if key is None or not check.unique("edition", i, "key", key, seen):
            continue
        if key == "version":
            version = check.field(
                "edition", i, row, "value", _match(VERSION_RE, "version_format", "YYYY.MM-n, e.g. 2026.12-1")
            )
            values[key] = version
            if version and last_version and version_key(version) <= version_key(last_version):
                check.bad("edition", i, "value", "version_not_newer", f"not newer than {last_version} in force")
        else:
            values[key] = check.field("edition", i, row, "value", lambda v: _text(v, False, LONG_MAX))
    if "version" not in seen:
        check.bad("edition", None, "key", "required", "a version row is required")
    return {k: values.get(k) for k in EDITION_KEYS}


def _region_known(code: str, regions: list[dict[str, Any]]) -> bool:
    return reference_region(code) or any(r["code"] == code for r in regions)


def _regions(check: _Check) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, row in check.rows("regions"):
        f = partial(check.field, "regions", i, row)
        code = f("code", _match(REGION_RE, "region_format", "a 6-digit code"))
        name, level = f("name", _text), f("level", _text)
        parent = f("parent_code", _opt(_match(REGION_RE, "region_format", "a 6-digit code")))
        region = {
            "code": code,
            "name": name,
            "level": level,
            "parent_code": parent,
            "approval_powers": f("approval_powers", lambda v: _text(v, False, LONG_MAX)),
            "basis": f("basis", lambda v: _text(v, False, LONG_MAX)),
            "basis_assumed": f("basis_assumed", _bool),
        }
        if code is None or not check.unique("regions", i, "code", code, seen):
            continue
        if reference_region(code):
            ref = REFERENCE.gbt_regions[code]
            if name is not None and name != ref.name:
                check.bad("regions", i, "name", "region_name", f"{code} is {ref.name} in GB/T 2260")
            region["parent_code"] = ref.parent_code
        elif level != "park":
            check.bad("regions", i, "level", "region_unknown", f"{code} is not in GB/T 2260: only a park may be added")
        elif parent is None or not _region_known(parent, out):
            check.bad("regions", i, "parent_code", "region_unknown", "a park's parent is a known region")
        out.append(region)
    return out


def _departments(check: _Check, regions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for i, row in check.rows("departments"):
        f = partial(check.field, "departments", i, row)
        code = f("code", _match(CODE_RE, "code_format", "lower-case letters, digits, _ (e.g. zjj)"))
        region = f("region_code", _match(REGION_RE, "region_format", "a 6-digit code"))
        kind = f("kind", lambda v: _enum(DEPARTMENT_KINDS)(v or "government"))
        credit = f("uscc", uscc)
        department = {
            "code": code,
            "region_code": region,
            "name": f("name", _text),
            "uscc": credit,
            "kind": kind,
            "basis_assumed": f("basis_assumed", _bool),
        }
        if region is not None and not _region_known(region, regions):
            check.bad("departments", i, "region_code", "region_unknown", f"{region} is neither in GB/T 2260 nor a park")
        if credit and kind == "government" and not credit.startswith("11"):
            check.bad("departments", i, "uscc", "uscc_government", "a government body's USCC starts with 11")
        if code is not None and region is not None and check.unique("departments", i, "code", (code, region), seen):
            out.append(department)
    return out


def _licence_types(check: _Check) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for i, row in check.rows("licence_types"):
        f = partial(check.field, "licence_types", i, row)
        code = f("code", _match(CODE_RE, "code_format", "lower-case letters, digits, _"))
        kind = {"code": code, "name": f("name", _text), "basis": f("basis", lambda v: _text(v, False, LONG_MAX))}
        if code is not None and check.unique("licence_types", i, "code", code, set(out)):
            out[code] = {**kind, "fields": []}
    seen: set[tuple[str, str]] = set()
    for i, row in check.rows("licence_fields"):
        f = partial(check.field, "licence_fields", i, row)
        licence = f("licence_type", _text)
        name = f("name", _match(CODE_RE, "code_format", "lower-case letters, digits, _"))
        field = {
            "name": name,
            "label": f("label", _text),
            "kind": f("kind", _enum(TOPIC_KINDS)),
            "required": f("required", _bool),
        }
        if licence is not None and licence not in out:
            check.bad("licence_fields", i, "licence_type", "licence_type_unknown", f"{licence} is not a licence type")
        elif name in IMPLIED_TOPIC_FIELDS:
            check.bad("licence_fields", i, "name", "topic_field_implied", f"{name} is implied for every licence")
        elif (
            licence is not None
            and name is not None
            and check.unique("licence_fields", i, "name", (licence, name), seen)
        ):
            out[licence]["fields"].append(field)
    return out


def department_for(
    departments: list[dict[str, Any]], regions: list[dict[str, Any]], code: str, region: str
) -> dict[str, Any] | None:
    """The department of function `code` nearest up the region chain from `region`."""
    parents = {r["code"]: r["parent_code"] for r in regions}
    here: str | None = region
    while here:
        found = next((d for d in departments if d["code"] == code and d["region_code"] == here), None)
        if found is not None:
            return found
        here = parents.get(here) or (REFERENCE.gbt_regions[here].parent_code if here in REFERENCE.gbt_regions else None)
    return None


def _items(
    check: _Check,
    departments: list[dict[str, Any]],
    regions: list[dict[str, Any]],
    licence_types: dict[str, dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    functions = {d["code"] for d in departments}
    days = _int(1, 365)
    for i, row in check.rows("items"):
        f = partial(check.field, "items", i, row)
        code = f("code", _match(ITEM_CODE_RE, "code_format", "letters, digits, . _ - (e.g. GJ-3-03)"))
        item: dict[str, Any] = {
            "code": code,
            "national_code": f(
                "national_code", _opt(_match(NATIONAL_CODE_RE, "national_code_format", "6-40 digits or capitals"))
            ),
            "unified_code": f("unified_code", lambda v: _text(v, False)),
            "name": f("name", _text),
            "stage": f("stage", _int(1, 5)),
            "department": f("department", _text),
            "category": f("category", lambda v: _text(v, False)) or "",
            "legal_basis": f("legal_basis", lambda v: _text(v, False, LONG_MAX)),
            "legal_limit_days": f("legal_limit_days", days),
            "promised_limit_days": f("promised_limit_days", days),
            "limit_basis_assumed": f("limit_basis_assumed", _bool),
            "prerequisites": f("prerequisites", _list) or [],
            "milestone": f("milestone", _bool),
            "licence_type": f("licence_type", lambda v: _text(v, False)),
            "consulted_departments": f("consulted_departments", _list) or [],
            "applies_in_situations": f("applies_in_situations", _list) or [],
            "commitment_days": f("commitment_days", _int(1, MAX_FOLLOW_UP_DAYS, required=False)),
            "commitment_basis": f("commitment_basis", lambda v: _text(v, False, LONG_MAX)),
            "commitment_basis_assumed": f("commitment_basis_assumed", _bool),
            "pending_materials_days": f("pending_materials_days", _int(1, MAX_FOLLOW_UP_DAYS, required=False)),
            "rule_approval": f("rule_approval", _json),
            "situations": [],
            "materials": [],
            "form_fields": [],
        }
        if code is None or not check.unique("items", i, "code", code, set(out)):
            continue
        out[code] = item
        _item_rules(check, i, item, functions, licence_types)
    for code, item in out.items():
        for p in item["prerequisites"]:
            if p not in out:
                check.bad(
                    "items",
                    _index(check, "items", code),
                    "prerequisites",
                    "prerequisite_unknown",
                    f"{p} is not an item",
                )
    graph = {code: set(item["prerequisites"]) & set(out) for code, item in out.items()}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        cycle = " → ".join(reversed(exc.args[1]))
        check.bad("items", _index(check, "items", exc.args[1][0]), "prerequisites", "prerequisite_cycle", cycle)
    return out


def _index(check: _Check, sheet: str, code: str) -> int | None:
    return next((i for i, row in check.rows(sheet) if str(row.get("code", "")).strip() == code), None)


def _item_rules(
    check: _Check, i: int, item: dict[str, Any], functions: set[str], licence_types: dict[str, dict[str, Any]]
) -> None:
    legal, promised = item["legal_limit_days"], item["promised_limit_days"]
    if legal is not None and promised is not None and promised > legal:
        check.bad("items", i, "promised_limit_days", "promised_over_legal", f"{promised} > legal {legal}")
    if item["department"] is not None and item["department"] not in functions:
        check.bad("items", i, "department", "department_unknown", f"{item['department']} has no departments row")
    for other in item["consulted_departments"]:
        if other not in functions:
            check.bad("items", i, "consulted_departments", "department_unknown", f"{other} has no departments row")
    if item["licence_type"] is not None and item["licence_type"] not in licence_types:
        check.bad("items", i, "licence_type", "licence_type_unknown", f"{item['licence_type']} is not a licence type")
    if (item["commitment_days"] is None) != (item["commitment_basis"] is None):
        check.bad(
            "items", i, "commitment_basis", "commitment_invalid", "commitment_days and commitment_basis go together"
        )
    if item["rule_approval"] is not None and item["code"] is not None:
        try:
            parse_rule_approval(item["code"], item["rule_approval"])
        except ValueError as exc:
            check.bad("items", i, "rule_approval", "rule_approval_invalid", str(exc))
    try:
        follow_up_terms(item["code"] or "", extra_of(item))
    except ValueError as exc:
        check.bad("items", i, "pending_materials_days", "pending_materials_invalid", str(exc))


def extra_of(item: dict[str, Any]) -> dict[str, Any]:
    """The keys a flow definition carries under `extra` for this item (the seed's: basis, rule_approval,
    commitment; an edition may add national_code, consulted departments, pending materials)."""
    extra: dict[str, Any] = {}
    if item.get("legal_basis"):
        extra["basis"] = item["legal_basis"]
    if item.get("rule_approval") is not None:
        extra["rule_approval"] = item["rule_approval"]
    if item.get("commitment_days") is not None:
        extra["commitment"] = {
            "verify_days": item["commitment_days"],
            "basis": item["commitment_basis"],
            "basis_assumed": bool(item.get("commitment_basis_assumed")),
        }
    if item.get("pending_materials_days") is not None:
        days = item["pending_materials_days"]
        extra["pending_materials"] = {"period_days": days, "max_days": max(days, DEFAULT_PENDING_MAX_DAYS)}
    for key in ("national_code", "limit_basis_assumed", "consulted_departments"):
        if item.get(key):
            extra[key] = item[key]
    return extra


def _owner(
    check: _Check, sheet: str, i: int, row: dict[str, Any], items: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    code = check.field(sheet, i, row, "item_code", _text)
    if code is not None and code not in items:
        check.bad(sheet, i, "item_code", "item_unknown", f"{code} is not an item of the items sheet")
        return None
    return items.get(code) if code else None


def _situations(check: _Check, items: dict[str, dict[str, Any]]) -> None:
    seen: set[tuple[str, str]] = set()
    for i, row in check.rows("situations"):
        item = _owner(check, "situations", i, row, items)
        code = check.field(
            "situations", i, row, "code", _match(CODE_RE, "code_format", "lower-case letters, digits, _")
        )
        name = check.field("situations", i, row, "name", _text)
        if item is not None and code is not None and check.unique("situations", i, "code", (item["code"], code), seen):
            item["situations"].append({"code": code, "name": name})


def _materials(check: _Check, items: dict[str, dict[str, Any]], licence_types: dict[str, dict[str, Any]]) -> None:
    seen: set[str] = set()
    for i, row in check.rows("materials"):
        f = partial(check.field, "materials", i, row)
        item = _owner(check, "materials", i, row, items)
        material: dict[str, Any] = {
            "code": f("code", _text),
            "name": f("name", _text),
            "class": f("class", _enum(MATERIAL_CLASSES)),
        }
        if f("internally_shared", _bool):
            material["internally_shared"] = True
        situations = f("situations", _list) or []
        licence = f("licence_type", lambda v: _text(v, False))
        topics = f("topic_fields", _list) or list(DEFAULT_TOPIC_FIELDS)
        if item is not None:
            known = {s["code"] for s in item["situations"]}
            for s in situations:
                if s not in known:
                    check.bad(
                        "materials", i, "situations", "situation_unknown", f"{s} is not a situation of {item['code']}"
                    )
        if situations:
            material["situations"] = situations
        if licence is not None:
            if licence not in licence_types:
                check.bad("materials", i, "licence_type", "licence_type_unknown", f"{licence} is not a licence type")
            else:
                allowed = IMPLIED_TOPIC_FIELDS | {fl["name"] for fl in licence_types[licence]["fields"]}
                for t in topics:
                    if t not in allowed:
                        check.bad(
                            "materials", i, "topic_fields", "topic_field_unknown", f"{licence} has no topic field {t}"
                        )
            material["licence"] = {"type": licence, "topic_fields": topics}
        if (
            item is not None
            and material["code"] is not None
            and check.unique("materials", i, "code", material["code"], seen)
        ):
            item["materials"].append(material)


def _form_fields(check: _Check, items: dict[str, dict[str, Any]]) -> None:
    seen: set[tuple[str, str]] = set()
    for i, row in check.rows("form_fields"):
        f = partial(check.field, "form_fields", i, row)
        item = _owner(check, "form_fields", i, row, items)
        field = {
            "name": f("name", _match(CODE_RE, "code_format", "lower-case letters, digits, _")),
            "label": f("label", _text),
            "type": f("type", _enum(FIELD_TYPES)),
            "required": f("required", _bool),
            "prefill": f("prefill", lambda v: _text(v, False)),
        }
        if (
            item is not None
            and field["name"] is not None
            and check.unique("form_fields", i, "name", (item["code"], field["name"]), seen)
        ):
            item["form_fields"].append(field)


def _applies_in(check: _Check, items: dict[str, dict[str, Any]]) -> None:
    for code, item in items.items():
        known = {s["code"] for s in item["situations"]}
        for s in item["applies_in_situations"]:
            if s not in known:
                check.bad(
                    "items",
                    _index(check, "items", code),
                    "applies_in_situations",
                    "situation_unknown",
                    f"{s} is not a situation of {code} (situations sheet)",
                )


def _implementations(
    check: _Check, items: dict[str, dict[str, Any]], departments: list[dict[str, Any]], regions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for i, row in check.rows("implementations"):
        item = _owner(check, "implementations", i, row, items)
        region = check.field(
            "implementations", i, row, "region_code", _match(REGION_RE, "region_format", "a 6-digit code")
        )
        code = check.field("implementations", i, row, "implementation_code", _text)
        if item is None or region is None or code is None:
            continue
        if not check.unique("implementations", i, "region_code", (item["code"], region), seen):
            continue
        department = department_for(departments, regions, item["department"] or "", region)
        if department is None or not department["uscc"]:
            check.bad(
                "implementations",
                i,
                "region_code",
                "department_unavailable",
                f"no department {item['department']} with a USCC for {region}",
            )
        elif not item["national_code"]:
            check.bad(
                "implementations",
                i,
                "implementation_code",
                "national_code_missing",
                f"{item['code']} has no national_code",
            )
        elif not code.startswith(department["uscc"] + item["national_code"]):
            check.bad(
                "implementations",
                i,
                "implementation_code",
                "implementation_code_format",
                f"expected {department['uscc']} (department USCC) + {item['national_code']} (national code)",
            )
        out.append({"item_code": item["code"], "region_code": region, "implementation_code": code})
    return out


def _stages(check: _Check) -> list[dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for i, row in check.rows("stages"):
        stage = check.field("stages", i, row, "stage", _int(1, 4))
        limit = check.field("stages", i, row, "limit_days", _int(1, 50))
        basis = check.field("stages", i, row, "basis", lambda v: _text(v, False, LONG_MAX))
        if stage is not None and check.unique("stages", i, "stage", stage, set(out)):
            out[stage] = {"stage": stage, "limit_days": limit, "basis": basis}
    missing = [s for s in MAIN_STAGES if s not in out]
    if missing:
        check.bad("stages", None, "stage", "stage_missing", f"one row per main stage 1-4; missing {missing}")
    return [out[s] for s in sorted(out)]


def _targets(check: _Check) -> list[dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for i, row in check.rows("project_targets"):
        flow = check.field("project_targets", i, row, "flow_type", _int(1, 99))
        days = check.field("project_targets", i, row, "target_days", _int(1, NATIONAL_CEILING_DAYS))
        basis = check.field("project_targets", i, row, "basis", lambda v: _text(v, False, LONG_MAX))
        if flow is not None and flow not in REFERENCE.flow_types:
            check.bad("project_targets", i, "flow_type", "flow_type_unknown", f"{flow} is not in flow_types.csv")
        elif flow is not None and check.unique("project_targets", i, "flow_type", flow, set(out)):
            out[flow] = {"flow_type": flow, "target_days": days, "basis": basis}
    missing = [t for t in REFERENCE.flow_types if t not in out]
    if missing:
        check.bad(
            "project_targets", None, "flow_type", "flow_type_missing", f"one row per flow type; missing {missing}"
        )
    return [out[t] for t in sorted(out)]


def _flows(check: _Check, items: dict[str, dict[str, Any]], regions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[tuple[int, str]] = set()
    for i, row in check.rows("flows"):
        flow = check.field("flows", i, row, "flow_type", _int(1, 99))
        region = check.field("flows", i, row, "region_code", _match(REGION_RE, "region_format", "a 6-digit code"))
        codes = check.field("flows", i, row, "items", _list) or []
        if flow is not None and flow not in REFERENCE.flow_types:
            check.bad("flows", i, "flow_type", "flow_type_unknown", f"{flow} is not in flow_types.csv")
        if region is not None and not reference_region(region):
            check.bad("flows", i, "region_code", "region_unknown", f"{region}: a flow is of a GB/T 2260 region")
        unknown = [c for c in codes if c not in items]
        if unknown or not codes:
            check.bad(
                "flows",
                i,
                "items",
                "item_unknown",
                f"not items of the items sheet: {unknown}" if unknown else "required",
            )
        if flow is not None and region is not None and check.unique("flows", i, "region_code", (flow, region), seen):
            out.append({"flow_type": flow, "region_code": region, "items": codes})
    return out

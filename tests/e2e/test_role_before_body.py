"""Token → role → body → scope (issue 18), on every REST route of the served OpenAPI document.

A role that may not do a route's action is refused (403) before its body is looked at, however bad
the body; a role that may is told (422) which field of its body the contract does not have, at the
top level or inside a nested object, before any id in the path is looked up; an unknown query
parameter is a 422 naming it. The action of each route is the table below, read from the services'
`authorize` calls; who may do it is the policy's matrix (docs/security.md). A command route missing
from the table, or a table entry the document no longer has, fails the first test.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from itertools import product
from typing import Any
from uuid import uuid4

import httpx

from application.policy import PERMISSIONS, ROLES
from tests.e2e.conftest import OWNER_USCC, Server, auth, new_project_code

PROBLEM = "application/problem+json"
UNKNOWN = "zz_unknown"
CASE_ACTIONS = (  # ../shared/API.md: POST /api/v1/cases/{case_id}/{action}
    "accept", "not-accept", "refuse-acceptance", "request-correction", "complete-correction", "start-review",
    "record-opinion", "start-special-procedure", "end-special-procedure", "approve", "approve-pending-materials",
    "refuse", "withdraw", "revoke",
    # docs/architecture.md: 容缺 and 告知承诺 follow-ups (API.md lets the action list grow)
    "supply-materials", "approve-on-commitment", "verify-commitment",
)  # fmt: skip
INQUIRY_ACTIONS = ("request-explanation", "record-explanation", "record-finding", "record-sanction", "close")
FEEDBACK_ACTIONS = ("list", "assign", "answer", "close")  # docs/supervision.md: POST /api/v1/feedback/{id}/{action}

# (method, path template) → the action its service authorizes; "{action}" is the path parameter's
# value; None: open to every authenticated role (验真 writes nothing unless `record`, which every
# role but analyst, integration and applicant may ask for: the union is every role).
ACTIONS: dict[tuple[str, str], str | None] = {
    ("post", "/api/v1/projects"): "project.generate",
    ("post", "/api/v1/projects/{project_code}/land-supply"): "project.supply-land",
    ("post", "/api/v1/projects/{project_code}/parcels"): "project.link-parcel",
    ("post", "/api/v1/projects/{project_code}/unit-works"): "project.register-unit-work",
    ("post", "/api/v1/projects/{project_code}/merge"): "project.merge",
    ("post", "/api/v1/blueprint/zones"): "blueprint.import",
    ("post", "/api/v1/blueprint/assessment-areas"): "blueprint.import",
    ("post", "/api/v1/blueprint/{layer}/{code}/retire"): "blueprint.retire",
    ("post", "/api/v1/cases"): "case.submit",
    ("post", "/api/v1/cases/offline-entries"): "case.offline-entry",
    **{("post", f"/api/v1/cases/{{case_id}}/{a}"): f"case.{a}" for a in CASE_ACTIONS},
    ("post", "/api/v1/external-records"): "external-record.report",
    ("post", "/api/v1/exchange/spgl"): "spgl.import",
    ("post", "/api/v1/exchange/spgl/upload-results"): "spgl.export",
    ("post", "/api/v1/ratings"): "rating.rate",
    ("post", "/api/v1/ratings/{rating_id}/rectification"): "rating.rectify",
    ("post", "/api/v1/ratings/{rating_id}/follow-up"): "rating.follow-up",
    ("post", "/api/v1/feedback"): "feedback.submit",
    **{("post", f"/api/v1/feedback/{{feedback_id}}/{a}"): f"feedback.{a}" for a in FEEDBACK_ACTIONS},
    ("post", "/api/v1/warnings/{warning_id}/acknowledge"): "warning.acknowledge",
    ("post", "/api/v1/warnings/{warning_id}/close"): "warning.close",
    ("post", "/api/v1/inquiries"): "inquiry.open",
    **{("post", f"/api/v1/inquiries/{{inquiry_id}}/{a}"): f"inquiry.{a}" for a in INQUIRY_ACTIONS},
    ("post", "/api/v1/seals"): "seal.register",
    ("post", "/api/v1/seals/{seal_id}/revoke"): "seal.revoke",
    ("post", "/api/v1/seals/{seal_id}/{action}"): "seal.{action}",
    ("put", "/api/v1/seals/{seal_id}/signers"): "seal.change-signers",
    ("post", "/api/v1/signing-requests"): "signing.request",
    ("post", "/api/v1/signing-requests/{signing_request_id}/mobile-codes"): "signing.sign",
    ("post", "/api/v1/signing-requests/{signing_request_id}/signatures"): "signing.sign",
    ("post", "/api/v1/signatures/verify"): None,
    ("post", "/api/v1/archives"): "archive.generate",
    ("post", "/api/v1/archives/received"): "archive.receive",
    ("post", "/api/v1/archives/{archive_id}/transfer"): "archive.transfer",
    ("post", "/api/v1/licenses"): "licence.issue",
    ("post", "/api/v1/licenses/{number}/revoke"): "licence.revoke",
    # the archive fallback of a requeue also needs archive.transfer: delivery.requeue is checked first
    ("post", "/api/v1/deliveries/{delivery_id}/requeue"): "delivery.requeue",
    ("post", "/api/v1/industry/drawing-sets"): "drawings.deliver",
    ("post", "/api/v1/industry/drawing-sets/{set_id}/comments"): "drawings.review",
    ("post", "/api/v1/industry/drawing-sets/{set_id}/request-revision"): "drawings.review",
    ("post", "/api/v1/industry/drawing-sets/{set_id}/revisions"): "drawings.deliver",
    ("post", "/api/v1/industry/drawing-sets/{set_id}/approve"): "drawings.approve",
    ("post", "/api/v1/industry/drawing-sets/{set_id}/check-files"): "drawings.check",
    ("post", "/api/v1/industry/bim/{project_code}/models"): "bim.submit",
    ("post", "/api/v1/industry/bim/{project_code}/models/{model_id}/approve"): "bim.approve-design",
    ("post", "/api/v1/industry/surveys/{project_code}"): "survey.record",
    ("post", "/api/v1/industry/surveys/{project_code}/corrections"): "survey.record",
    ("post", "/api/v1/industry/multi-plan/{project_code}/opinions"): "multiplan.receive",
    ("post", "/api/v1/industry/multi-plan/{project_code}/control-lines"): "multiplan.receive",
    ("post", "/api/v1/agencies"): "agency.register",
    ("post", "/api/v1/agencies/{uscc}/{action}"): "agency.{action}",
    ("post", "/api/v1/service-orders"): "service-order.place",
    **{
        ("post", f"/api/v1/service-orders/{{order_id}}/{a}"): f"service-order.{a}"
        for a in ("bid", "award", "accept", "deliver", "cancel")
    },
    ("post", "/api/v1/cases/{case_id}/assessment-reviews"): "assessment-review.start",
    ("post", "/api/v1/assessment-reviews/{review_id}/opinions"): "assessment-review.record-opinion",
    ("post", "/api/v1/assessment-reviews/{review_id}/finish"): "assessment-review.finish",
    ("post", "/api/v1/catalogue/flows"): "catalogue.publish",
    ("post", "/api/v1/catalogue/flows/{code}/retire"): "catalogue.retire",
    ("post", "/api/v1/catalogue/editions"): "catalogue.edition.publish",
    ("post", "/api/v1/catalogue/editions/file"): "catalogue.edition.publish",
    ("post", "/api/v1/forms"): "case.submit",
    ("post", "/api/v1/work-calendars"): "calendar.publish",
}

PROJECT_CODE = new_project_code()
SQUARE = {  # a small valid polygon in Haikou
    "type": "Polygon",
    "coordinates": [[[110.30, 20.02], [110.302, 20.02], [110.302, 20.022], [110.30, 20.022], [110.30, 20.02]]],
}
# values of fields the domain checks beyond their JSON type (codes with check digits, reference data)
VALUES: dict[str, Any] = {
    "code": PROJECT_CODE,  # a project code is a valid blueprint and control-line code too
    "project_code": PROJECT_CODE,
    "canonical_code": PROJECT_CODE,
    "region_code": "460106",
    "uscc": OWNER_USCC,
    "holder_uscc": OWNER_USCC,
    "institute_uscc": OWNER_USCC,
    "surveyor_uscc": OWNER_USCC,
    "item_code": "GJ-1-02",
    "item_codes": ["GJ-1-02"],
    "parcel_code": "460106001002GB00001",
    "flow_type": 3,
    "level": 5,
    "department": "zjj",
    "red_line": SQUARE,
    "geometry": SQUARE,
    "footprint": SQUARE,
    "land_uses": ["07"],
    "document_hash": "0" * 64,
    "sha256": "0" * 64,
    "report_sha256": "0" * 64,
    "year": 2027,
}
JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str, "integer": int, "number": (int, float), "object": dict, "array": list
}  # fmt: skip
PATH_VALUES: dict[str, str] = {"project_code": PROJECT_CODE, "uscc": OWNER_USCC, "code": "ZZ-1", "number": "ZZ-1"}
QUERY_VALUES: dict[str, str] = {"project_code": PROJECT_CODE, "item_codes": "GJ-1-02"}


# --- the contract: operations, who may and who may not ---------------------------------------------


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if path.startswith("/api/v1/"):
                yield method, path, op


def _commands(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for m, p, op in _operations(spec) if m in ("post", "put", "patch", "delete")]


def _paths(path: str, op: dict[str, Any]) -> Iterator[tuple[str, dict[str, str]]]:
    """The path filled in: every value of an enumerated parameter, a fresh id or a valid code otherwise."""
    params = [p for p in op.get("parameters", []) if p["in"] == "path"]
    choices = []
    for p in params:
        schema = p["schema"]
        if "enum" in schema:
            choices.append([str(v) for v in schema["enum"]])
        elif schema.get("format") == "uuid":
            choices.append([str(uuid4())])
        else:
            choices.append([PATH_VALUES.get(p["name"], "ZZ-1")])
    for values in product(*choices):
        named = {p["name"]: v for p, v in zip(params, values, strict=True)}
        yield path.format(**named), named


def _action(method: str, path: str, named: dict[str, str]) -> str | None:
    action = ACTIONS[(method, path)]
    return action.format(**named) if action is not None else None


def _allowed(action: str | None) -> str:
    roles = ROLES if action is None else [r for r in ROLES if r in PERMISSIONS[action]]
    return roles[0]


def _refused(action: str | None) -> str | None:
    """The analyst (the issue's example) when it may not, else the first role that may not."""
    if action is None:
        return None
    refused = [r for r in ROLES if r not in PERMISSIONS[action]]
    return "analyst" if "analyst" in refused else (refused[0] if refused else None)


# --- minimal valid bodies from the OpenAPI schema ---------------------------------------------------


class Bodies:
    """A body with only the required fields, each with a value its schema (and VALUES) accepts, and
    the paths of the nested bodies in it (one element of each list of them)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.schemas: dict[str, Any] = spec["components"]["schemas"]

    def of(self, op: dict[str, Any]) -> tuple[Any, list[tuple[str | int, ...]]] | None:
        content = op.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            return None
        nested: list[tuple[str | int, ...]] = []
        return self._value(content["application/json"]["schema"], "", (), nested), nested

    def _value(self, schema: dict[str, Any], name: str, at: tuple[str | int, ...], nested: list[Any]) -> Any:
        if "$ref" in schema:
            target = self.schemas[schema["$ref"].rsplit("/", 1)[-1]]
            if "properties" in target and at:  # a nested body
                nested.append(at)
            return self._value(target, name, at, nested)
        if "anyOf" in schema:
            options = [s for s in schema["anyOf"] if s.get("type") != "null"]
            return self._value(options[0], name, at, nested)
        kind = str(schema.get("type", ""))
        if name in VALUES and isinstance(VALUES[name], JSON_TYPES.get(kind, object)):
            return copy.deepcopy(VALUES[name])
        if "enum" in schema:
            return schema["enum"][0]
        if kind == "object":
            required = schema.get("required", [])
            props = schema.get("properties", {})
            return {k: self._value(props[k], k, (*at, k), nested) for k in required}
        if kind == "array":
            count = max(schema.get("minItems", 0), 1)
            return [self._value(schema.get("items", {}), "", (*at, i), nested) for i in range(count)]
        if kind == "string":
            return {"date": "2026-06-01", "date-time": "2026-06-01T09:00:00+08:00", "uuid": str(uuid4())}.get(
                schema.get("format", ""), "测试"
            )
        if kind in ("integer", "number"):
            return max(1, int(schema.get("minimum", 1)))
        if kind == "boolean":
            return False
        return {}


def _inject(body: Any, at: tuple[str | int, ...]) -> Any:
    changed = copy.deepcopy(body)
    target = changed
    for step in at:
        target = target[step]
    target[UNKNOWN] = 1
    return changed


def _send(client: httpx.Client, method: str, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    if isinstance(body, bytes):
        return client.request(method, path, content=body, headers=headers)
    return client.request(method, path, json=body, headers=headers)


def _errors(r: httpx.Response) -> list[dict[str, Any]] | None:
    """The problem's `errors` as (loc, type); None when the answer is no problem+json."""
    if r.headers.get("content-type") != PROBLEM or r.json().get("status") != r.status_code:
        return None
    return [{"loc": e["loc"], "type": e["type"]} for e in r.json().get("errors", [])]


# --- tests ------------------------------------------------------------------------------------------


def test_every_command_route_of_the_openapi_document_has_its_action_in_the_table(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    served = {(m, p) for m, p, _ in _commands(spec)}
    assert served - ACTIONS.keys() == set(), "command routes without an action: add them to ACTIONS"
    assert ACTIONS.keys() - served == set(), "ACTIONS names routes the document no longer has"
    for (_, path), action in ACTIONS.items():
        if action is not None and "{action}" not in action:
            assert action in PERMISSIONS, (path, action)


def test_an_unknown_body_field_is_422_naming_it_on_every_route_before_any_id_is_looked_up(
    server: Server, client: httpx.Client
) -> None:
    spec = client.get("/openapi.json").json()
    bodies = Bodies(spec)
    before = server.position()
    wrong: list[str] = []
    tried = 0
    for method, template, op in _commands(spec):
        made = bodies.of(op)
        if made is None:
            continue
        body, nested = made
        for path, named in _paths(template, op):
            headers = auth(_allowed(_action(method, template, named)))
            for at in [(), *nested]:
                tried += 1
                r = client.request(method, path, json=_inject(body, at), headers=headers)
                expected = {"loc": ["body", *at, UNKNOWN], "type": "extra_forbidden"}
                got = _errors(r)
                if r.status_code != 422 or got != [expected]:
                    wrong.append(f"{method.upper()} {path} at {list(at)}: {r.status_code} {got}")
    assert not wrong, "\n".join(wrong)
    assert tried > 80
    assert server.position() == before  # nothing written


def test_a_role_that_may_not_act_is_403_before_its_body_is_read_on_every_route(
    server: Server, client: httpx.Client
) -> None:
    spec = client.get("/openapi.json").json()
    bodies = Bodies(spec)
    before = server.position()
    wrong: list[str] = []
    tried = 0
    for method, template, op in _commands(spec):
        made = bodies.of(op)
        for path, named in _paths(template, op):
            refused = _refused(_action(method, template, named))
            if refused is None:
                continue  # every role may (验真)
            # with a JSON body: one with an unknown field and one of the wrong shape; else bytes that are none
            sent = [_inject(made[0], ()), ["not", "an", "object"]] if made is not None else [b"\x00 not a body"]
            for body in sent:
                tried += 1
                r = _send(client, method, path, body, auth(refused))
                if r.status_code != 403 or _errors(r) != []:
                    wrong.append(f"{method.upper()} {path} as {refused}: {r.status_code} {r.text[:200]}")
            r = _send(client, method, path, sent[0], {})  # the token comes first: no token, 401
            if r.status_code != 401:
                wrong.append(f"{method.upper()} {path} without a token: {r.status_code}")
    assert not wrong, "\n".join(wrong)
    assert tried > 100
    assert server.position() == before


def test_an_unknown_query_parameter_is_422_naming_it_on_every_read_route(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    routes = [(p, op) for m, p, op in _operations(spec) if m == "get"]
    with_query = [p for p, op in routes if any(q["in"] == "query" for q in op.get("parameters", []))]
    assert {"/api/v1/guidance", "/api/v1/forms"} <= set(with_query)
    wrong: list[str] = []
    for template, op in routes:
        declared = [q for q in op.get("parameters", []) if q["in"] == "query" and q.get("required")]
        query = {q["name"]: QUERY_VALUES[q["name"]] for q in declared}
        for path, _ in _paths(template, op):
            r = client.get(path, params={**query, UNKNOWN: "1"}, headers=auth("admin", org="admin", region="460000"))
            got = _errors(r)
            if r.status_code != 422 or got != [{"loc": ["query", UNKNOWN], "type": "extra_forbidden"}]:
                wrong.append(f"GET {path}: {r.status_code} {got}")
    assert not wrong, "\n".join(wrong)


def test_an_action_in_the_path_the_policy_does_not_know_is_the_paths_own_422_for_every_role(
    client: httpx.Client,
) -> None:
    for role in ("admin", "analyst"):
        for path in (f"/api/v1/seals/{uuid4()}/destroy", f"/api/v1/agencies/{OWNER_USCC}/promote"):
            r = client.post(path, json={"reason": "测试"}, headers=auth(role))
            assert r.status_code == 422, (role, path, r.text)
            assert _errors(r) == [{"loc": ["path", "action"], "type": "literal_error"}]

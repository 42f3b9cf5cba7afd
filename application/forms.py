"""智能表单 — one form for several items of one stage: the merged JSON Schema (each field once,
prefilled from the project and its valid licences), and its submission, which is validated against
that schema (jsonschema) and receives one case per item, joined by one parallel application id
(并联审批), all in one atomic save.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from jsonschema import Draft202012Validator, FormatChecker

from application.catalogue import Pin, Pins
from application.commands import Invocation
from application.commands.forms import FormSubmitted, SubmitForm
from application.guidance import ApplicantSide
from application.policy import Actor, authorize
from domain.approvals import Case
from domain.catalog.forms import build_schema, form_items, values_for
from domain.projects import Project
from domain.shared.errors import InvalidValue, PrerequisitesMissing
from domain.shared.events import Meta

FORM_MATERIAL = {"code": "FORM", "name": "智能表单", "class": "applicant"}


class FormService(ApplicantSide):
    def prefill(self, project: Project, items: list[dict[str, Any]]) -> dict[str, Any]:
        """`project.<attribute>` and `licence.<type>.<topic field>` values the form may start with."""
        values: dict[str, Any] = {}
        today = self.today()
        for item in items:
            for field in item["form_fields"]:
                source = field["prefill"]
                if not source or source in values:
                    continue
                kind, _, rest = source.partition(".")
                if kind == "project":
                    value = getattr(project, rest, None)
                    values[source] = float(value) if rest in ("total_investment", "land_area_m2") and value else value
                elif kind == "licence":
                    licence_type, _, topic = rest.partition(".")
                    spec = {"type": licence_type, "topic_fields": ["holder_uscc", "project_code"]}
                    row = self.licence(project, spec, today)
                    raw = row["topic"].get(topic) if row else None
                    values[source] = _typed(raw, field["type"])
        return values

    def form(self, actor: Actor, project_code: str, item_codes: list[str]) -> dict[str, Any]:
        project = self.project(actor, project_code)
        flow = self.flow(project)
        items = form_items(flow.definition, item_codes)
        schema = build_schema(items, self.prefill(project, items))
        asked = sum(len(it["form_fields"]) for it in items)
        return {
            "project_code": project.code,
            "flow_code": flow.code,
            "flow_version": flow.version,
            "item_codes": [it["code"] for it in items],
            "schema": schema,
            "fields_asked": len(schema["properties"]),
            "fields_saved": asked - len(schema["properties"]),  # asked once instead of per item
        }

    def submit(self, by: Invocation, command: SubmitForm) -> FormSubmitted:
        actor, project_code, acceptance_mode = by.actor, command.project_code, command.acceptance_mode
        item_codes, values, situation_codes = (
            list(command.item_codes),
            dict(command.values),
            list(command.situation_codes),
        )

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            project = self.project(actor, project_code)
            authorize(actor, "case.submit", owner_org=project.owner_uscc, region_code=project.region_code)
            project.check_active("submit-case")
            pins = Pins(self.find)
            items = form_items(self.flow(project).definition, item_codes)
            _validate(build_schema(items, {}), values)
            asked = {s["code"] for it in items for s in it["situations"]}
            for i, code in enumerate(situation_codes):
                if code not in asked:
                    raise InvalidValue(
                        f"situation_codes.{i}", f"situation {code} is not asked by these items", "situation_unknown"
                    )
            parallel_id = f"BL-{uuid4().hex[:16]}"
            cases = [
                self._case(
                    meta, project, pins.pin(project, it["code"]), values, situation_codes, parallel_id, acceptance_mode
                )
                for it in items
            ]
            return cases, {
                "id": parallel_id,
                "parallel_application_id": parallel_id,
                "cases": [{"id": str(c.id), "item_code": c.item_code} for c in cases],
            }

        return FormSubmitted.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def _case(
        self,
        meta: Meta,
        project: Project,
        pin: Pin,
        values: dict[str, Any],
        situation_codes: list[str],
        parallel_id: str,
        acceptance_mode: int,
    ) -> Case:
        item = pin.as_item()
        missing = project.missing_prerequisites(item.prerequisites)
        if missing:
            raise PrerequisitesMissing(item.code, missing)
        own = {s["code"] for s in pin.item["situations"]}
        return Case.receive(
            meta,
            case_id=uuid4(),
            project_id=project.id,
            project_code=project.code,
            region_code=project.region_code,
            applicant_org=project.owner_uscc,
            item=item,
            situation_codes=[s for s in situation_codes if s in own],  # each case takes its item's own
            materials=[{**FORM_MATERIAL, "values": values_for(pin.item, values)}],
            parallel_application_id=parallel_id,
            acceptance_mode=acceptance_mode,
            pinned=pin.key,
        )


def _validate(schema: dict[str, Any], values: dict[str, Any]) -> None:
    """The first error (in field order) as a 422 naming the field and the schema keyword broken."""
    errors = sorted(
        Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(values),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    if not errors:
        return
    error = errors[0]
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" or error.validator == "additionalProperties":
        path.append(error.message.split("'")[1])
    raise InvalidValue(".".join(["values", *path]), error.message, f"form_{error.validator}")


def _typed(value: Any, kind: str) -> Any:
    if value is None or kind not in ("number", "integer"):
        return value
    try:
        return int(value) if kind == "integer" else float(value)
    except (TypeError, ValueError):
        return None

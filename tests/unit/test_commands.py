"""Commands and outcomes (application/commands): a case action's command against its API body, the
typed answer a service gives, and the JSON the API makes of it."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from application.commands.cases import CASE_ACTIONS, CaseOutcome
from application.commands.ratings import RatingOutcome
from domain.approvals.status import ACTIONS
from interfaces.rest.schemas import ACTION_BODIES

CASE = "0b8e9c59-0f41-4a8e-9a43-2f3a4c1d7e10"


def test_an_answer_round_trips_to_the_same_json() -> None:
    answer = {"id": CASE, "status_code": 2, "status": "已受理", "position": 41}
    outcome = CaseOutcome.of(answer)
    assert outcome.id == uuid.UUID(CASE) and outcome.status_code == 2 and outcome.position == 41
    assert outcome.to_json() == answer  # no rule_approval, no replayed: not part of this answer


def test_a_uuid_field_is_typed_and_answered_as_text() -> None:
    rating = RatingOutcome.of(
        {"id": CASE, "case_id": CASE, "level": 1, "level_name": "非常不满意", "bad_review": True,
         "rectification_due": None, "position": 7}
    )  # fmt: skip
    assert isinstance(rating.case_id, uuid.UUID)
    # a required field that is None stays in the answer (null), as the API has always given it
    assert rating.to_json()["case_id"] == CASE and rating.to_json()["rectification_due"] is None


def test_a_fresh_answer_with_a_key_the_outcome_lacks_is_refused() -> None:
    with pytest.raises(TypeError, match="document_title"):
        CaseOutcome.of({"id": CASE, "status_code": 2, "position": 3, "document_title": "x"})


def test_a_replay_answers_what_the_receipt_kept_even_from_an_older_version() -> None:
    extra = {"id": CASE, "status_code": 2, "legacy": [1], "position": 5, "replayed": True}
    assert CaseOutcome.of(extra).to_json() == extra
    lacking = {"id": CASE, "position": 5, "replayed": True}  # kept before status_code was answered
    assert CaseOutcome.of(lacking).to_json() == lacking


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_case_action_takes_the_fields_of_its_api_body_required_as_there(action: str) -> None:
    # the REST route builds the command from its body's fields (interfaces/rest/routers/approvals.py)
    body = ACTION_BODIES[action].model_fields
    command = {f.name: f for f in dataclasses.fields(CASE_ACTIONS[action]) if f.name != "case_id"}
    assert CASE_ACTIONS[action].action == action
    assert set(command) == set(body) - {"occurred_at"}
    required = {n for n, f in command.items() if f.default is dataclasses.MISSING}
    assert required == {n for n, f in body.items() if f.is_required()}

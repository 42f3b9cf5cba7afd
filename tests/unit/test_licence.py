"""Electronic licences (电子证照) as a pure aggregate: content checks, signing, verification, revocation."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.catalog import CATALOG
from domain.licences import (
    Kind,
    LicenceStatus,
    License,
    canonical_content,
    content_hash,
    licence_id,
    normalise,
    prepare,
)
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import Channel, Meta
from domain.signatures import Seal, SignerNotAuthorised, check_signatures
from domain.signatures.crypto import generate_keypair, sign, sm3

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOLDER = "91460000MA5T0P3X64"


def meta(actor: str = "zhang", now: datetime = T0) -> Meta:
    return Meta(actor, "approver", "460100-zjj", Channel.ONLINE, "req-1", now)


def seal_and_key(signers: list[str]) -> tuple[Seal, bytes]:
    pair = generate_keypair("sm2-sm3")
    seal = Seal.register(
        meta(),
        holder_org="460100-zjj",
        name="海口市住房和城乡建设局行政审批专用章",
        purpose="licence",
        algorithm="sm2-sm3",
        public_key=pair.public_key,
        valid_from=T0 - timedelta(days=1),
        valid_until=T0 + timedelta(days=365),
        signers=signers,
    )
    return seal, pair.private_key


def content(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "number": "460100202603020001",
        "licence_type": "construction_permit",
        "holder_name": "海南某某置业有限公司",
        "holder_uscc": HOLDER,
        "project_code": "2611-460100-04-01-123456",
        "item_code": "GJ-3-03",
        "region_code": "460100",
        "valid_from": date(2026, 3, 2),
        "valid_until": date(2027, 3, 1),
        "topic": {
            "project_name": "海口市某安置房项目",
            "building_area": "12500.50",
            "contract_price": 8600,
            "construction_org": "海南某建工集团有限公司",
        },
    }
    return prepare(**{**fields, **overrides})


def issue(c: dict[str, Any], seal: Seal, key: bytes, signer: str = "zhang") -> License:
    signature = sign(seal.algorithm, key, License.payload(c, str(seal.id), signer, T0))
    return License.issue(meta(signer), c, seal, signer, signature)


def test_the_catalogue_names_the_licence_each_issuing_item_gives() -> None:
    issuing = {code: item.licence_type for code, item in CATALOG.items.items() if item.licence_type}
    assert issuing == {
        "GJ-1-02": "site_selection_opinion",
        "GJ-1-03": "construction_land_planning_permit",
        "GJ-2-01": "engineering_planning_permit",
        "GJ-3-01": "drawing_review_certificate",
        "GJ-3-03": "construction_permit",
        "GJ-4-03": "completion_filing",
    }


def test_an_issued_licence_is_signed_over_the_sm3_of_its_canonical_content_and_verifies() -> None:
    seal, key = seal_and_key(["zhang"])
    c = content()
    licence = issue(c, seal, key)
    assert licence.id == licence_id("460100202603020001")
    assert licence.document_hash == sm3(canonical_content(c)).hex() == content_hash(licence.content())
    assert licence.topic["holder_uscc"] == HOLDER and licence.topic["building_area"] == "12500.5"
    assert licence.department == "zjj"
    [check] = check_signatures(licence.document_hash, "sm3", [licence.signature_entry()], {str(seal.id): seal})
    assert check.valid, check.reason


def test_a_changed_licence_content_no_longer_matches_its_signature() -> None:
    seal, key = seal_and_key(["zhang"])
    licence = issue(content(), seal, key)
    changed = content(holder_name="海南另一家公司")
    [check] = check_signatures(content_hash(changed), "sm3", [licence.signature_entry()], {str(seal.id): seal})
    assert (check.valid, check.reason) == (False, "hash_mismatch")
    forged = dataclasses.replace(licence.signature_entry(), document_hash=content_hash(changed))
    [check] = check_signatures(content_hash(changed), "sm3", [forged], {str(seal.id): seal})
    assert (check.valid, check.reason) == (False, "bad_signature")


def test_only_an_authorised_signer_of_the_seal_may_issue() -> None:
    seal, key = seal_and_key(["li"])
    with pytest.raises(SignerNotAuthorised):
        issue(content(), seal, key, signer="zhang")


def test_a_signature_that_does_not_verify_is_refused() -> None:
    seal, _key = seal_and_key(["zhang"])
    _other, other_key = seal_and_key(["zhang"])
    with pytest.raises(InvalidValue) as refused:
        issue(content(), seal, other_key)
    assert refused.value.rule == "bad_signature"


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"topic": {"project_name": "x", "building_area": "10", "contract_price": "1"}}, "topic.construction_org", "required"),
        ({"topic": {"project_name": "x", "building_area": "-1", "contract_price": "1", "construction_org": "y"}}, "topic.building_area", "range"),
        ({"topic": {"project_name": "x", "building_area": "abc", "contract_price": "1", "construction_org": "y"}}, "topic.building_area", "number"),
        ({"topic": {"project_name": "x", "floors": "3"}}, "topic.floors", "topic_field_unknown"),
        ({"topic": {"project_name": "x", "holder_uscc": HOLDER}}, "topic.holder_uscc", "topic_field_unknown"),
        ({"licence_type": "completion_filing"}, "licence_type", "licence_type_mismatch"),
        ({"licence_type": "driving_licence"}, "licence_type", "licence_type_mismatch"),
        ({"item_code": "GJ-3-02"}, "item_code", "item_issues_no_licence"),
        ({"holder_uscc": "91460000MA5T0P3X65"}, "holder_uscc", "uscc_check_character"),
        ({"valid_until": date(2026, 3, 1)}, "valid_until", "validity_order"),
        ({"number": "46 01"}, "number", "number_format"),
        ({"number": "  "}, "number", "required"),
    ],
)  # fmt: skip
def test_bad_licence_content_is_refused_with_the_field_and_rule(
    overrides: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        content(**overrides)
    assert (refused.value.field, refused.value.rule) == (field, rule)


def test_a_licence_is_revoked_once_and_expires_after_its_validity_without_an_event() -> None:
    seal, key = seal_and_key(["zhang"])
    licence = issue(content(), seal, key)
    assert licence.status_on(date(2027, 3, 1)) == LicenceStatus.VALID
    assert licence.status_on(date(2027, 3, 2)) == LicenceStatus.EXPIRED
    events_before = len(licence.collect_events())
    licence.revoke(meta(), "施工许可依法撤销")
    assert [type(e).__qualname__ for e in licence.collect_events()] == ["License.Revoked"]
    assert events_before == 1
    assert licence.status_on(date(2026, 3, 3)) == LicenceStatus.REVOKED
    with pytest.raises(IllegalTransition):
        licence.revoke(meta(), "again")


def test_names_match_normalised_and_codes_exactly() -> None:
    assert normalise(Kind.NAME, "海南某某置业有限公司（海口）") == normalise(Kind.NAME, " 海南某某置业 有限公司(海口)")
    assert normalise(Kind.NAME, "ABC Ltd") == normalise(Kind.NAME, "abc ltd")
    assert normalise(Kind.CODE, "gj-3-03") == "GJ-3-03"
    assert normalise(Kind.AREA, "12500.50") == normalise(Kind.AREA, "12500.5")

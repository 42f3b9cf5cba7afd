"""在建工程迁移 in the domain: a migrated approval is a back-entered case of channel import with its
provenance; provenance is checked; older back-entries and licences load without one."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.approvals import Case, CaseStatus
from domain.approvals.migration import issued_at, migrate_approval, migrated_case_id
from domain.catalog import CATALOG
from domain.licences import License
from domain.licences.licence import PROVENANCE_FIELDS, check_provenance
from domain.projects import project_id
from domain.shared.errors import InvalidValue
from domain.shared.events import Channel, Meta
from infrastructure.log import GongjianApplication

CODE = "2023-460100-48-01-000101"
PROVENANCE = {
    "source_file": "migration.csv",
    "source_sha256": "ab" * 32,
    "row": 6,
    "migrated_by": "王迁移",
    "issuing_authority": "海口市住房和城乡建设局",
}


def meta(channel: Channel = Channel.IMPORT, issued_on: date | None = date(2023, 9, 5)) -> Meta:
    return Meta(
        "cli-integration",
        "integration",
        "gongjian",
        channel,
        "req-1",
        datetime(2026, 12, 1, 2, tzinfo=UTC),
        issued_at(issued_on) if issued_on else None,
    )


def migrated(m: Meta | None = None, provenance: dict[str, object] | None = None) -> Case:
    return migrate_approval(
        m or meta(),
        project_id=project_id(CODE),
        project_code=CODE,
        region_code="460108",
        applicant_org="91460000MA5T0P3X64",
        item=CATALOG.item("GJ-3-03"),
        document_number="460100202309050101",
        provenance=dict(provenance or PROVENANCE),
    )


def test_a_migrated_approval_is_an_approved_back_entry_of_channel_import_on_its_issue_date() -> None:
    case = migrated()
    [event] = case.collect_events()
    assert isinstance(event, Case.BackEntered)
    assert case.id == migrated_case_id(CODE, "GJ-3-03", "460100202309050101")
    assert case.status == CaseStatus.APPROVED and case.back_entered and case.provenance == PROVENANCE
    assert event.channel == Channel.IMPORT and event.business_date == date(2023, 9, 5)
    assert event.document_number == "460100202309050101" and "海口市住房和城乡建设局" in event.reason


@pytest.mark.parametrize("channel", [Channel.ONLINE, Channel.OFFLINE_BACKENTRY, Channel.SYSTEM_RULE])
def test_a_migrated_approval_comes_only_through_the_import_channel(channel: Channel) -> None:
    with pytest.raises(InvalidValue) as refused:
        migrated(meta(channel))
    assert refused.value.rule == "channel"


def test_a_migrated_approval_needs_its_issue_date() -> None:
    with pytest.raises(InvalidValue) as refused:
        migrated(meta(issued_on=None))
    assert (refused.value.field, refused.value.rule) == ("issued_on", "required")


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"source_sha256": "AB" * 32}, "provenance.source_sha256", "sha256"),
        ({"source_sha256": "ab" * 31}, "provenance.source_sha256", "sha256"),
        ({"row": 1}, "provenance.row", "row"),
        ({"row": "6"}, "provenance.row", "row"),
        ({"migrated_by": "  "}, "provenance.migrated_by", "required"),
        ({"issuing_authority": ""}, "provenance.issuing_authority", "required"),
        ({"note": "x"}, "provenance.note", "provenance_field"),
    ],
)
def test_a_provenance_names_its_file_row_official_and_authority(
    change: dict[str, object], field: str, rule: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_provenance({**PROVENANCE, **change})
    assert (refused.value.field, refused.value.rule) == (field, rule)


@given(
    row=st.integers(min_value=2, max_value=10**6),
    digest=st.binary(min_size=32, max_size=32),
    names=st.lists(st.text(min_size=1, max_size=50).filter(str.strip), min_size=3, max_size=3),
)
def test_a_valid_provenance_is_kept_as_given_trimmed(row: int, digest: bytes, names: list[str]) -> None:
    given_ = {
        "source_file": names[0],
        "source_sha256": digest.hex(),
        "row": row,
        "migrated_by": names[1],
        "issuing_authority": names[2],
    }
    checked = check_provenance(given_)
    assert set(checked) == set(PROVENANCE_FIELDS)
    assert checked == {k: (v.strip() if isinstance(v, str) and k != "source_sha256" else v) for k, v in given_.items()}


def _old_shape(event: object, drop: tuple[str, ...]) -> object:
    app = GongjianApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    stored = app.mapper.to_stored_event(event)  # type: ignore[arg-type]
    state = json.loads(stored.state)
    for name in drop:
        state.pop(name, None)
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
    return app.mapper.to_domain_event(old)


def test_a_v2_back_entry_loads_without_provenance() -> None:
    [event] = migrated().collect_events()
    loaded = _old_shape(event, ("provenance", "class_version"))
    assert isinstance(loaded, Case.BackEntered)
    # a v1 state lacks the pinned versions too; v2 keeps them: both reach v3 with no provenance
    assert loaded.provenance is None
    case = loaded.mutate(None)
    assert case is not None and case.provenance is None and case.status == CaseStatus.APPROVED


def test_a_v1_licence_loads_without_provenance() -> None:
    event = License.Issued(  # the fields of a v1 licence; no signature check on loading
        originator_id=migrated_case_id(CODE, "x", "y"),
        originator_version=1,
        timestamp=datetime(2026, 1, 5, tzinfo=UTC),
        originator_topic="domain.licences.licence:License",
        number="N-1",
        licence_type="construction_permit",
        holder_name="海南测试建设有限公司",
        holder_uscc="91460000MA5T0P3X64",
        project_code=CODE,
        item_code="GJ-3-03",
        case_id=None,
        department="zjj",
        region_code="460108",
        valid_from=date(2023, 9, 5),
        valid_until=None,
        topic={},
        document_hash="00" * 32,
        hash_algorithm="sm3",
        seal_id="s",
        signer="zhang",
        algorithm="ed25519",
        signed_at=datetime(2026, 1, 5, tzinfo=UTC),
        signature="",
        provenance=None,
        actor_id="a",
        actor_role="approver",
        actor_org="o",
        channel=Channel.ONLINE,
        request_id="r",
        occurred_at=None,
    )
    loaded = _old_shape(event, ("provenance", "class_version"))
    assert isinstance(loaded, License.Issued) and loaded.provenance is None
    licence = loaded.mutate(None)
    assert licence is not None and licence.provenance is None and licence.number == "N-1"

"""The ArchivePackage aggregate's state machine, the transfer backoff, and offline refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from application.archives import verify_package
from domain.archives import ArchivePackage, ArchiveStatus, archive_id_for_case
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import Channel, Meta
from domain.shared.retry import RetrySchedule

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def meta(now: datetime = NOW) -> Meta:
    return Meta("approver-1", "approver", "460100-zjj", Channel.ONLINE, "req-1", now)


def generated() -> ArchivePackage:
    case_id = uuid4()
    return ArchivePackage.generate(
        meta(),
        archive_id=archive_id_for_case(case_id),
        case_id=str(case_id),
        project_code="2611-460100-04-01-000001",
        item_code="GJ-1-02",
        hash_algorithm="sm3",
        manifest_hash="ab" * 32,
        package_hash="cd" * 32,
        package_size=1234,
        location="x.json",
        events=3,
        tree_size=10,
        root_hash="ef" * 32,
    )


def test_a_package_id_is_derived_from_its_case_so_a_case_has_one_package() -> None:
    case_id = uuid4()
    assert archive_id_for_case(case_id) == archive_id_for_case(case_id) != archive_id_for_case(uuid4())


def test_a_transfer_fails_with_a_retry_time_then_succeeds_with_the_receipt() -> None:
    package = generated()
    package.request_transfer(meta(), "http://dag.example/packages")
    assert package.is_due(NOW)
    package.record_transfer_failure(meta(), "HTTP 503", NOW + timedelta(seconds=30))
    assert package.status == ArchiveStatus.TRANSFER_PENDING
    assert not package.is_due(NOW + timedelta(seconds=29))
    assert package.is_due(NOW + timedelta(seconds=30))
    package.record_transfer_success(meta(), "DAG-1")
    assert (package.status, package.attempts, package.receipt) == (ArchiveStatus.TRANSFERRED, 2, "DAG-1")
    with pytest.raises(IllegalTransition):
        package.request_transfer(meta(), "http://dag.example/packages")


def test_a_transfer_that_gives_up_may_be_requested_again() -> None:
    package = generated()
    package.request_transfer(meta(), "http://dag.example/packages")
    package.record_transfer_failure(meta(), "unreachable", None)
    assert package.status == ArchiveStatus.TRANSFER_FAILED
    with pytest.raises(IllegalTransition):
        package.record_transfer_success(meta(), "late")
    package.request_transfer(meta(), "http://dag.example/packages")
    assert (package.status, package.attempts) == (ArchiveStatus.TRANSFER_PENDING, 0)


def test_a_transfer_without_a_configured_destination_is_refused() -> None:
    with pytest.raises(InvalidValue):
        generated().request_transfer(meta(), "")


def test_the_backoff_doubles_up_to_its_cap_and_gives_up_after_the_last_attempt() -> None:
    backoff = RetrySchedule(base_s=10, cap_s=35, max_attempts=4)
    delays = [backoff.retry_at(NOW, n) for n in (1, 2, 3, 4)]
    assert [(d - NOW).total_seconds() if d else None for d in delays] == [10, 20, 35, None]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b'{"format":"something-else"}', "not a gongjian-archive-package/1 package"),
        (b'{"format":"gongjian-archive-package/1","manifest":{}}', "malformed"),
    ],
)
def test_something_that_is_not_a_package_is_refused_with_the_reason(data: bytes, reason: str) -> None:
    report = verify_package(data)
    assert not report.ok
    assert reason in report.reason

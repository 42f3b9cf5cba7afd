"""中介超市 and 评估评审 in the domain, without I/O: the random draw is a function of its recorded
seed and candidates, drawn only among qualified active agencies; bidding awards the lowest bid;
a self-selected agency must be qualified; a result is signed with the agency's own seal; an expert
review needs a proper panel and opinions before its result."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.intermediaries import Agency, AssessmentReview, ServiceOrder, draw
from domain.shared.errors import Conflict, IllegalTransition, InvalidValue
from domain.shared.events import Channel, Meta
from domain.shared.workdays import PACKAGE, Calendar, YearSchedule
from domain.signatures import Seal
from domain.signatures.crypto import generate_keypair, sign

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
CODE = "2611-460100-04-01-123456"
USCCS = ["91460100MA5T0AAA10", "91460100MA5T0BBB21", "91460100MA5T0CCC32", "91460100MA5T0DDD43"]


def meta(org: str = "gongjian", role: str = "admin") -> Meta:
    return Meta("actor-1", role, org, Channel.ONLINE, "r", NOW)


def agency(uscc: str, until: date = date(2030, 1, 1), types: tuple[str, ...] = ("surveying",)) -> Agency:
    quals = [{"type": t, "level": "甲级", "valid_until": until.isoformat()} for t in types]
    return Agency.register(meta(), uscc=uscc, name=f"机构{uscc[-3:]}", region_code="460100",
                           qualifications=quals, service_types=list(types))  # fmt: skip


def order(mode: str) -> ServiceOrder:
    return ServiceOrder.place(meta(), order_id=uuid4(), project_code=CODE, owner_uscc="91460000MA5T0P3X64",
                              region_code="460106", service_type="surveying", mode=mode, description="",
                              budget=None)  # fmt: skip


@given(st.text(min_size=16, max_size=64), st.uuids(), st.lists(st.text(min_size=1), min_size=1, max_size=20))
def test_the_draw_is_a_function_of_seed_order_and_candidates(seed: str, order_id: UUID, candidates: list[str]) -> None:
    index = draw(seed, order_id, candidates)
    assert 0 <= index < len(candidates)
    assert draw(seed, order_id, list(candidates)) == index


def test_the_draw_spreads_over_the_candidates() -> None:
    hits = {draw(f"seed-{n:012d}", UUID(int=n), USCCS) for n in range(200)}
    assert hits == set(range(len(USCCS)))


def test_a_draw_takes_only_qualified_active_agencies_and_records_seed_and_candidates() -> None:
    expired = agency(USCCS[3], until=date(2026, 1, 1))
    suspended = agency(USCCS[2])
    suspended.suspend(meta(), "整改")
    designer = agency("91460100MA5T0EEE54", types=("design",))
    o = order("random")
    o.select_by_draw(meta(), "f" * 32, [agency(USCCS[1]), expired, suspended, designer, agency(USCCS[0])])
    assert o.selection["candidates"] == USCCS[:2] and o.selection["seed"] == "f" * 32
    assert o.agency_uscc == USCCS[draw("f" * 32, o.id, USCCS[:2])]


def test_a_draw_with_nobody_qualified_is_a_conflict_and_records_nothing() -> None:
    o = order("random")
    with pytest.raises(Conflict):
        o.select_by_draw(meta(), "f" * 32, [agency(USCCS[0], until=date(2025, 1, 1))])
    assert o.agency_uscc is None and len(o.collect_events()) == 1


@given(st.lists(st.decimals(min_value=1, max_value=10**6, places=2), min_size=1, max_size=4))
def test_bidding_awards_the_lowest_and_earliest_bid(amounts: list[Decimal]) -> None:
    o = order("bidding")
    agencies = {u: agency(u) for u in USCCS[: len(amounts)]}
    for (uscc, a), amount in zip(agencies.items(), amounts, strict=False):
        o.bid(meta(org=uscc, role="integration"), a, amount, 10)
    o.award(meta(), None, agencies)
    lowest = min(amounts)
    assert o.agency_uscc == USCCS[amounts.index(lowest)] and o.selection["bid_amount"] == lowest


def test_a_mode_allows_only_its_own_selection() -> None:
    with pytest.raises(IllegalTransition):
        order("random").select_self(meta(), agency(USCCS[0]))
    with pytest.raises(IllegalTransition):
        order("self_selected").bid(meta(), agency(USCCS[0]), Decimal(1), 1)
    with pytest.raises(InvalidValue):
        order("lottery")


def test_a_self_selected_agency_must_hold_a_valid_qualification() -> None:
    with pytest.raises(Conflict, match="qualification"):
        order("self_selected").select_self(meta(), agency(USCCS[0], until=date(2026, 11, 26)))


def seal_of(holder: str) -> tuple[Seal, bytes]:
    pair = generate_keypair("sm2-sm3")
    seal = Seal.register(meta(), holder_org=holder, name="成果章", purpose="intermediary_result",
                         valid_from=NOW - timedelta(days=1), valid_until=NOW + timedelta(days=30),
                         signers=["agent"], algorithm="sm2-sm3", public_key=pair.public_key, seal_id=uuid4())  # fmt: skip
    return seal, pair.private_key


def accepted_order() -> ServiceOrder:
    o = order("self_selected")
    o.select_self(meta(), agency(USCCS[0]))
    o.accept(meta(org=USCCS[0], role="integration"))
    return o


def test_a_result_is_signed_with_the_agencys_own_seal_and_verifies() -> None:
    o = accepted_order()
    agent = Meta("agent", "integration", USCCS[0], Channel.IMPORT, "r", NOW)
    other_seal, other_key = seal_of(USCCS[1])
    payload = ServiceOrder.result_payload(o.id, "ab" * 32, str(other_seal.id), "agent", NOW)
    with pytest.raises(InvalidValue, match="seal"):
        o.deliver(agent, "测绘报告", "ab" * 32, other_seal, "agent", sign("sm2-sm3", other_key, payload))
    seal, key = seal_of(USCCS[0])
    payload = ServiceOrder.result_payload(o.id, "ab" * 32, str(seal.id), "agent", NOW)
    with pytest.raises(InvalidValue, match="signature"):
        o.deliver(agent, "测绘报告", "ab" * 32, seal, "agent", sign("sm2-sm3", other_key, payload))
    o.deliver(agent, "测绘报告", "ab" * 32, seal, "agent", sign("sm2-sm3", key, payload))
    assert o.material()["signature"]["document_hash"] == "ab" * 32


def review(panel_size: int = 3) -> AssessmentReview:
    return AssessmentReview.start(meta(), review_id=uuid4(), case_id=uuid4(), project_code=CODE,
                                  region_code="460106", subject="环评报告", limit_days=10,
                                  panel=[{"name": f"专家{n}"} for n in range(panel_size)])  # fmt: skip


@pytest.mark.parametrize("size", [1, 2, 4])
def test_a_panel_has_an_odd_number_of_at_least_three_experts(size: int) -> None:
    with pytest.raises(InvalidValue):
        review(size)


def test_a_review_finishes_once_after_opinions_with_conditions_only_when_conditional() -> None:
    r = review()
    with pytest.raises(IllegalTransition):
        r.finish(meta(), "pass", [], "")
    r.record_opinion(meta(), "专家0", "同意")
    with pytest.raises(InvalidValue):
        r.finish(meta(), "pass", ["补充材料"], "")
    r.finish(meta(), "pass_with_conditions", ["补充材料"], "修改后通过")
    assert r.working_days_used == 0
    with pytest.raises(IllegalTransition):
        r.finish(meta(), "fail", [], "")


def test_a_review_counts_its_working_days_on_the_calendar_it_is_given() -> None:
    """Started Thursday 2026-12-31, finished Tuesday 2027-01-05: three working days on weekends
    only (Fri 1, Mon 4, Tue 5), one on a schedule that rests on the 1st and the 4th (test data)."""
    started = Meta("actor-1", "admin", "gongjian", Channel.ONLINE, "r", datetime(2026, 12, 31, 2, 0, tzinfo=UTC))
    finished = Meta("actor-1", "admin", "gongjian", Channel.ONLINE, "r", datetime(2027, 1, 5, 2, 0, tzinfo=UTC))
    rest = frozenset({date(2027, 1, 1), date(2027, 1, 4)})
    published = Calendar.of([YearSchedule(2027, rest, frozenset(), "published", "测试〔2026〕99号", 1)])
    for calendar, used in ((PACKAGE, 3), (published, 1)):
        r = AssessmentReview.start(started, review_id=uuid4(), case_id=uuid4(), project_code=CODE,
                                   region_code="460106", subject="环评报告", limit_days=10,
                                   panel=[{"name": f"专家{n}"} for n in range(3)])  # fmt: skip
        r.record_opinion(finished, "专家0", "同意")
        r.finish(finished, "pass", [], "", calendar)
        assert r.working_days_used == used

"""The supervision side of the demo (drawn from its own random stream, demo/__init__.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from application.commands import Invocation
from application.commands.cases import RecordOpinion
from application.commands.exchange import RecordReported, ReportExternalRecord
from application.commands.ratings import (
    FeedbackSubmitted,
    RateCase,
    RatingOutcome,
    RecordFollowUp,
    RecordRectification,
    SubmitFeedback,
)
from application.commands.supervision import (
    INQUIRY_ACTIONS,
    AcknowledgeWarning,
    InquiryOutcome,
    OpenInquiry,
    WarningDisposed,
)
from application.policy import Actor
from demo.base import PlannerBase
from demo.data import (
    CITED,
    COMMENTS,
    END,
    LEVEL_WEIGHTS,
    RECTIFICATIONS,
    SUPERVISION,
    UNITS,
    CaseRef,
    Held,
    Project,
    Report,
    Run,
    Track,
)
from domain.catalog import Item
from domain.exchange import external_record_id
from domain.shared.workdays import add_workdays, is_workday
from domain.supervision.rating import DIMENSIONS
from projections.offline_warnings import warning_id


class Supervision(PlannerBase):
    """好差评, reports back, planted anomalies, feedback and inquiries: the supervision stream."""

    # --- supervision: ratings, reports back, planted anomalies, inquiries ---------------------

    def rate(self, p: Project, ref: CaseRef, item: Item, decided: datetime, mood: str, online: bool) -> None:
        """好差评 by the applicant a few days after the decision; a bad review is rectified and followed up."""
        srng = self.srng
        if srng.random() >= 0.8:
            return
        level = srng.choices((5, 4, 3, 2, 1), LEVEL_WEIGHTS[mood])[0]
        dimensions = {d: min(5, max(1, level + srng.choice((-1, 0, 0, 1)))) for d in DIMENSIONS}
        channel = srng.choice(("pc", "mobile")) if online else srng.choice(("window_device", "window_device", "sms"))
        comment = srng.choice(COMMENTS[level])
        tr, rating = self.after(decided), Held()

        def run() -> RatingOutcome:
            r = self.c.ratings.rate(
                Invocation(p.applicant, self.request_id()),
                RateCase(
                    case_id=ref.uuid(), level=level, evaluation_channel=channel, dimensions=dimensions, comment=comment
                ),
            )
            rating.id = r.id
            self.count["ratings"] += 1
            self.count["bad_reviews"] += r.bad_review
            return r

        self.add(p, tr.at(add_workdays(decided.date(), srng.randint(1, 6))), run)
        if level <= 2:  # rectified and followed up: scripted once every bad review is known
            self.bad.append((tr, p, item, rating))

    def rectifications(self) -> None:
        """In the order the bad reviews are given, the 2nd, 9th, 16th … is rectified late and the
        4th, 14th … followed up unsatisfied — by count, not chance, so a small demo shows both."""
        srng = self.srng
        for nth, (tr, p, item, rating) in enumerate(sorted(self.bad, key=lambda b: b[0].last or END), start=1):
            approver = self.actors.approvers[p.unit, item.department]
            rounds = 2 if nth % 10 == 4 else 1  # an unsatisfied follow-up reopens the rectification
            for n in range(rounds):
                late = n == 0 and nth % 7 == 2
                days = srng.randint(17, 24) if late else srng.randint(3, 12)
                measures = srng.choice(RECTIFICATIONS)
                self.add(p, tr.at(add_workdays(tr.day, days)), self.rectify(approver, rating, measures))
                result = "unsatisfied" if n < rounds - 1 else "satisfied"
                self.add(p, tr.at(add_workdays(tr.day, srng.randint(1, 5))), self.follow_up(rating, result))

    def rectify(self, approver: Actor, rating: Held, measures: str) -> Run:
        return lambda: self.c.ratings.record_rectification(
            Invocation(approver, self.request_id()),
            RecordRectification(rating.uuid(), measures=measures, rectified_on=None),
        )

    def follow_up(self, rating: Held, result: str) -> Run:
        note = "申请人表示问题已解决" if result == "satisfied" else "申请人认为整改未到位，要求继续整改"
        return lambda: self.c.ratings.record_follow_up(
            Invocation(self.actors.supervisor, self.request_id()),
            RecordFollowUp(rating.uuid(), result=result, note=note, followed_up_on=None),
        )

    def report_back(self, p: Project, item: Item, number: str, approved: datetime) -> None:
        """Most approved construction permits and completion filings come back from other systems."""
        srng = self.srng
        if srng.random() >= 0.75:
            return
        if item.code == "GJ-3-03":
            upstream = {f: p.approved[i][0] for f, i in CITED.items() if i != "GJ-3-03" and i in p.approved}
        else:
            upstream = {"SGXKZBH": p.approved["GJ-3-03"][0]}
        at = self.after(approved).at(add_workdays(approved.date(), srng.randint(1, 8)))
        self.reports.append(Report(p, item.code, number, approved.date(), at, upstream))

    def external(self, actor: Actor, fields: dict[str, Any]) -> Run:
        def run() -> RecordReported:
            self.count["external_records"] += 1
            return self.c.exchange.report(Invocation(actor, self.request_id()), ReportExternalRecord(fields))

        return run

    def certificate(self, r: Report) -> tuple[Actor, dict[str, Any]]:
        permit = r.item == "GJ-3-03"
        fields: dict[str, Any] = {
            "source": "industry_system" if permit else "license_library",
            "source_id": f"{'SGXK' if permit else 'JGBA'}-{r.p.code}",
            "kind": "construction_permit" if permit else "completion_filing",
            "project_code": r.p.code,
            "item_code": r.item,
            "number": r.number,
            "issued_on": r.issued_on,
            "upstream": r.upstream,
            "source_system": "HNSGXK" if permit else "HNDZZZ",
            "department": "zjj",
            "payload": {"XMMC": r.p.name, "JSDW": r.p.owner_name},
        }
        return (self.actors.industry if permit else self.actors.licence_library), fields

    def supervise(self) -> None:
        """Everything planned once every project is scripted: the reports back (one of them with a
        dangling upstream number), the other planted anomalies, feedback, dispositions, inquiries."""
        srng, used = self.srng, set[str]()
        cutoff = SUPERVISION - timedelta(days=13)  # planted certificates need an approval by then
        permits = [r for r in self.reports if r.item == "GJ-3-03" and "GCGHXKZBH" in r.upstream]
        permits = [r for r in permits if r.at.date() < SUPERVISION]
        w5 = srng.choice(permits) if permits else None
        if w5 is not None:  # W5: the planning permit it cites was never in any system
            w5.upstream = {
                **w5.upstream,
                "GCGHXKZBH": f"{UNITS[w5.p.unit][0]}zrzy字〔2025〕{srng.randint(100, 999):05d}号",
            }
            used.add(w5.p.code)
        for r in self.reports:
            self.add(r.p, r.at, self.external(*self.certificate(r)))
        self.rectifications()
        w1 = self.plant_certificate_without_case(cutoff, used)
        self.plant_permit_before_review(cutoff, used)
        haikou = self.plant_foreign_status_row()
        hidden = self.plant_hidden_opinion(used)
        self.experience_officer_feedback()
        self.inquiries(w1, w5, haikou, hidden)

    def cut(self, day: date) -> date:
        """Planted reports arrive before the supervision weeks."""
        return min(day, SUPERVISION - timedelta(days=3))

    def plant_certificate_without_case(self, cutoff: date, used: set[str]) -> tuple[Project, str] | None:
        """W1: the licence library holds a fire-design review certificate no case here accounts for."""
        found = [
            p
            for p in self.projects
            if p.code not in used and "GJ-3-01" in p.approved and p.approved["GJ-3-01"][1] <= cutoff
        ]
        found = [p for p in found if "GJ-3-02" not in p.first_case]
        if not found:
            return None
        p = self.srng.choice(found)
        used.add(p.code)
        issued = p.approved["GJ-3-01"][1]
        fields: dict[str, Any] = {
            "source": "license_library",
            "source_id": f"DZZZ-XFSJ-{p.code}",
            "kind": "license",
            "project_code": p.code,
            "item_code": "GJ-3-02",
            "number": f"{UNITS[p.unit][0]}建消审字〔2026〕第{self.srng.randint(100, 999):04d}号",
            "issued_on": issued,
            "upstream": {"GCGHXKZBH": p.approved["GJ-2-01"][0]},
            "source_system": "HNDZZZ",
            "department": "zjj",
            "payload": {"ZZMC": "特殊建设工程消防设计审查意见书", "XMMC": p.name},
        }
        day = self.cut(add_workdays(issued, self.srng.randint(2, 8)))
        self.add(p, Track(self.srng).at(day), self.external(self.actors.licence_library, fields))
        return p, str(external_record_id(fields["source"], fields["source_id"]))

    def plant_permit_before_review(self, cutoff: date, used: set[str]) -> None:
        """W4: an industry-system construction permit dated before the drawing review it cites."""
        found = [
            p
            for p in self.projects
            if p.code not in used and "GJ-3-01" in p.approved and p.approved["GJ-3-01"][1] <= cutoff
        ]
        if not found:
            return
        p = self.srng.choice(found)
        used.add(p.code)
        reviewed = p.approved["GJ-3-01"][1]
        issued, back = reviewed, 3
        while back:  # three working days before the review's approval
            issued -= timedelta(days=1)
            back -= is_workday(issued)
        upstream = {"SCHGSBH": p.approved["GJ-3-01"][0]}
        if p.approved["GJ-2-01"][1] <= issued:
            upstream["GCGHXKZBH"] = p.approved["GJ-2-01"][0]
        number = f"{p.region}{issued:%Y%m%d}0101"  # 施工许可证编号: division, date, sequence, kind
        fields: dict[str, Any] = {
            "source": "industry_system",
            "source_id": f"SGXK-{number}",
            "kind": "construction_permit",
            "project_code": p.code,
            "item_code": None,  # the industry system does not know the provincial item catalogue
            "number": number,
            "issued_on": issued,
            "upstream": upstream,
            "source_system": "HNSGXK",
            "department": "zjj",
            "payload": {"XMMC": p.name, "JSDW": p.owner_name},
        }
        day = self.cut(add_workdays(reviewed, self.srng.randint(2, 8)))
        self.add(p, Track(self.srng).at(day), self.external(self.actors.industry, fields))

    def plant_foreign_status_row(self) -> tuple[str, str, str]:
        """W9 + W10: Haikou's system reports acceptance of a case unknown here, for a code never generated."""
        srng = self.srng
        while True:
            code = f"2609-460106-04-03-{srng.randrange(10**5):05d}{srng.randrange(10)}"
            if code not in self.codes:
                break
        case_ref = f"HK-460106-2026-{srng.randint(1000, 9999):05d}"
        fields: dict[str, Any] = {
            "source": "city_system",
            "source_id": f"HKGJXT-{case_ref}-3",
            "kind": "status_row",
            "project_code": code,
            "item_code": "GJ-1-02",
            "case_ref": case_ref,
            "status_code": 3,
            "source_system": "HKGJXT",
            "department": "zrzy",
            "payload": {"SJLY": "HKGJXT", "BLZT": 3, "XMMC": "海口龙华区滨江商住项目"},
        }
        day = add_workdays(date(2026, 10, 9), srng.randint(0, 10))
        self.add(self.oversight, Track(srng).at(day), self.external(self.actors.city_system, fields))
        return str(external_record_id(fields["source"], fields["source_id"])), "HKGJXT", case_ref

    def plant_hidden_opinion(self, used: set[str]) -> tuple[CaseRef, str] | None:
        """W10: the development-and-reform reviewer gives an opinion inside a drawing review."""
        found = [
            (p, ref, at) for p, ref, at in self.reviews if p.code not in used and at.date() < self.cut(SUPERVISION)
        ]
        if not found:
            return None
        p, ref, review = self.srng.choice(found)
        used.add(p.code)
        reviewer = self.actors.reviewers[p.unit, "fgw"]
        opinion = "项目已列入年度重点项目，同意通过施工图审查"
        # within the minute of the review's start; the case's next step is at least five minutes later
        at = review.replace(second=59) if review.second < 59 else review
        self.add(
            p,
            at,
            lambda: self.c.cases.act(  # the case's id once its submission has run
                Invocation(reviewer, self.request_id()), RecordOpinion(ref.uuid(), "fgw", opinion, "agree")
            ),
        )
        return ref, "fgw"

    def experience_officer_feedback(self) -> None:
        """体验员反馈: a handful of reports over the year, about items, windows and one late case."""
        srng, officer = self.srng, self.actors.experience_officer
        reports: list[tuple[date, dict[str, Any]]] = [
            (
                date(2026, 3, 18),
                {
                    "subject_kind": "item",
                    "item_code": "GJ-3-03",
                    "region_code": "460100",
                    "category": "unclear_materials",
                    "description": "施工许可申报指南对施工图审查合格书的要求与窗口口径不一致",
                },
            ),
            (
                date(2026, 5, 13),
                {
                    "subject_kind": "window",
                    "window": self.actors.clerks["460200"][0].name,
                    "region_code": "460200",
                    "category": "attitude",
                    "description": "暗访时窗口人员未执行首问负责制",
                },
            ),
            (
                date(2026, 6, 24),
                {
                    "subject_kind": "item",
                    "item_code": "GJ-5-02",
                    "region_code": "469005",
                    "category": "overdue",
                    "description": "供电报装现场勘查预约等待超过一周",
                },
            ),
            (
                date(2026, 8, 19),
                {
                    "subject_kind": "window",
                    "window": self.actors.clerks["460400"][1].name,
                    "region_code": "460400",
                    "category": "system_failure",
                    "description": "网上申报附件上传多次失败，窗口无法受理",
                },
            ),
            (
                date(2026, 9, 16),
                {
                    "subject_kind": "item",
                    "item_code": "GJ-1-02",
                    "region_code": "469002",
                    "category": "offline_approval_clue",
                    "description": "群众反映有项目用地预审意见在系统外先行出具",
                },
            ),
        ]
        tr = Track(srng)
        for day, body in reports:
            self.add(self.oversight, tr.at(day), self.feedback(officer, body))
        late = [(p, ref, at) for p, ref, at in self.late_cases if at.date() < SUPERVISION]
        if late:
            p, ref, decided = srng.choice(late)
            body = {"subject_kind": "case", "category": "overdue", "description": "办件超过承诺时限才办结，未告知原因"}
            at = self.after(decided).at(add_workdays(decided.date(), srng.randint(1, 3)))
            self.add(p, at, self.feedback(officer, body, ref))

    def feedback(self, officer: Actor, body: dict[str, Any], ref: CaseRef | None = None) -> Run:
        def run() -> FeedbackSubmitted:
            self.count["feedback"] += 1
            return self.c.feedback.submit(
                Invocation(officer, self.request_id()),
                SubmitFeedback(
                    subject_kind=body["subject_kind"],
                    case_id=ref.uuid() if ref else None,
                    item_code=body.get("item_code"),
                    window=body.get("window"),
                    region_code=body.get("region_code"),
                    reporter_kind=None,
                    category=body["category"],
                    description=body["description"],
                ),
            )

        return run

    def inquiries(
        self,
        w1: tuple[Project, str] | None,
        w5: Report | None,
        haikou: tuple[str, str, str],
        hidden: tuple[CaseRef, str] | None,
    ) -> None:
        """From SUPERVISION: the warnings read model is caught up, then dispositions and inquiries."""
        officer, day = self.actors.officer, SUPERVISION
        plan: list[tuple[int, Run]] = []  # (working days after SUPERVISION, command), in order

        def at(days: int, run: Run) -> None:
            plan.append((days, run))

        if hidden is not None:
            ref, dept = hidden
            note = "已签收：发改部门在施工图审查中出具意见，转业务处室核查"
            at(0, self.acknowledge(_case_warning("W10", ref, "department", dept), note))
        asked = {"deadline": add_workdays(day, 7), "questions": ["请说明该事项为何未在工程建设项目审批管理系统中办理"]}
        if w1 is not None:
            p, record = w1
            held = self.open_inquiry(at, [_fixed(warning_id("W1", record))], "消防设计审查意见书无对应办件", "zjj")
            self.explain(
                at,
                held,
                "zjj",
                asked,
                self.actors.approvers[p.unit, "zjj"],
                "该意见书由业务科室在行业系统线下出具，未在工改系统受理",
            )
            at(
                8,
                self.inquiry_act(
                    officer,
                    held,
                    "record-finding",
                    {"finding": "violation_confirmed", "summary": "系统外审批属实，违反全流程网上办理要求"},
                ),
            )
            at(
                9,
                self.inquiry_act(
                    officer,
                    held,
                    "record-sanction",
                    {
                        "sanction_type": "诫勉谈话",
                        "target": f"{UNITS[p.unit][0]}市住房和城乡建设局消防审查科负责人",
                        "decision_number": "琼纪问〔2026〕7号",
                        "detail": "责令限期将线下审批事项补录并说明",
                    },
                ),
            )
            at(10, self.inquiry_act(officer, held, "close", {"conclusion": "违规属实，已问责并整改"}))
        entry = next(((p, ref) for p, ref, item, entered in self.back_refs if entered.date() < day), None)
        if entry is not None:
            p, ref = entry
            held = self.open_inquiry(at, [_case_warning("W2", ref)], "用地预审先批后录", "zrzy")
            self.explain(
                at,
                held,
                "zrzy",
                asked,
                self.actors.approvers[p.unit, "zrzy"],
                "系统故障期间应急线下审批，附系统故障工单，恢复后即补录",
            )
            at(
                8,
                self.inquiry_act(
                    officer,
                    held,
                    "record-finding",
                    {"finding": "justified", "summary": "线下办理有正当理由且已及时补录"},
                ),
            )
            at(10, self.inquiry_act(officer, held, "close", {"conclusion": "情况属实，理由正当，不予问责"}))
        status_row, system, case_ref = haikou
        ids = [_fixed(warning_id("W9", status_row)), _fixed(warning_id("W10", "external_case", system, case_ref))]
        held = self.open_inquiry(at, ids, "海口市系统上报未赋码项目的受理记录", "zrzy")
        self.explain(
            at,
            held,
            "zrzy",
            asked,
            self.actors.approvers["460100", "zrzy"],
            "该记录为海口市系统接口联调期间推送的测试数据，并非真实办件",
        )
        at(
            8,
            self.inquiry_act(
                officer, held, "record-finding", {"finding": "false_alarm", "summary": "测试数据误推送，非隐形审批"}
            ),
        )
        at(10, self.inquiry_act(officer, held, "close", {"conclusion": "误报，已要求海口市清理测试数据"}))
        if w5 is not None:
            permit = str(external_record_id("industry_system", f"SGXK-{w5.p.code}"))
            dangling = warning_id("W5", permit, w5.upstream["GCGHXKZBH"])
            held = self.open_inquiry(at, [_fixed(dangling)], "施工许可证引用的规划许可证号不存在", "zrzy")
            long = {**asked, "deadline": add_workdays(day, 20)}  # answered after the demo's end: still open
            at(1, self.inquiry_act(officer, held, "request-explanation", {**long, "department": "zrzy"}))
        tr = Track(self.srng)
        for days, run in sorted(plan, key=lambda dr: dr[0]):  # stable: a day's commands keep their order
            self.add(self.oversight, tr.at(add_workdays(day, days) if days else day), run)

    def acknowledge(self, wid: Callable[[], str], note: str) -> Run:
        def run() -> WarningDisposed:
            self.c.engine.catch_up(["offline_warnings"])  # the service acts on warnings the read model holds
            return self.c.supervision.acknowledge_warning(
                Invocation(self.actors.supervisor, self.request_id()), AcknowledgeWarning(wid(), note)
            )

        return run

    def open_inquiry(
        self, at: Callable[[int, Run], None], ids: list[Callable[[], str]], subject: str, department: str
    ) -> Held:
        held = Held()

        def run() -> InquiryOutcome:
            self.c.engine.catch_up(["offline_warnings"])
            r = self.c.supervision.open_inquiry(
                Invocation(self.actors.officer, self.request_id()),
                OpenInquiry(
                    warning_ids=[wid() for wid in ids], subject=subject, department=department, reason="预警线索核查"
                ),
            )
            held.id = r.id
            self.count["inquiries"] += 1
            return r

        at(1, run)
        return held

    def explain(
        self, at: Callable[[int, Run], None], held: Held, dept: str, asked: dict[str, Any], official: Actor, text: str
    ) -> None:
        at(2, self.inquiry_act(self.actors.officer, held, "request-explanation", {**asked, "department": dept}))
        at(6, self.inquiry_act(official, held, "record-explanation", {"department": dept, "explanation": text}))

    def inquiry_act(self, actor: Actor, held: Held, action: str, body: dict[str, Any]) -> Run:
        return lambda: self.c.supervision.act(
            Invocation(actor, self.request_id()), INQUIRY_ACTIONS[action](held.uuid(), **body)
        )


def _fixed(wid: str) -> Callable[[], str]:
    return lambda: wid


def _case_warning(rule: str, ref: CaseRef, *keys: str) -> Callable[[], str]:
    """The id of a warning about a case whose id is known only once its submission ran."""
    return lambda: warning_id(rule, str(ref.uuid()), *keys)

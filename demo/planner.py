"""Builds every project's script; nothing is written until the runner executes the steps."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from application.commands import Invocation
from application.commands.cases import CASE_ACTIONS, BackEnterCase, CaseOutcome, SubmitCase
from application.commands.catalogue import EditionPublished, FlowPublished, PublishCatalogueEdition, PublishFlow
from application.commands.projects import (
    GenerateProject,
    LinkParcel,
    MergeProject,
    ProjectMerged,
    ProjectOutcome,
    RegisterUnitWork,
    SupplyLand,
)
from application.commands.seals import RegisterSeal, SealRegistered
from application.policy import LICENCE_ISSUER, Actor, department_org
from demo.data import (
    AGENCIES,
    BACKENTRY_REASONS,
    BRANDS,
    END,
    FLOWS,
    HAIKOU_FLOW,
    HAIKOU_STAGE_LIMITS,
    HAINAN_CATALOGUE,
    LAST_GENERATION,
    LICENSING,
    LINEAR_FLOWS,
    NANSHA,
    REPORTED,
    SEAL_VALIDITY,
    SPECIAL,
    START,
    TRADES,
    UNITS,
    UTILITIES,
    CaseRef,
    Outcome,
    Plan,
    Project,
    Run,
    Track,
)
from demo.supervision import Supervision
from domain.catalog import SEED_CATALOG, Item
from domain.catalog.seed import seed_definition
from domain.shared.codes import USCC_ALPHABET, uscc_check_char
from domain.shared.events import SHANGHAI
from domain.shared.reference import REFERENCE
from domain.shared.workdays import add_workdays, is_workday
from infrastructure.catalogue_files import read_tables, sha256_of

_PREREQUISITES = frozenset(p for item in SEED_CATALOG.items.values() for p in item.prerequisites)
_SHARES = (
    ("overdue", 0.07),
    ("pending", 0.04),
    ("refuse", 0.04),
    ("refuse_acceptance", 0.025),
    ("not_accept", 0.015),
    ("withdraw_before", 0.02),
    ("withdraw_after", 0.02),
    ("stuck", 0.015),
)
_AT_DESK: dict[str, tuple[str, dict[str, Any]]] = {
    "not_accept": ("not-accept", {"reason": "申请事项不属于本部门职权范围"}),
    "refuse_acceptance": ("refuse-acceptance", {"reason": "未取得用地手续，不符合受理条件"}),
    "withdraw_before": ("withdraw", {"reason": "申请人主动撤回，调整方案后重新申报"}),
}
_IN_REVIEW: dict[str, tuple[str, dict[str, Any]]] = {
    "withdraw_after": ("withdraw", {"reason": "项目投资计划调整，申请撤回"}),
    "refuse": ("refuse", {"reason": "不符合控制性详细规划，依据《城乡规划法》不予许可"}),
}


class Planner(Supervision):
    """Builds every project's script; nothing is written until the runner executes the steps."""

    def project_code(self, day: date, region: str, government: bool, legacy: bool = False) -> str:
        while True:
            head = "2019" if legacy else f"{day:%y%m}"
            tail = f"{self.rng.randrange(10**5):05d}{self.rng.randrange(10)}"
            code = f"{head}-{region}-{self.rng.choice(('04', '05', '12'))}-{'01' if government else '03'}-{tail}"
            if code not in self.codes:
                self.codes.add(code)
                return code

    def owner(self, unit: str, region: str, government: bool) -> tuple[str, str]:
        """An owner registered in the project's region (the USCC's region segment)."""
        pool = self.owners.setdefault(f"{region}-{government}", [])
        if pool and self.rng.random() < 0.3:
            return self.rng.choice(pool)
        if government:
            agency = self.rng.choice(AGENCIES)
            name, head = f"{REFERENCE.regions[unit].name}{agency}", "91" if agency.endswith("公司") else "11"
        else:
            name, head = f"海南{self.rng.choice(BRANDS)}{self.rng.choice(TRADES)}有限公司", "91"
        if head == "91":
            body = "MA5" + "".join(self.rng.choice(USCC_ALPHABET) for _ in range(6))
        else:
            body = "".join(self.rng.choice("0123456789") for _ in range(9))
        first17 = f"{head}{region}{body}"
        pool.append((name, first17 + uscc_check_char(first17)))
        return pool[-1]

    def red_line(self, unit: str, region: str, linear: bool) -> dict[str, Any]:
        """A small quadrilateral near the unit's centre (a long thin strip for linear works)."""
        lon, lat = NANSHA if region == "460302" else UNITS[unit][1]
        spread = 0.005 if unit == "460300" else 0.04
        x, y = lon + self.rng.uniform(-spread, spread), lat + self.rng.uniform(-spread, spread)
        w, h = (0.02, 0.0008) if linear else (self.rng.uniform(0.0015, 0.006), self.rng.uniform(0.0015, 0.006))
        j = self.rng.uniform(-0.0002, 0.0002)
        ring = [(x, y), (x + w, y + j), (x + w, y + h), (x - j, y + h), (x, y)]
        return {"type": "Polygon", "coordinates": [[[round(a, 6), round(b, 6)] for a, b in ring]]}

    def pick_region(self, index: int) -> tuple[str, str]:
        """The first 19 projects go round all units; then weighted (海口, 三亚 and 儋州 busiest)."""
        units = list(UNITS)
        unit = units[index] if index < len(units) else self.rng.choices(units, [u[3] for u in UNITS.values()])[0]
        districts = [r.code for r in REFERENCE.regions.values() if r.parent_code == unit]
        region = self.rng.choice(districts) if districts and self.rng.random() < 0.8 else unit
        return unit, region

    def generation_day(self) -> date:
        """Earlier days are likelier, so most projects get far through the stages by November."""
        span = (LAST_GENERATION - START).days
        day = START + timedelta(days=int(span * self.rng.random() ** 1.4))
        while not is_workday(day):  # later steps count working days from it
            day += timedelta(days=1)
        return day

    def pick_plan(self, item: Item) -> Plan:
        if self.forced:
            return self.forced.pop(0)
        r, plan = self.rng.random(), Plan("approve")
        for kind, share in _SHARES:
            if r < share:
                plan.kind = kind
                break
            r -= share
        if plan.kind == "approve" and item.code not in _PREREQUISITES and self.rng.random() < 0.05:
            plan.kind = "revoke"
        plan.pre_correction = self.rng.random() < 0.08
        plan.correction = self.rng.random() < 0.12
        plan.opinion = self.rng.random() < 0.4
        if item.stage in (1, 2) and self.rng.random() < 0.12:
            plan.special = self.rng.randrange(len(SPECIAL))
        return plan

    # --- seals -----------------------------------------------------------------------

    def seals(self) -> None:
        """印章: as the first working morning opens, the administrator registers one seal per unit and
        licensing department (before any approval), held as `department_org` names it, usable by the department's approver
        and by the automatic licence issuer (the department opts in to automatic sealing)."""
        valid_from, valid_until = SEAL_VALIDITY
        first = datetime.combine(START, time(8, 30), SHANGHAI)  # within business hours, like every step
        for n, (unit, dept) in enumerate((u, d) for u in UNITS for d in LICENSING):
            fields = {
                "holder_org": department_org(unit, dept),
                "name": f"{REFERENCE.regions[unit].name}{SEED_CATALOG.departments[dept]}电子证照专用章",
                "purpose": "电子证照签发",
                "algorithm": "sm2-sm3",
                "valid_from": valid_from,
                "valid_until": valid_until,
                "signers": [LICENCE_ISSUER.actor_id, self.actors.approvers[unit, dept].actor_id],
            }
            self.add(self.oversight, first + timedelta(seconds=n), self.seal(fields))

    def catalogue(self) -> None:
        """事项库 and 流程: as the first morning opens (before the seals) the administrator imports the
        province's catalogue file (HAINAN_CATALOGUE, as `gongjian catalogue import` would: its flows
        sheet publishes flows 1 and 3 in version 2.0), then the seed of the other flows is recorded;
        Haikou's flow version is published on its day; no random draw, so the approvals stay as they were."""
        first = datetime.combine(START, time(8, 30), SHANGHAI)
        tables, digest = read_tables(HAINAN_CATALOGUE), sha256_of(HAINAN_CATALOGUE)

        def publish_edition() -> EditionPublished:
            return self.c.catalogue_editions.publish(
                Invocation(self.actors.admin, self.request_id()),
                PublishCatalogueEdition(tables, sha256=digest, file_name=HAINAN_CATALOGUE.name),
            )

        self.add(self.oversight, first, publish_edition)
        self.add(self.oversight, first, lambda: {"created": self.c.catalogue.seed(self.request_id())})
        region, flow_type, version, at = HAIKOU_FLOW
        definition = seed_definition(flow_type)
        definition["version"] = version
        for stage in definition["stages"]:
            stage["limit_days"] = HAIKOU_STAGE_LIMITS.get(stage["stage"], stage["limit_days"])

        def publish() -> FlowPublished:
            command = PublishFlow(region, flow_type, definition)
            return self.c.catalogue.publish(Invocation(self.actors.admin, self.request_id()), command)

        self.add(self.oversight, at, publish)

    def seal(self, fields: dict[str, Any]) -> Run:
        def run() -> SealRegistered:
            self.count["seals"] += 1
            return self.c.seals.register(Invocation(self.actors.admin, self.request_id()), RegisterSeal(**fields))

        return run

    # --- projects --------------------------------------------------------------------

    def project(self, index: int, count: int) -> None:
        rng = self.rng
        unit, region = self.pick_region(index)
        flow = index + 1 if index < len(FLOWS) else rng.randint(1, len(FLOWS))
        category, investment_type, works, (low, high) = FLOWS[flow]
        if flow == 10:
            investment_type = rng.choice(("government", "enterprise"))
        government = investment_type == "government"
        day = self.generation_day()
        owner_name, uscc = self.owner(unit, region, government)
        p = Project(
            index=index,
            code=self.project_code(day, region, government),
            name=f"{UNITS[unit][0]}{rng.choice(UNITS[unit][2])}{rng.choice(works)}",
            unit=unit,
            region=region,
            flow_type=flow,
            government=government,
            owner_name=owner_name,
            owner_uscc=uscc,
            applicant=Actor(f"applicant-{uscc}", "applicant", uscc, region, owner_name),
            red_line=self.red_line(unit, region, flow in LINEAR_FLOWS),
        )
        self.scripts.append(p.steps)
        self.projects.append(p)
        start = day + timedelta(days=rng.randint(60, 180))
        fields: dict[str, Any] = {
            "code": p.code,
            "name": p.name,
            "owner_name": owner_name,
            "owner_uscc": uscc,
            "region_code": region,
            "flow_type": flow,
            "investment_type": investment_type,
            "category": category,
            "total_investment": Decimal(rng.randint(low * 100, high * 100)).scaleb(-2),
            "planned_start": start,
            "planned_end": start + timedelta(days=rng.randint(365, 1100)),
            "red_line": p.red_line if rng.random() < 0.8 else None,
        }
        generator = p.applicant if rng.random() < 0.7 else rng.choice(self.actors.clerks[unit])
        self.add(p, Track(rng).at(day), self.generate(generator, fields))
        if index in (5, count // 2 + 7):
            self.duplicate(p, day, fields)
        self.stages(p, day)

    def generate(self, actor: Actor, fields: dict[str, Any]) -> Run:
        def run() -> ProjectOutcome:
            self.generated += 1
            return self.c.projects.generate(Invocation(actor, self.request_id()), GenerateProject(**fields))

        return run

    def duplicate(self, p: Project, day: date, fields: dict[str, Any]) -> None:
        """重复赋码: the same project coded again under a legacy code, found and merged later."""
        tr = Track(self.rng)
        code = self.project_code(day, p.region, p.government, legacy=True)
        clerk = self.actors.clerks[p.unit][0]
        self.add(p, tr.at(add_workdays(day, self.rng.randint(1, 5))), self.generate(clerk, {**fields, "code": code}))
        supervisor = self.actors.supervisor

        def merge() -> ProjectMerged:
            self.merges += 1
            reason = "同一项目重复赋码：项目名称、建设单位与用地红线一致，保留新代码"
            return self.c.projects.merge(
                Invocation(supervisor, self.request_id()), MergeProject(code, canonical_code=p.code, reason=reason)
            )

        self.add(p, tr.at(add_workdays(tr.day, self.rng.randint(10, 25))), merge)

    def stages(self, p: Project, day: date) -> None:
        """The four stages in prerequisite order, with utilities alongside after planning."""
        rng, item = self.rng, SEED_CATALOG.item
        if not p.government:
            self.case(p, item("GJ-1-01"), add_workdays(day, rng.randint(1, 5)))
        if p.index % 40 == 2:
            done: date | None = self.back_entry(p, item("GJ-1-02"), day)
        else:
            done = self.case(p, item("GJ-1-02"), add_workdays(day, rng.randint(2, 10)))
        if done is None:
            return
        done = self.land(p, add_workdays(done, rng.randint(3, 15)))
        done = self.case(p, item("GJ-1-03"), add_workdays(done, rng.randint(1, 8)))
        if done is None:
            return
        done = self.case(p, item("GJ-2-01"), add_workdays(done, rng.randint(5, 25)))
        if done is None:
            return
        for code in rng.sample(UTILITIES, rng.randint(1, 3)):
            self.case(p, item(code), add_workdays(done, rng.randint(1, 30)))
        self.unit_works(p, add_workdays(done, rng.randint(1, 5)))
        day3, joint = add_workdays(done, rng.randint(5, 20)), f"BX-{p.code}-3"
        done = self.case(p, item("GJ-3-01"), day3, joint)
        if rng.random() < 0.5:
            self.case(p, item("GJ-3-02"), day3, joint)
        if done is None:
            return
        done = self.case(p, item("GJ-3-03"), add_workdays(done, rng.randint(2, 8)))
        if done is None:
            return
        built = add_workdays(done, rng.randint(20, 40) if p.flow_type == 4 else rng.randint(30, 60))
        done = self.case(p, item("GJ-4-01"), built)
        if rng.random() < 0.5:
            self.case(p, item("GJ-4-02"), built)
        if done is not None:
            self.case(p, item("GJ-4-03"), add_workdays(done, rng.randint(2, 10)))

    def land(self, p: Project, day: date) -> date:
        """供地 and 宗地 by the natural-resources reviewer; returns the day the parcels are linked."""
        rng, tr = self.rng, Track(self.rng)
        reviewer, projects = self.actors.reviewers[p.unit, "zrzy"], self.c.projects
        moment = tr.at(day)
        self.parcels += 1
        mode = "allocation" if p.government else "transfer"
        contract = None if p.government else f"{p.region}-2026-CR-{self.parcels:04d}"

        def supply() -> ProjectOutcome:
            return projects.supply_land(
                Invocation(reviewer, self.request_id()),
                SupplyLand(p.code, mode=mode, red_line=p.red_line, supplied_on=moment.date(), contract_number=contract),
            )

        self.add(p, moment, supply)
        for n in range(rng.randint(1, 2)):
            ownership = "J" if p.region.startswith("469") and rng.random() < 0.2 else "G"
            parcel = (
                f"{p.region}{rng.randint(1, 30):03d}{rng.randint(1, 20):03d}{ownership}B{self.parcels * 10 + n:05d}"
            )
            self.add(p, tr.at(add_workdays(tr.day, rng.randint(0, 2))), self.link(reviewer, p.code, parcel))
        return tr.day

    def link(self, actor: Actor, code: str, parcel: str) -> Run:
        return lambda: self.c.projects.link_parcel(
            Invocation(actor, self.request_id()), LinkParcel(code, parcel_code=parcel)
        )

    def unit_works(self, p: Project, day: date) -> None:
        """单位工程, registered by the owner once the planning permit is out."""
        rng, tr = self.rng, Track(self.rng)
        if p.flow_type in LINEAR_FLOWS:
            works: list[tuple[str, Decimal | None, int | None]] = [("主线工程", None, None)]
        else:
            works = [
                (f"{n}#楼", Decimal(rng.randint(3000, 30000)), rng.randint(3, 33)) for n in range(1, rng.randint(2, 4))
            ]
            works.append(("地下室", Decimal(rng.randint(2000, 15000)), 1))
        for name, area, storeys in works:
            self.add(p, tr.at(day), self.register(p, name, area, storeys))

    def register(self, p: Project, name: str, area: Decimal | None, storeys: int | None) -> Run:
        return lambda: self.c.projects.register_unit_work(
            Invocation(p.applicant, self.request_id()),
            RegisterUnitWork(p.code, name=name, floor_area_m2=area, storeys=storeys),
        )

    def back_entry(self, p: Project, item: Item, day: date) -> date:
        """补录: decided at the counter before the case was in the system, entered days later."""
        rng, tr = self.rng, Track(self.rng)
        received = add_workdays(day, rng.randint(1, 2))
        decided_at = Track(rng).at(add_workdays(received, rng.randint(2, 5)))
        clerk, ref = self.actors.clerks[p.unit][0], CaseRef()
        self.documents += 1
        number = f"{UNITS[p.unit][0]}{item.department}字〔2026〕{self.documents:05d}号"
        reason = rng.choice(BACKENTRY_REASONS)

        def run() -> CaseOutcome:
            r = self.c.cases.back_enter(
                Invocation(clerk, self.request_id()),
                BackEnterCase(
                    project_code=p.code,
                    item_code=item.code,
                    decision="approved",
                    decided_at=decided_at,
                    received_on=received,
                    accepted_on=received,
                    document_number=number,
                    reason=reason,
                ),
            )
            ref.id, ref.status = r.id, r.status_code
            self.cases.append(ref)
            self.back_entries += 1
            return r

        self.add(p, tr.at(add_workdays(decided_at.date(), rng.randint(3, 12))), run)
        self.back_refs.append((p, ref, item, tr.last or decided_at))
        return tr.day

    # --- cases -----------------------------------------------------------------------

    def case(self, p: Project, item: Item, day: date, joint: str | None = None) -> date | None:
        """A case and, for an item others depend on, one more attempt after a refusal or withdrawal.
        Returns the day the item was approved, None if it was not (in the demo's time)."""
        if day > END.date():
            return None
        outcome = self.script_case(p, item, day, self.pick_plan(item), joint)
        if outcome.closed_on is None or not (item.milestone or item.code in _PREREQUISITES):
            return outcome.approved_on
        again = add_workdays(outcome.closed_on, self.rng.randint(5, 20))
        retry = Plan(self.rng.choice(("approve", "approve", "overdue")), correction=self.rng.random() < 0.3)
        return self.script_case(p, item, again, retry, joint).approved_on

    def script_case(self, p: Project, item: Item, day: date, plan: Plan, joint: str | None) -> Outcome:
        rng, tr, ref = self.rng, Track(self.rng), CaseRef()
        city = item.stage == 5 and p.unit == "460100"  # Haikou's utilities come from the city system
        desk = self.actors.city_system if city else rng.choice(self.actors.clerks[p.unit])
        reviewer = self.actors.city_system if city else self.actors.reviewers[p.unit, item.department]
        approver = self.actors.city_system if city else self.actors.approvers[p.unit, item.department]
        online = city or rng.random() < 0.6
        submitter = desk if city or not online else p.applicant

        def act(actor: Actor, action: str, body: dict[str, Any] | None = None) -> Run:
            def run() -> CaseOutcome:
                command = CASE_ACTIONS[action](ref.uuid(), **(body or {}))
                r = self.c.cases.act(Invocation(actor, self.request_id()), command)
                ref.status = r.status_code
                return r

            return run

        def submit() -> CaseOutcome:
            r = self.c.cases.submit(
                Invocation(submitter, self.request_id()),
                SubmitCase(
                    project_code=p.code,
                    item_code=item.code,
                    situation_codes=[],
                    materials=[
                        {"name": f"{item.name}申请表", "copies": 1},
                        {"name": "营业执照", "internally_shared": True},
                    ],
                    parallel_application_id=joint,
                    acceptance_mode=4 if online else 1,
                ),
            )
            ref.id, ref.status = r.id, r.status_code
            self.cases.append(ref)
            return r

        def later(days: int) -> datetime:
            return tr.at(add_workdays(tr.day, days))

        submitted = tr.at(day)
        self.add(p, submitted, submit)
        p.first_case.setdefault(item.code, submitted)
        if plan.pre_correction:
            self.add(
                p, later(0), act(desk, "request-correction", {"materials": ["授权委托书"], "note": "委托书未盖章"})
            )
            self.add(p, later(rng.randint(1, 4)), act(p.applicant, "complete-correction", {"note": "已补交"}))
        at_desk = later(rng.randint(0, 1))
        closing = _AT_DESK.get(plan.kind)
        if closing is not None:
            self.add(p, at_desk, act(p.applicant if closing[0] == "withdraw" else desk, *closing))
            if not city:
                self.rate(p, ref, item, at_desk, "closed", online)
            return Outcome(closed_on=tr.day)
        self.add(p, at_desk, act(desk, "accept"))
        limit = item.promised_limit_days
        slow = plan.kind in ("overdue", "stuck")
        budget = limit + rng.randint(2, 12) if slow else rng.randint(max(1, limit // 3), limit)
        step = rng.randint(0, min(1, budget))
        review = later(step)
        self.add(p, review, act(reviewer, "start-review"))
        if item.code == "GJ-3-01" and plan.kind == "approve":
            self.reviews.append((p, ref, review))
        budget -= step
        if plan.opinion:
            agree = plan.kind != "refuse"
            text = "材料齐全，符合法定条件" if agree else "不符合规划条件，建议不予许可"
            body: dict[str, Any] = {
                "department": item.department,
                "opinion": text,
                "result": "agree" if agree else "disagree",
            }
            self.add(p, later(0), act(reviewer, "record-opinion", body))
        if plan.correction:  # the clock stops between request and completion
            step = rng.randint(0, min(2, budget))
            body = {"materials": ["设计方案总平面图"], "note": "总平面图指标与规划条件不一致"}
            self.add(p, later(step), act(reviewer, "request-correction", body))
            self.add(p, later(rng.randint(2, 10)), act(p.applicant, "complete-correction", {"note": "已按意见修改"}))
            budget -= step
        if plan.special is not None:  # so it does during the special procedure
            ptype, pname, plimit = SPECIAL[plan.special]
            step = rng.randint(0, min(2, budget))
            body = {
                "procedure_type": ptype,
                "procedure_name": pname,
                "limit_days": plimit,
                "reason": f"依法组织{pname}",
            }
            self.add(p, later(step), act(reviewer, "start-special-procedure", body))
            self.add(
                p,
                later(rng.randint(max(1, plimit - 3), plimit)),
                act(reviewer, "end-special-procedure", {"result": f"{pname}无异议"}),
            )
            budget -= step
        if plan.kind == "stuck":
            return Outcome()
        final = later(max(0, budget))
        if plan.kind in ("withdraw_after", "refuse"):
            closing = _IN_REVIEW[plan.kind]
            self.add(p, final, act(p.applicant if closing[0] == "withdraw" else approver, *closing))
            if not city:
                self.rate(p, ref, item, final, "closed", online)
            return Outcome(closed_on=tr.day)
        self.documents += 1
        number = f"{UNITS[p.unit][0]}{item.department}字〔2026〕{self.documents:05d}号"
        if plan.kind == "pending":
            body = {"document_number": number, "pending_materials": ["消防设计文件（容缺后补）"]}
            self.add(p, final, act(approver, "approve-pending-materials", body))
        else:
            body = {"document_number": number, "document_title": item.name, "valid_until": date(2027, 12, 31)}
            self.add(p, final, act(approver, "approve", body))
        if not city:
            self.rate(p, ref, item, final, "late" if slow else "good", online)
        if slow:
            self.late_cases.append((p, ref, final))
        if plan.kind == "revoke":
            revoker = self.actors.approvers[p.unit, item.department]
            self.add(
                p, later(rng.randint(10, 30)), act(revoker, "revoke", {"reason": "申请材料存在虚假情形，依法撤销"})
            )
            return Outcome(closed_on=tr.day)
        p.approved[item.code] = (number, final.date())
        if item.code in REPORTED:
            self.report_back(p, item, number, final)
        return Outcome(approved_on=tr.day)

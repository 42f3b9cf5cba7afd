"""演示数据 — a deterministic, realistic year of approvals in Hainan, written through the services.

Every project gets a script of timed commands (generation, land supply, parcels, unit works and its
cases through the four stages, utility connections, back-entries, duplicate-code merges). The
scripts are built first, then merged by time and executed in that order with the simulated clock
set before each command, so recorded timestamps rise with log positions. Nothing is written by SQL.
"""

from __future__ import annotations

import heapq
import random
import time as timer
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from application.bootstrap import Container
from application.clock import SimulatedClock
from application.policy import Actor
from domain.approvals.case import CaseStatus
from domain.catalog import CATALOG, Item
from domain.shared.codes import USCC_ALPHABET, uscc_check_char
from domain.shared.errors import Conflict
from domain.shared.events import SHANGHAI
from domain.shared.reference import REFERENCE
from domain.shared.workdays import add_workdays, is_workday

START = date(2026, 1, 5)
END = datetime(2026, 11, 20, 17, 30, tzinfo=SHANGHAI)
LAST_GENERATION = date(2026, 8, 28)
# 上午 08:30–12:00, 下午 14:30–17:30 (minutes of the day)
BUSINESS_MINUTES = [*range(8 * 60 + 30, 12 * 60), *range(14 * 60 + 30, 17 * 60 + 30)]

# city/county unit → (short name, centre lon/lat, places inside it, weight of projects)
UNITS: dict[str, tuple[str, tuple[float, float], tuple[str, ...], float]] = {
    "460100": (
        "海口",
        (110.33, 20.00),
        ("江东新区", "国家高新区", "桂林洋", "西海岸", "美安科技新城", "海甸岛", "长流"),
        6,
    ),
    "460200": ("三亚", (109.51, 18.28), ("崖州湾科技城", "海棠湾", "中央商务区", "亚龙湾", "吉阳", "天涯"), 4),
    "460300": ("三沙", (112.34, 16.83), ("永兴岛", "赵述岛", "晋卿岛"), 0.3),
    "460400": ("儋州", (109.58, 19.52), ("洋浦经济开发区", "那大", "白马井", "海花岛"), 3),
    "469001": ("五指山", (109.52, 18.78), ("水满", "通什", "毛阳"), 1),
    "469002": ("琼海", (110.47, 19.25), ("博鳌乐城", "嘉积", "潭门"), 2),
    "469005": ("文昌", (110.75, 19.60), ("国际航天城", "铺前", "龙楼", "文城"), 2),
    "469006": ("万宁", (110.39, 18.80), ("兴隆", "神州半岛", "万城"), 1.5),
    "469007": ("东方", (108.70, 19.10), ("临港产业园", "八所", "板桥"), 1.5),
    "469021": ("定安", (110.36, 19.68), ("塔岭新区", "定城", "龙门"), 1),
    "469022": ("屯昌", (110.10, 19.36), ("屯城", "枫木", "南吕"), 1),
    "469023": ("澄迈", (110.01, 19.74), ("老城经济开发区", "福山", "金江"), 2),
    "469024": ("临高", (109.69, 19.88), ("临城", "金牌港", "博厚"), 1),
    "469025": ("白沙", (109.45, 19.22), ("牙叉", "邦溪", "七坊"), 1),
    "469026": ("昌江", (109.05, 19.30), ("石碌", "棋子湾", "叉河"), 1),
    "469027": ("乐东", (109.17, 18.75), ("抱由", "九所", "龙沐湾"), 1),
    "469028": ("陵水", (110.04, 18.51), ("黎安国际教育创新试验区", "英州", "椰林"), 1.5),
    "469029": ("保亭", (109.70, 18.64), ("七仙岭", "保城", "三道"), 1),
    "469030": ("琼中", (109.84, 19.03), ("营根", "湾岭", "黎母山"), 1),
}

# flow type → (category, investment type, works, investment range in 万元)
FLOWS: dict[int, tuple[str, str, tuple[str, ...], tuple[int, int]]] = {
    1: (
        "房屋建筑",
        "government",
        ("第二中学教学综合楼", "人民医院门诊住院综合楼", "安居房项目", "社区卫生服务中心"),
        (3000, 80000),
    ),
    2: ("市政", "government", ("市政道路及配套管网工程", "污水管网提质增效工程", "滨海大道改造工程"), (5000, 150000)),
    3: (
        "房屋建筑",
        "enterprise",
        ("商业综合体项目", "总部经济大厦", "住宅小区（一期）", "国际酒店项目"),
        (10000, 300000),
    ),
    4: ("房屋建筑", "enterprise", ("仓储用房项目", "便民商业用房", "厂房扩建项目"), (300, 3000)),
    5: ("房屋建筑", "enterprise", ("地块商品住宅项目", "人才公寓项目"), (20000, 200000)),
    6: ("工业", "enterprise", ("新材料产业园项目", "智能制造基地", "热带农产品加工厂"), (5000, 500000)),
    7: ("交通", "government", ("互通立交工程", "旅游公路工程", "公交首末站工程"), (10000, 400000)),
    8: ("水利", "government", ("水库除险加固工程", "海堤加固工程", "灌区续建配套工程"), (2000, 60000)),
    9: ("能源", "enterprise", ("光伏发电项目", "110千伏输变电工程", "海上风电配套陆上集控中心"), (5000, 300000)),
    10: ("其他", "enterprise", ("游艇码头配套服务区", "文化体育中心", "医疗康养中心"), (2000, 100000)),
}
NANSHA = (112.89, 9.55)  # 永暑礁, for the 南沙 district of 三沙
LINEAR_FLOWS = frozenset({2, 7, 8})
BRANDS = (
    "椰城",
    "南海",
    "琼州",
    "鹿城",
    "椰风",
    "蓝海",
    "博鳌",
    "洋浦",
    "海垦",
    "万泉河",
    "南渡江",
    "热带",
    "海岛",
    "椰林",
)
TRADES = ("置业", "建设发展", "实业", "科技", "能源", "旅游开发", "产业投资", "城市更新", "新材料", "医疗健康")
AGENCIES = ("教育局", "卫生健康委员会", "住房和城乡建设局", "交通运输局", "水务局", "城市建设投资有限公司")
SPECIAL = (("expert_review", "专家评审", 10), ("hearing", "听证", 20), ("public_notice", "公示", 7))
BACKENTRY_REASONS = (
    "系统对接前已线下办结，按规定补录",
    "系统故障期间应急线下审批",
    "省市系统切换期间线下受理并办结",
)
DEPARTMENTS = ("fgw", "zrzy", "zjj", "water", "power", "gas")
UTILITIES = ("GJ-5-01", "GJ-5-02", "GJ-5-03")


@dataclass(frozen=True)
class DemoSummary:
    """What the demo wrote."""

    projects: int
    cases: int
    events: int  # the log position after the demo
    by_status: dict[str, int]  # final BLZT status label → cases
    overdue: int
    back_entries: int
    merges: int
    seconds: float


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int
    run: Callable[[], dict[str, Any]] = field(compare=False)


@dataclass
class _CaseRef:
    """Filled when the submission runs: later steps of the case refer to it."""

    id: UUID | None = None
    status: int | None = None

    def uuid(self) -> UUID:
        assert self.id is not None, "a case step ran before its submission"
        return self.id


@dataclass
class _Plan:
    # approve | pending | overdue | revoke | refuse | refuse_acceptance | not_accept
    # | withdraw_before | withdraw_after | stuck (left open, overdue at the end)
    kind: str
    pre_correction: bool = False
    correction: bool = False
    special: int | None = None  # index into SPECIAL
    opinion: bool = False


# The first cases scripted take these plans, so even a small demo shows every path.
FORCED = (
    _Plan("refuse", opinion=True),
    _Plan("withdraw_before"),
    _Plan("approve", correction=True),
    _Plan("approve", special=0, opinion=True),
    _Plan("refuse_acceptance"),
    _Plan("withdraw_after"),
    _Plan("overdue", pre_correction=True),
    _Plan("approve", special=1),
    _Plan("not_accept"),
    _Plan("pending"),
    _Plan("approve", special=2),
)


@dataclass
class _Project:
    index: int
    code: str
    name: str
    unit: str
    region: str
    flow_type: int
    government: bool
    owner_name: str
    owner_uscc: str
    applicant: Actor
    red_line: dict[str, Any]
    steps: list[_Step] = field(default_factory=list)


class _Actors:
    """Officials per city/county unit (scope = the unit), applicants per owner, one city system."""

    def __init__(self) -> None:
        self.clerks: dict[str, tuple[Actor, Actor]] = {}
        self.reviewers: dict[tuple[str, str], Actor] = {}
        self.approvers: dict[tuple[str, str], Actor] = {}
        for unit in UNITS:
            name = REFERENCE.regions[unit].name
            desk = f"{name}政务服务中心综合窗口"
            self.clerks[unit] = (
                Actor(f"clerk-{unit}-1", "window_clerk", f"{unit}-zwfw", unit, f"{desk}1号"),
                Actor(f"clerk-{unit}-2", "window_clerk", f"{unit}-zwfw", unit, f"{desk}2号"),
            )
            for dept in DEPARTMENTS:
                dname = CATALOG.departments[dept]
                self.reviewers[unit, dept] = Actor(
                    f"reviewer-{unit}-{dept}", "reviewer", f"{unit}-{dept}", unit, f"{name}{dname}审查员"
                )
                self.approvers[unit, dept] = Actor(
                    f"approver-{unit}-{dept}", "approver", f"{unit}-{dept}", unit, f"{name}{dname}审批负责人"
                )
        self.city_system = Actor(
            "integration-460100-gjxt", "integration", "460100-gjxt", "460100", "海口市工程建设项目审批系统"
        )
        self.supervisor = Actor(
            "supervisor-460000", "supervisor", "460000-yshj", "460000", "海南省营商环境建设厅督查员"
        )


class _Track:
    """Business-hour moments of one case or project, each strictly after the previous one."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.last: datetime | None = None

    @property
    def day(self) -> date:
        assert self.last is not None
        return self.last.date()

    def at(self, day: date) -> datetime:
        while not is_workday(day):
            day += timedelta(days=1)
        minutes = BUSINESS_MINUTES
        if self.last is not None and day <= self.last.date():
            day = self.last.date()
            floor = self.last.hour * 60 + self.last.minute + 5
            minutes = [m for m in BUSINESS_MINUTES if m >= floor][:120]
            if not minutes:  # no room left today: first thing on the next working day
                day, minutes = add_workdays(day, 1), BUSINESS_MINUTES[:60]
        m = self.rng.choice(minutes)
        self.last = datetime.combine(day, time(m // 60, m % 60, self.rng.randrange(60)), SHANGHAI)
        return self.last


@dataclass(frozen=True)
class _Outcome:
    """How a scripted case ends: approved on a day, closed otherwise on a day, or left open (both None)."""

    approved_on: date | None = None
    closed_on: date | None = None


Run = Callable[[], dict[str, Any]]


class _Planner:
    """Builds every project's script; nothing is written until the runner executes the steps."""

    def __init__(self, container: Container, seed: int) -> None:
        self.c = container
        self.rng = random.Random(seed)  # noqa: S311 — reproducible demo data, not secrets
        self.actors = _Actors()
        self.seq = 0
        self.requests = 0
        self.forced = list(FORCED)
        self.codes: set[str] = set()
        self.owners: dict[str, list[tuple[str, str]]] = {}
        self.documents = 0
        self.parcels = 0
        self.scripts: list[list[_Step]] = []
        self.cases: list[_CaseRef] = []
        self.generated = 0
        self.back_entries = 0
        self.merges = 0

    # --- building blocks -----------------------------------------------------------

    def add(self, p: _Project, at: datetime, run: Run) -> None:
        self.seq += 1
        p.steps.append(_Step(at, self.seq, run))

    def request_id(self) -> str:
        """Assigned when a step runs, so ids follow the log order."""
        self.requests += 1
        return f"demo-{self.requests:06d}"

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

    def pick_plan(self, item: Item) -> _Plan:
        if self.forced:
            return self.forced.pop(0)
        r, plan = self.rng.random(), _Plan("approve")
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
        p = _Project(
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
        start = day + timedelta(days=rng.randint(60, 180))
        fields = {
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
        self.add(p, _Track(rng).at(day), self.generate(generator, fields))
        if index in (5, count // 2 + 7):
            self.duplicate(p, day, fields)
        self.stages(p, day)

    def generate(self, actor: Actor, fields: dict[str, Any]) -> Run:
        def run() -> dict[str, Any]:
            self.generated += 1
            return self.c.projects.generate(actor, self.request_id(), None, **fields)

        return run

    def duplicate(self, p: _Project, day: date, fields: dict[str, Any]) -> None:
        """重复赋码: the same project coded again under a legacy code, found and merged later."""
        tr = _Track(self.rng)
        code = self.project_code(day, p.region, p.government, legacy=True)
        clerk = self.actors.clerks[p.unit][0]
        self.add(p, tr.at(add_workdays(day, self.rng.randint(1, 5))), self.generate(clerk, {**fields, "code": code}))
        supervisor = self.actors.supervisor

        def merge() -> dict[str, Any]:
            self.merges += 1
            reason = "同一项目重复赋码：项目名称、建设单位与用地红线一致，保留新代码"
            return self.c.projects.merge(
                supervisor, self.request_id(), None, code, canonical_code=p.code, reason=reason
            )

        self.add(p, tr.at(add_workdays(tr.day, self.rng.randint(10, 25))), merge)

    def stages(self, p: _Project, day: date) -> None:
        """The four stages in prerequisite order, with utilities alongside after planning."""
        rng, item = self.rng, CATALOG.item
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

    def land(self, p: _Project, day: date) -> date:
        """供地 and 宗地 by the natural-resources reviewer; returns the day the parcels are linked."""
        rng, tr = self.rng, _Track(self.rng)
        reviewer, projects = self.actors.reviewers[p.unit, "zrzy"], self.c.projects
        moment = tr.at(day)
        self.parcels += 1
        mode = "allocation" if p.government else "transfer"
        contract = None if p.government else f"{p.region}-2026-CR-{self.parcels:04d}"

        def supply() -> dict[str, Any]:
            return projects.supply_land(
                reviewer,
                self.request_id(),
                None,
                p.code,
                mode=mode,
                red_line=p.red_line,
                supplied_on=moment.date(),
                contract_number=contract,
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
        return lambda: self.c.projects.link_parcel(actor, self.request_id(), None, code, parcel_code=parcel)

    def unit_works(self, p: _Project, day: date) -> None:
        """单位工程, registered by the owner once the planning permit is out."""
        rng, tr = self.rng, _Track(self.rng)
        if p.flow_type in LINEAR_FLOWS:
            works: list[tuple[str, Decimal | None, int | None]] = [("主线工程", None, None)]
        else:
            works = [
                (f"{n}#楼", Decimal(rng.randint(3000, 30000)), rng.randint(3, 33)) for n in range(1, rng.randint(2, 4))
            ]
            works.append(("地下室", Decimal(rng.randint(2000, 15000)), 1))
        for name, area, storeys in works:
            self.add(p, tr.at(day), self.register(p, name, area, storeys))

    def register(self, p: _Project, name: str, area: Decimal | None, storeys: int | None) -> Run:
        return lambda: self.c.projects.register_unit_work(
            p.applicant, self.request_id(), None, p.code, name=name, floor_area_m2=area, storeys=storeys
        )

    def back_entry(self, p: _Project, item: Item, day: date) -> date:
        """补录: decided at the counter before the case was in the system, entered days later."""
        rng, tr = self.rng, _Track(self.rng)
        received = add_workdays(day, rng.randint(1, 2))
        decided_at = _Track(rng).at(add_workdays(received, rng.randint(2, 5)))
        clerk, ref = self.actors.clerks[p.unit][0], _CaseRef()
        self.documents += 1
        number = f"{UNITS[p.unit][0]}{item.department}字〔2026〕{self.documents:05d}号"
        reason = rng.choice(BACKENTRY_REASONS)

        def run() -> dict[str, Any]:
            r = self.c.cases.back_enter(
                clerk,
                self.request_id(),
                None,
                project_code=p.code,
                item_code=item.code,
                decision="approved",
                decided_at=decided_at,
                received_on=received,
                accepted_on=received,
                document_number=number,
                reason=reason,
            )
            ref.id, ref.status = UUID(r["id"]), r["status_code"]
            self.cases.append(ref)
            self.back_entries += 1
            return r

        self.add(p, tr.at(add_workdays(decided_at.date(), rng.randint(3, 12))), run)
        return tr.day

    # --- cases -----------------------------------------------------------------------

    def case(self, p: _Project, item: Item, day: date, joint: str | None = None) -> date | None:
        """A case and, for an item others depend on, one more attempt after a refusal or withdrawal.
        Returns the day the item was approved, None if it was not (in the demo's time)."""
        if day > END.date():
            return None
        outcome = self.script_case(p, item, day, self.pick_plan(item), joint)
        if outcome.closed_on is None or not (item.milestone or item.code in _PREREQUISITES):
            return outcome.approved_on
        again = add_workdays(outcome.closed_on, self.rng.randint(5, 20))
        retry = _Plan(self.rng.choice(("approve", "approve", "overdue")), correction=self.rng.random() < 0.3)
        return self.script_case(p, item, again, retry, joint).approved_on

    def script_case(self, p: _Project, item: Item, day: date, plan: _Plan, joint: str | None) -> _Outcome:
        rng, tr, ref = self.rng, _Track(self.rng), _CaseRef()
        city = item.stage == 5 and p.unit == "460100"  # Haikou's utilities come from the city system
        desk = self.actors.city_system if city else rng.choice(self.actors.clerks[p.unit])
        reviewer = self.actors.city_system if city else self.actors.reviewers[p.unit, item.department]
        approver = self.actors.city_system if city else self.actors.approvers[p.unit, item.department]
        online = city or rng.random() < 0.6
        submitter = desk if city or not online else p.applicant

        def act(actor: Actor, action: str, body: dict[str, Any] | None = None) -> Run:
            def run() -> dict[str, Any]:
                r = self.c.cases.act(actor, self.request_id(), None, ref.uuid(), action, body or {})
                ref.status = r["status_code"]
                return r

            return run

        def submit() -> dict[str, Any]:
            r = self.c.cases.submit(
                submitter,
                self.request_id(),
                None,
                project_code=p.code,
                item_code=item.code,
                situation_codes=[],
                materials=[
                    {"name": f"{item.name}申请表", "copies": 1},
                    {"name": "营业执照", "internally_shared": True},
                ],
                parallel_application_id=joint,
                acceptance_mode=4 if online else 1,
            )
            ref.id, ref.status = UUID(r["id"]), r["status_code"]
            self.cases.append(ref)
            return r

        def later(days: int) -> datetime:
            return tr.at(add_workdays(tr.day, days))

        self.add(p, tr.at(day), submit)
        if plan.pre_correction:
            self.add(
                p, later(0), act(desk, "request-correction", {"materials": ["授权委托书"], "note": "委托书未盖章"})
            )
            self.add(p, later(rng.randint(1, 4)), act(p.applicant, "complete-correction", {"note": "已补交"}))
        at_desk = later(rng.randint(0, 1))
        closing = _AT_DESK.get(plan.kind)
        if closing is not None:
            self.add(p, at_desk, act(p.applicant if closing[0] == "withdraw" else desk, *closing))
            return _Outcome(closed_on=tr.day)
        self.add(p, at_desk, act(desk, "accept"))
        limit = item.promised_limit_days
        slow = plan.kind in ("overdue", "stuck")
        budget = limit + rng.randint(2, 12) if slow else rng.randint(max(1, limit // 3), limit)
        step = rng.randint(0, min(1, budget))
        self.add(p, later(step), act(reviewer, "start-review"))
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
            return _Outcome()
        final = later(max(0, budget))
        if plan.kind in ("withdraw_after", "refuse"):
            closing = _IN_REVIEW[plan.kind]
            self.add(p, final, act(p.applicant if closing[0] == "withdraw" else approver, *closing))
            return _Outcome(closed_on=tr.day)
        self.documents += 1
        number = f"{UNITS[p.unit][0]}{item.department}字〔2026〕{self.documents:05d}号"
        if plan.kind == "pending":
            body = {"document_number": number, "pending_materials": ["消防设计文件（容缺后补）"]}
            self.add(p, final, act(approver, "approve-pending-materials", body))
        else:
            body = {"document_number": number, "document_title": item.name, "valid_until": date(2027, 12, 31)}
            self.add(p, final, act(approver, "approve", body))
        if plan.kind == "revoke":
            revoker = self.actors.approvers[p.unit, item.department]
            self.add(
                p, later(rng.randint(10, 30)), act(revoker, "revoke", {"reason": "申请材料存在虚假情形，依法撤销"})
            )
            return _Outcome(closed_on=tr.day)
        return _Outcome(approved_on=tr.day)


_PREREQUISITES = frozenset(p for item in CATALOG.items.values() for p in item.prerequisites)
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


def demo_clock() -> SimulatedClock:
    """The clock the demo runs on: before the first working morning of 2026-01-05."""
    return SimulatedClock(datetime.combine(START, time(8, 0), SHANGHAI).astimezone(UTC))


def load_demo(
    container: Container, clock: SimulatedClock, projects: int = 200, seed: int = 20261127, progress: bool = True
) -> DemoSummary:
    """演示数据 — write the demo year into an empty store through the application services."""
    if container.clock is not clock:
        raise ValueError("the container must run on the simulated clock passed in (bootstrap(settings, clock))")
    if container.app.max_position() > 0:
        raise Conflict("the store already holds events: the demo loads into an empty store only")
    began = timer.perf_counter()
    planner = _Planner(container, seed)
    for index in range(projects):
        planner.project(index, projects)
    steps = list(_until(heapq.merge(*(sorted(s) for s in planner.scripts)), END))
    if steps and clock.now() > steps[0].at:
        raise ValueError(f"the simulated clock must start before {steps[0].at.isoformat()} (see demo_clock())")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not progress) as bar:
        task = bar.add_task("演示数据 demo", total=len(steps))
        for step in steps:
            clock.set(step.at.astimezone(UTC))
            step.run()
            bar.advance(task)
    return _summary(container, planner, timer.perf_counter() - began)


def _until(steps: Iterator[_Step], end: datetime) -> Iterator[_Step]:
    for step in steps:
        if step.at > end:
            return
        yield step


def _summary(container: Container, planner: _Planner, seconds: float) -> DemoSummary:
    today = END.date()
    statuses: Counter[str] = Counter()
    overdue = 0
    for ref in planner.cases:
        assert ref.status is not None  # set by the submission
        statuses[CaseStatus(ref.status).label] += 1
        if container.cases.get(ref.uuid()).clock.overdue(today):
            overdue += 1
    return DemoSummary(
        projects=planner.generated,
        cases=len(planner.cases),
        events=container.app.max_position(),
        by_status=dict(sorted(statuses.items(), key=lambda kv: -kv[1])),
        overdue=overdue,
        back_entries=planner.back_entries,
        merges=planner.merges,
        seconds=round(seconds, 2),
    )

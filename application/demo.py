"""演示数据 — a deterministic, realistic year of approvals in Hainan, written through the services.

Every project gets a script of timed commands (generation, land supply, parcels, unit works and its
cases through the four stages, utility connections, back-entries, duplicate-code merges). The
scripts are built first, then merged by time and executed in that order with the simulated clock
set before each command, so recorded timestamps rise with log positions. Nothing is written by SQL.

As the first working morning opens (08:30) the administrator registers one seal (SM2) per city/county unit
and department whose approvals issue an electronic licence (zrzy, zjj), held by `<unit>-<dept>` and
usable by that department's approver and by `system:licence-issuer`, so the automation
(application/automation.py, run by `gongjian serve`) issues those licences after the demo. Seal ids
and keys are random (like case ids); the events and their timestamps are not.

流程: as the first morning opens, before the seals, the process catalogue's seed (version 1.0 of
the province's flow of each type, `gongjian catalogue seed`) is recorded; on 2026-05-11 the
administrator publishes Haikou's own flow of type 1 (`GJ-LC-01-460100`, version 1.1: the seed
with the 立项用地规划许可 stage limited to 12 working days instead of 15). Later cases of Haikou's type-1
projects are pinned to it (and their stage 1 judged by it), earlier ones keep the province's 1.0.

The supervision side rides on the same timeline, drawn from a second random stream (so the
approvals themselves are the same as without it):

- 好差评: about 80 % of the decided or closed cases (not Haikou's utilities, which the city system
  handles) are rated by their applicant 1–6 working days after the decision: mostly 4–5, some 3,
  a few 1–2 (likelier after a refusal or a late decision). Every bad review is rectified by the
  department's approver (most within the 15 working days, one in seven late) and followed up
  by the provincial supervisor; one follow-up in ten finds the applicant unsatisfied, which
  reopens the rectification, rectified and followed up again (late and unsatisfied go by the
  order the bad reviews are given, not by chance, so a small demo shows both).
- 体验员反馈: six reports by the province's experience officer (items, windows, one late case).
- 数据共享: about three quarters of the approved construction permits (GJ-3-03) are reported by the
  housing department's industry system and of the completion filings (GJ-4-03) by the licence
  library, 1–8 working days after approval, with the document number of the approval and the
  numbers of the upstream approvals of the same project (YDGHXKZBH ← GJ-1-03, GCGHXKZBH ← GJ-2-01,
  SCHGSBH ← GJ-3-01; SGXKZBH ← GJ-3-03).
- Planted anomalies, one each, reported before 2026-11-01 (each needs a project far enough in its
  stages; a demo too small to have one leaves it out):
  W1 the licence library holds a fire-design review certificate (GJ-3-02) of a project with no
  GJ-3-02 case — issued outside the system (体外循环);
  W4 the industry system reports a construction permit (without a provincial item code) dated
  three working days before the drawing-review approval it cites (先建后审);
  W5 one construction-permit report cites a 2025 planning permit number that exists nowhere
  (instead of the project's real GJ-2-01 number);
  W9 + W10 Haikou's city system (HKGJXT) sends a status row (受理) of a case unknown here, for a
  project code never generated (W9.project_not_generated and W10.external_case);
  W10 the development-and-reform reviewer records an opinion on a drawing review (GJ-3-01), a
  department outside that item's flow (隐形审批).
- From 2026-11-02 the offline_warnings read model is caught up (inquiries need the warnings), then:
  the supervisor acknowledges the W10 opinion warning; the accountability officer opens four
  inquiries — W1 (explained, violation confirmed, sanctioned, closed), the first back-entry's W2
  (explained, justified, closed), the Haikou W9 + W10 (explained, false alarm, closed) and W5
  (explanation requested, deadline after the demo's end: still open). The W4 warning is left open.
  Warning ids are computed with `warning_id` from the same keys the rules use.
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
from application.demo_figures import count_overdue
from application.policy import LICENCE_ISSUER, Actor, department_org
from domain.approvals.status import CaseStatus
from domain.catalog import CATALOG, Item
from domain.catalog.seed import seed_definition
from domain.exchange import external_record_id
from domain.shared.codes import USCC_ALPHABET, uscc_check_char
from domain.shared.errors import Conflict
from domain.shared.events import SHANGHAI
from domain.shared.reference import REFERENCE
from domain.shared.workdays import add_workdays, is_workday
from domain.supervision.rating import DIMENSIONS
from projections.offline_warnings import warning_id

START = date(2026, 1, 5)
END = datetime(2026, 11, 20, 17, 30, tzinfo=SHANGHAI)
LAST_GENERATION = date(2026, 8, 28)
# 流程: Haikou's own version of flow type 1 (project 0 is always one), published part-way through the year
HAIKOU_FLOW = ("460100", 1, "1.1", datetime(2026, 5, 11, 9, 0, tzinfo=SHANGHAI))
HAIKOU_STAGE_LIMITS = {1: 12}  # the seed's 立项用地规划许可 stage has 15
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
# departments whose approvals issue an electronic licence: each unit's gets a seal the system may use
LICENSING = tuple(sorted({i.department for i in CATALOG.items.values() if i.licence_type is not None}))
SEAL_VALIDITY = (datetime(2026, 1, 1, tzinfo=SHANGHAI), datetime(2028, 12, 31, 23, 59, 59, tzinfo=SHANGHAI))
SUPERVISION = date(2026, 11, 2)  # inquiries and dispositions from here on; planted anomalies before
REPORTED = ("GJ-3-03", "GJ-4-03")  # certificates other systems report back
CITED = {"YDGHXKZBH": "GJ-1-03", "GCGHXKZBH": "GJ-2-01", "SCHGSBH": "GJ-3-01", "SGXKZBH": "GJ-3-03"}
# level weights (5, 4, 3, 2, 1): after an approval, after a late decision, after a refusal or closure
LEVEL_WEIGHTS = {"good": (70, 24, 5, 0.7, 0.3), "late": (40, 30, 18, 8, 4), "closed": (35, 30, 20, 10, 5)}
COMMENTS = {
    5: ("办理高效，服务热情", "一次办好，非常满意", "网上申报很方便"),
    4: ("总体满意，材料要求可以更清楚", "办理较快"),
    3: ("等待时间较长", "需多次咨询才弄清材料要求"),
    2: ("超过承诺时限才办结，未主动告知进度", "窗口答复前后不一致"),
    1: ("多次补正仍未说明原因，体验很差", "电话一直无人接听，办理拖延"),
}
RECTIFICATIONS = (
    "约谈经办人员，完善一次性告知清单并向申请人致歉",
    "优化审查流程，增设办理进度短信提醒",
    "对窗口人员开展服务规范培训，明确答复口径",
)


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
    ratings: int = 0
    bad_reviews: int = 0
    external_records: int = 0
    feedback: int = 0
    inquiries: int = 0
    seals: int = 0


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
class _Held:
    """The id of a rating or an inquiry, filled when the command that creates it runs."""

    id: UUID | None = None

    def uuid(self) -> UUID:
        assert self.id is not None, "a step ran before the one that creates its subject"
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
    approved: dict[str, tuple[str, date]] = field(default_factory=dict)  # item → (document number, day)
    first_case: dict[str, datetime] = field(default_factory=dict)  # item → first submission


@dataclass
class _Report:
    """A certificate another system reports back for an approved case (scheduled after planning)."""

    p: _Project
    item: str
    number: str
    issued_on: date
    at: datetime
    upstream: dict[str, str]


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
        self.experience_officer = Actor(
            "experience-officer-460000", "supervisor", "460000-yshj", "460000", "海南省营商环境体验员"
        )
        self.officer = Actor(
            "accountability-460000", "accountability_officer", "460000-jjjc", "460000", "省纪委监委派驻纪检监察组"
        )
        self.admin = Actor("admin-460000", "admin", "460000-yshj", "460000", "海南省工程建设项目审批管理系统管理员")
        self.licence_library = Actor(
            "integration-460000-dzzz", "integration", "460000-dzzz", "460000", "海南省电子证照库"
        )
        self.industry = Actor(
            "integration-460000-zjt", "integration", "460000-zjt", "460000", "海南省住房和城乡建设厅施工许可系统"
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
        # the supervision side draws from its own stream, so the approvals stay as they were
        self.srng = random.Random(seed + 1)  # noqa: S311 — reproducible demo data, not secrets
        self.oversight: list[_Step] = []  # steps about no single project (feedback, inquiries)
        self.scripts.append(self.oversight)
        self.reports: list[_Report] = []
        self.reviews: list[tuple[_Project, _CaseRef, datetime]] = []  # GJ-3-01 cases in review
        self.back_refs: list[tuple[_Project, _CaseRef, Item, datetime]] = []
        self.count: Counter[str] = Counter()
        self.projects: list[_Project] = []
        self.late_cases: list[tuple[_Project, _CaseRef, datetime]] = []
        self.bad: list[tuple[_Track, _Project, Item, _Held]] = []  # bad reviews, each with its track

    # --- building blocks -----------------------------------------------------------

    def add(self, p: _Project | list[_Step], at: datetime, run: Run) -> None:
        self.seq += 1
        (p.steps if isinstance(p, _Project) else p).append(_Step(at, self.seq, run))

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
                "name": f"{REFERENCE.regions[unit].name}{CATALOG.departments[dept]}电子证照专用章",
                "purpose": "电子证照签发",
                "algorithm": "sm2-sm3",
                "valid_from": valid_from,
                "valid_until": valid_until,
                "signers": [LICENCE_ISSUER.actor_id, self.actors.approvers[unit, dept].actor_id],
            }
            self.add(self.oversight, first + timedelta(seconds=n), self.seal(fields))

    def catalogue(self) -> None:
        """流程: the seed recorded as the first morning opens (its steps come before the seals'), and
        Haikou's flow version published on its day; no random draw, so the approvals stay as they were."""
        first = datetime.combine(START, time(8, 30), SHANGHAI)
        self.add(self.oversight, first, lambda: {"created": self.c.catalogue.seed(self.request_id())})
        region, flow_type, version, at = HAIKOU_FLOW
        definition = seed_definition(flow_type)
        definition["version"] = version
        for stage in definition["stages"]:
            stage["limit_days"] = HAIKOU_STAGE_LIMITS.get(stage["stage"], stage["limit_days"])

        def publish() -> dict[str, Any]:
            return self.c.catalogue.publish(
                self.actors.admin,
                self.request_id(),
                None,
                region_code=region,
                flow_type=flow_type,
                definition=definition,
            )

        self.add(self.oversight, at, publish)

    def seal(self, fields: dict[str, Any]) -> Run:
        def run() -> dict[str, Any]:
            self.count["seals"] += 1
            return self.c.seals.register(self.actors.admin, self.request_id(), None, fields)

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
        self.back_refs.append((p, ref, item, tr.last or decided_at))
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
            return _Outcome(closed_on=tr.day)
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
            return _Outcome()
        final = later(max(0, budget))
        if plan.kind in ("withdraw_after", "refuse"):
            closing = _IN_REVIEW[plan.kind]
            self.add(p, final, act(p.applicant if closing[0] == "withdraw" else approver, *closing))
            if not city:
                self.rate(p, ref, item, final, "closed", online)
            return _Outcome(closed_on=tr.day)
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
            return _Outcome(closed_on=tr.day)
        p.approved[item.code] = (number, final.date())
        if item.code in REPORTED:
            self.report_back(p, item, number, final)
        return _Outcome(approved_on=tr.day)

    # --- supervision: ratings, reports back, planted anomalies, inquiries ---------------------

    def after(self, moment: datetime) -> _Track:
        """A track on the supervision stream that starts after `moment`."""
        tr = _Track(self.srng)
        tr.last = moment
        return tr

    def rate(self, p: _Project, ref: _CaseRef, item: Item, decided: datetime, mood: str, online: bool) -> None:
        """好差评 by the applicant a few days after the decision; a bad review is rectified and followed up."""
        srng = self.srng
        if srng.random() >= 0.8:
            return
        level = srng.choices((5, 4, 3, 2, 1), LEVEL_WEIGHTS[mood])[0]
        dimensions = {d: min(5, max(1, level + srng.choice((-1, 0, 0, 1)))) for d in DIMENSIONS}
        channel = srng.choice(("pc", "mobile")) if online else srng.choice(("window_device", "window_device", "sms"))
        comment = srng.choice(COMMENTS[level])
        tr, rating = self.after(decided), _Held()

        def run() -> dict[str, Any]:
            r = self.c.ratings.rate(
                p.applicant,
                self.request_id(),
                None,
                case_id=ref.uuid(),
                level=level,
                evaluation_channel=channel,
                dimensions=dimensions,
                comment=comment,
            )
            rating.id = UUID(r["id"])
            self.count["ratings"] += 1
            self.count["bad_reviews"] += r["bad_review"]
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

    def rectify(self, approver: Actor, rating: _Held, measures: str) -> Run:
        return lambda: self.c.ratings.record_rectification(
            approver, self.request_id(), None, rating.uuid(), measures=measures, rectified_on=None
        )

    def follow_up(self, rating: _Held, result: str) -> Run:
        note = "申请人表示问题已解决" if result == "satisfied" else "申请人认为整改未到位，要求继续整改"
        return lambda: self.c.ratings.record_follow_up(
            self.actors.supervisor,
            self.request_id(),
            None,
            rating.uuid(),
            result=result,
            note=note,
            followed_up_on=None,
        )

    def report_back(self, p: _Project, item: Item, number: str, approved: datetime) -> None:
        """Most approved construction permits and completion filings come back from other systems."""
        srng = self.srng
        if srng.random() >= 0.75:
            return
        if item.code == "GJ-3-03":
            upstream = {f: p.approved[i][0] for f, i in CITED.items() if i != "GJ-3-03" and i in p.approved}
        else:
            upstream = {"SGXKZBH": p.approved["GJ-3-03"][0]}
        at = self.after(approved).at(add_workdays(approved.date(), srng.randint(1, 8)))
        self.reports.append(_Report(p, item.code, number, approved.date(), at, upstream))

    def external(self, actor: Actor, fields: dict[str, Any]) -> Run:
        def run() -> dict[str, Any]:
            self.count["external_records"] += 1
            return self.c.exchange.report(actor, self.request_id(), None, fields)

        return run

    def certificate(self, r: _Report) -> tuple[Actor, dict[str, Any]]:
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

    def plant_certificate_without_case(self, cutoff: date, used: set[str]) -> tuple[_Project, str] | None:
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
        self.add(p, _Track(self.srng).at(day), self.external(self.actors.licence_library, fields))
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
        self.add(p, _Track(self.srng).at(day), self.external(self.actors.industry, fields))

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
        self.add(self.oversight, _Track(srng).at(day), self.external(self.actors.city_system, fields))
        return str(external_record_id(fields["source"], fields["source_id"])), "HKGJXT", case_ref

    def plant_hidden_opinion(self, used: set[str]) -> tuple[_CaseRef, str] | None:
        """W10: the development-and-reform reviewer gives an opinion inside a drawing review."""
        found = [
            (p, ref, at) for p, ref, at in self.reviews if p.code not in used and at.date() < self.cut(SUPERVISION)
        ]
        if not found:
            return None
        p, ref, review = self.srng.choice(found)
        used.add(p.code)
        reviewer = self.actors.reviewers[p.unit, "fgw"]
        body = {"department": "fgw", "opinion": "项目已列入年度重点项目，同意通过施工图审查", "result": "agree"}
        # within the minute of the review's start; the case's next step is at least five minutes later
        at = review.replace(second=59) if review.second < 59 else review
        self.add(p, at, lambda: self.c.cases.act(reviewer, self.request_id(), None, ref.uuid(), "record-opinion", body))
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
        tr = _Track(srng)
        for day, body in reports:
            self.add(self.oversight, tr.at(day), self.feedback(officer, body))
        late = [(p, ref, at) for p, ref, at in self.late_cases if at.date() < SUPERVISION]
        if late:
            p, ref, decided = srng.choice(late)
            body = {"subject_kind": "case", "category": "overdue", "description": "办件超过承诺时限才办结，未告知原因"}
            at = self.after(decided).at(add_workdays(decided.date(), srng.randint(1, 3)))
            self.add(p, at, self.feedback(officer, body, ref))

    def feedback(self, officer: Actor, body: dict[str, Any], ref: _CaseRef | None = None) -> Run:
        def run() -> dict[str, Any]:
            self.count["feedback"] += 1
            return self.c.feedback.submit(
                officer,
                self.request_id(),
                None,
                subject_kind=body["subject_kind"],
                case_id=ref.uuid() if ref else None,
                item_code=body.get("item_code"),
                window=body.get("window"),
                region_code=body.get("region_code"),
                reporter_kind=None,
                category=body["category"],
                description=body["description"],
            )

        return run

    def inquiries(
        self,
        w1: tuple[_Project, str] | None,
        w5: _Report | None,
        haikou: tuple[str, str, str],
        hidden: tuple[_CaseRef, str] | None,
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
        tr = _Track(self.srng)
        for days, run in sorted(plan, key=lambda dr: dr[0]):  # stable: a day's commands keep their order
            self.add(self.oversight, tr.at(add_workdays(day, days) if days else day), run)

    def acknowledge(self, wid: Callable[[], str], note: str) -> Run:
        def run() -> dict[str, Any]:
            self.c.engine.catch_up(["offline_warnings"])  # the service acts on warnings the read model holds
            return self.c.supervision.acknowledge_warning(self.actors.supervisor, self.request_id(), None, wid(), note)

        return run

    def open_inquiry(
        self, at: Callable[[int, Run], None], ids: list[Callable[[], str]], subject: str, department: str
    ) -> _Held:
        held = _Held()

        def run() -> dict[str, Any]:
            self.c.engine.catch_up(["offline_warnings"])
            r = self.c.supervision.open_inquiry(
                self.actors.officer,
                self.request_id(),
                None,
                warning_ids=[wid() for wid in ids],
                subject=subject,
                department=department,
                reason="预警线索核查",
            )
            held.id = UUID(r["id"])
            self.count["inquiries"] += 1
            return r

        at(1, run)
        return held

    def explain(
        self, at: Callable[[int, Run], None], held: _Held, dept: str, asked: dict[str, Any], official: Actor, text: str
    ) -> None:
        at(2, self.inquiry_act(self.actors.officer, held, "request-explanation", {**asked, "department": dept}))
        at(6, self.inquiry_act(official, held, "record-explanation", {"department": dept, "explanation": text}))

    def inquiry_act(self, actor: Actor, held: _Held, action: str, body: dict[str, Any]) -> Run:
        return lambda: self.c.supervision.act(actor, self.request_id(), None, held.uuid(), action, body)


def _fixed(wid: str) -> Callable[[], str]:
    return lambda: wid


def _case_warning(rule: str, ref: _CaseRef, *keys: str) -> Callable[[], str]:
    """The id of a warning about a case whose id is known only once its submission ran."""
    return lambda: warning_id(rule, str(ref.uuid()), *keys)


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
    planner.catalogue()
    planner.seals()
    for index in range(projects):
        planner.project(index, projects)
    planner.supervise()
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
    for ref in planner.cases:
        assert ref.status is not None  # set by the submission
        statuses[CaseStatus(ref.status).label] += 1
    # 超期 as `statistics` and the monthly report count it (domain/approvals/overdue.py)
    overdue = count_overdue(container, (ref.uuid() for ref in planner.cases), today, START.year)
    return DemoSummary(
        projects=planner.generated,
        cases=len(planner.cases),
        events=container.app.max_position(),
        by_status=dict(sorted(statuses.items(), key=lambda kv: -kv[1])),
        overdue=overdue,
        back_entries=planner.back_entries,
        merges=planner.merges,
        seconds=round(seconds, 2),
        ratings=planner.count["ratings"],
        bad_reviews=planner.count["bad_reviews"],
        external_records=planner.count["external_records"],
        feedback=planner.count["feedback"],
        inquiries=planner.count["inquiries"],
        seals=planner.count["seals"],
    )

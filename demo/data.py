"""The demo's fixed choices: dates, regions, names, shares, and the small records the planner keeps."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from uuid import UUID

from application.policy import Actor
from domain.catalog import SEED_CATALOG
from domain.shared.events import SHANGHAI
from domain.shared.reference import REFERENCE
from domain.shared.workdays import add_workdays, is_workday

# the province's catalogue (事项库) the demo imports first: a CSV directory of the format in docs/catalogue.md
HAINAN_CATALOGUE = Path(str(resources.files("domain.catalog").joinpath("data", "hainan")))
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
# departments whose approvals issue an electronic licence: each unit's gets a seal the system may use.
# The demo plans the seed edition's 13 items (which the province's file it imports keeps unchanged), so
# what it plans never depends on the edition this process happens to hold.
LICENSING = tuple(sorted({i.department for i in SEED_CATALOG.items.values() if i.licence_type is not None}))
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
class Step:
    at: datetime
    seq: int
    run: Callable[[], object] = field(compare=False)


@dataclass
class CaseRef:
    """Filled when the submission runs: later steps of the case refer to it."""

    id: UUID | None = None
    status: int | None = None

    def uuid(self) -> UUID:
        assert self.id is not None, "a case step ran before its submission"
        return self.id


@dataclass
class Held:
    """The id of a rating or an inquiry, filled when the command that creates it runs."""

    id: UUID | None = None

    def uuid(self) -> UUID:
        assert self.id is not None, "a step ran before the one that creates its subject"
        return self.id


@dataclass
class Plan:
    # approve | pending | overdue | revoke | refuse | refuse_acceptance | not_accept
    # | withdraw_before | withdraw_after | stuck (left open, overdue at the end)
    kind: str
    pre_correction: bool = False
    correction: bool = False
    special: int | None = None  # index into SPECIAL
    opinion: bool = False


# The first cases scripted take these plans, so even a small demo shows every path.
FORCED = (
    Plan("refuse", opinion=True),
    Plan("withdraw_before"),
    Plan("approve", correction=True),
    Plan("approve", special=0, opinion=True),
    Plan("refuse_acceptance"),
    Plan("withdraw_after"),
    Plan("overdue", pre_correction=True),
    Plan("approve", special=1),
    Plan("not_accept"),
    Plan("pending"),
    Plan("approve", special=2),
)


@dataclass
class Project:
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
    steps: list[Step] = field(default_factory=list)
    approved: dict[str, tuple[str, date]] = field(default_factory=dict)  # item → (document number, day)
    first_case: dict[str, datetime] = field(default_factory=dict)  # item → first submission


@dataclass
class Report:
    """A certificate another system reports back for an approved case (scheduled after planning)."""

    p: Project
    item: str
    number: str
    issued_on: date
    at: datetime
    upstream: dict[str, str]


class Actors:
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
                dname = SEED_CATALOG.departments[dept]
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


class Track:
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
class Outcome:
    """How a scripted case ends: approved on a day, closed otherwise on a day, or left open (both None)."""

    approved_on: date | None = None
    closed_on: date | None = None


Run = Callable[[], object]  # a command; what it answers is not used

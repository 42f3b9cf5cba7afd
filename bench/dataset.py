"""A deterministic Hainan-scale dataset for the benchmarks: projects in every city/county unit, their
cases through the four stages (receipt, acceptance, corrections, review, opinions, special
procedures, approval, refusal and resubmission, withdrawal), offline back-entries, unit works and
the applicants' ratings.

Every event is made by the domain's aggregates (`Project.generate`, `Case.receive`, `case.accept`,
`Rating.rate`, `Seal.register`, `License.issue`, …) with the same metadata the services give, and
stored through the application's recorder (`app.save_all`), one transaction per project and stage.
Each unit's licensing departments register a seal before the first project (as in the demo); each
approval of an item that issues a licence gets its electronic licence, issued by the approving
official and signed with the department's seal as `LicenceService.issue` signs it (the domain
verifies the signature before recording it). Keys are drawn fresh per run: Ed25519 by default
(signatures of the same size as SM2's), `GONGJIAN_BENCH_SEAL_ALGORITHM=sm2-sm3` for the national
algorithm (pure Python: about 20 ms more per licence); the private keys stay in memory, or go to
`keys` when given. What it skips is the services' per-command work (loading aggregates back,
idempotency receipts, one transaction per command): that is what makes a million events take
minutes rather than hours. Same seed, same events (ids included; only the recording order of the
store is ours) except the key material and so the signatures' bytes. Seals and licences draw from
a second random stream, so the other events are those of the generator without them.

Archive packages are a separate step (`archive`, GONGJIAN_BENCH_ARCHIVES=1): a package binds the
case's stored events to a signed checkpoint of the ledger read model (inclusion proofs against its
root, application/archives.py), so it can only be built once the ledger has taken in the log. The
step runs the ledger projection and then the process manager (application/automation.py) as
`gongjian serve` would: every concluded case a checkpoint covers gets its package through
`ArchiveService.generate`, and every licence is found already issued. It costs about 0.1 s per
package (5,009 events: 613 packages in 70 s after 18 s of generating), hence not by default.

`python -m bench.dataset` fills GONGJIAN_BENCH_DATABASE_URL with GONGJIAN_BENCH_EVENTS events.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from application.policy import LICENCE_ISSUER, department_org
from demo import LICENSING, SEAL_VALIDITY, UNITS
from domain.approvals import Case, Decision
from domain.catalog import CATALOG, Item
from domain.licences import License, prepare
from domain.projects import Project
from domain.shared.codes import USCC_ALPHABET, uscc_check_char
from domain.shared.events import SHANGHAI, Channel, Meta
from domain.signatures import Seal
from domain.signatures.crypto import Algorithm, generate_keypair, sign
from domain.supervision.rating import DIMENSIONS, Rating
from infrastructure.log import GongjianApplication

if TYPE_CHECKING:
    from application.automation import Round
    from application.bootstrap import Container
    from infrastructure.keystore import KeyStore

SEED = 20261127
START = datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)
STAGES = (1, 2, 3, 4)
FLOWS = (1, 3, 4, 5)  # building flows (the linear ones need red lines)
CHANNELS = ("pc", "mobile", "window_device", "sms", "hotline")
ADMIN_ORG = "460000-yshj"


@dataclass(frozen=True)
class Who:
    actor_id: str
    role: str
    org: str

    def meta(self, now: datetime, request_id: str, channel: Channel = Channel.WINDOW, **kw: Any) -> Meta:
        return Meta(self.actor_id, self.role, self.org, channel, request_id, now, **kw)


class Generator:
    """Writes projects until the log holds at least `events` events more than when it started."""

    def __init__(
        self,
        app: GongjianApplication,
        seed: int = SEED,
        *,
        seal_algorithm: Algorithm | str = Algorithm.ED25519,
        keys: KeyStore | None = None,
    ) -> None:
        self.app = app
        self.rng = random.Random(seed)
        # seals and licences draw here, so the main stream (and the events it makes) stays as it was
        self.lrng = random.Random(f"{seed}:licences")
        self.seal_algorithm = Algorithm(seal_algorithm)
        self.keys = keys
        self.seals: dict[str, tuple[Seal, bytes]] = {}  # holder org → seal, private key
        self.licences = 0
        self.building_area = Decimal(0)  # of the current project: its unit works' floor area
        self.land_area = Decimal(0)  # of the current project (the licences' 用地面积)
        self.units = sorted(UNITS)
        self.requests = 0
        self.projects = 0
        self.saved = 0  # events stored by this generator
        self.seconds = 0.0  # time spent in app.save_all (the "bulk import")

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def request(self) -> str:
        self.requests += 1
        return f"bench-{self.requests:09d}"

    def run(self, events: int, progress: Callable[[int], None] | None = None) -> int:
        if not self.seals:
            self.register_seals()
        while self.saved < events:
            self.project(self.projects)
            self.projects += 1
            if progress is not None and self.projects % 200 == 0:
                progress(self.saved)
        return self.saved

    def save(self, *aggregates: Any) -> None:
        count = sum(len(a.pending_events) for a in aggregates)
        started = time.perf_counter()
        self.app.save_all(*aggregates)
        self.seconds += time.perf_counter() - started
        self.saved += count

    # --- seals ---------------------------------------------------------------------------------

    def register_seals(self) -> None:
        """印章: as in the demo, one seal per unit and licensing department, registered by the
        administrator as the first morning opens, usable by the department's approver and by the
        automatic licence issuer."""
        valid_from, valid_until = SEAL_VALIDITY
        admin = Who("admin-460000", "admin", ADMIN_ORG)
        first = START.replace(hour=8, minute=30)
        seals = []
        for n, (unit, dept) in enumerate((u, d) for u in self.units for d in LICENSING):
            org = department_org(unit, dept)
            pair = generate_keypair(self.seal_algorithm)
            seal = Seal.register(
                admin.meta(first + timedelta(seconds=n), f"bench-seal-{n + 1:04d}"),
                holder_org=org,
                name=f"{org}电子证照专用章",
                purpose="电子证照签发",
                algorithm=self.seal_algorithm.value,
                public_key=pair.public_key,
                valid_from=valid_from,
                valid_until=valid_until,
                signers=[LICENCE_ISSUER.actor_id, f"approver-{unit}-{dept}"],
                seal_id=_uuid(self.lrng),
            )
            if self.keys is not None:
                self.keys.put(str(seal.id), pair.private_key)
            self.seals[org] = (seal, pair.private_key)
            seals.append(seal)
        self.save(*seals)

    # --- one project ---------------------------------------------------------------------------

    def project(self, index: int) -> None:
        rng = self.rng
        unit = self.units[index % len(self.units)]
        now = START + timedelta(minutes=7 * index + rng.randrange(60))
        owner = _uscc(rng, unit)
        clerk = Who(f"clerk-{unit}-{1 + index % 2}", "window_clerk", f"{unit}-zwfw")
        applicant = Who(f"applicant-{owner}", "applicant", owner)
        serial = index + 1
        project = Project.generate(
            applicant.meta(now, self.request(), Channel.ONLINE),
            code=f"{now:%y%m}-{unit}-04-01-{serial % 10**6:06d}",
            name=f"基准项目{serial}号",
            owner_name=f"基准建设公司{serial % 997}",
            owner_uscc=owner,
            region_code=unit,
            flow_type=rng.choice(FLOWS),
            investment_type="enterprise",
            category="房屋建筑",
            total_investment=Decimal(rng.randrange(500, 500_000)),
            planned_start=now.date(),
            planned_end=now.date() + timedelta(days=730),
            red_line=None,
        )
        self.building_area = Decimal(0)
        for n in range(rng.randrange(1, 4)):
            now += timedelta(minutes=rng.randrange(5, 90))
            area = Decimal(rng.randrange(800, 40_000))
            self.building_area += area
            project.register_unit_work(
                applicant.meta(now, self.request(), Channel.ONLINE),
                name=f"{n + 1}号楼",
                floor_area_m2=area,
                storeys=rng.randrange(2, 33),
            )
        self.land_area = Decimal(self.lrng.randrange(2_000, 200_000))
        self.save(project)
        for stage in STAGES:
            if stage > 1 and rng.random() < 0.08:
                return  # some projects stop before the next stage
            cases: list[Case] = []
            ratings: list[Rating] = []
            licences: list[License] = []
            for item in CATALOG.by_stage(stage):
                if project.missing_prerequisites(item.prerequisites):
                    continue
                now += timedelta(days=rng.randrange(1, 6), minutes=rng.randrange(600))
                if rng.random() < 0.02:
                    cases.append(self.back_entry(project, item, now))
                    continue
                now = self.case(project, item, unit, clerk, applicant, now, cases, ratings, licences)
            self.save(project, *cases, *ratings, *licences)

    def case(
        self,
        project: Project,
        item: Item,
        unit: str,
        clerk: Who,
        applicant: Who,
        now: datetime,
        cases: list[Case],
        ratings: list[Rating],
        licences: list[License],
    ) -> datetime:
        """One application, resubmitted after a refusal; returns the time it ended."""
        rng = self.rng
        reviewer = Who(f"reviewer-{unit}-{item.department}", "reviewer", f"{unit}-{item.department}")
        approver = Who(f"approver-{unit}-{item.department}", "approver", f"{unit}-{item.department}")
        for _attempt in range(3):
            case = Case.receive(
                clerk.meta(now, self.request()),
                case_id=self.uuid(),
                project_id=project.id,
                project_code=project.code,
                region_code=project.region_code,
                applicant_org=project.owner_uscc,
                item=item,
                situation_codes=[],
                materials=[],
                parallel_application_id=None,
                acceptance_mode=1,
            )
            cases.append(case)
            now += timedelta(minutes=rng.randrange(20, 240))
            if rng.random() < 0.03:
                case.not_accept(clerk.meta(now, self.request()), "材料不属于本事项")
                now += timedelta(days=1)
                continue
            case.accept(clerk.meta(now, self.request()), item)
            if rng.random() < 0.15:
                now += timedelta(days=rng.randrange(1, 3))
                case.request_correction(reviewer.meta(now, self.request()), ["补充图纸"], "一次性告知")
                now += timedelta(days=rng.randrange(1, 5))
                case.complete_correction(applicant.meta(now, self.request(), Channel.ONLINE), "已补正")
            now += timedelta(hours=rng.randrange(2, 30))
            case.start_review(reviewer.meta(now, self.request()))
            for _ in range(rng.randrange(1, 3)):
                now += timedelta(hours=rng.randrange(1, 20))
                case.record_opinion(reviewer.meta(now, self.request()), item.department, "同意", "agree")
            if rng.random() < 0.03:
                now += timedelta(hours=2)
                case.start_special_procedure(approver.meta(now, self.request()), "expert_review", "专家评审", 10, "")
                now += timedelta(days=rng.randrange(3, 16))
                case.end_special_procedure(approver.meta(now, self.request()), "通过")
            now += timedelta(days=rng.randrange(1, 8))
            roll = rng.random()
            if roll < 0.04:
                case.withdraw(applicant.meta(now, self.request(), Channel.ONLINE), "项目调整")
                return now
            if roll < 0.09:
                case.refuse(approver.meta(now, self.request()), "不符合规划条件")
                self.rate(case, applicant, now, ratings, bad=True)
                now += timedelta(days=rng.randrange(2, 10))
                continue
            meta = approver.meta(now, self.request())
            number = f"{item.code}-{project.code}-{case.version}"
            case.approve(meta, number, item.name, None)
            project.record_item_approved(meta, case_id=case.id, item_code=item.code)
            if item.licence_type is not None:
                licences.append(self.licence(project, case, item, number, approver, now))
            if rng.random() < 0.6:
                self.rate(case, applicant, now, ratings, bad=False)
            return now
        return now

    def licence(
        self, project: Project, case: Case, item: Item, number: str, approver: Who, approved: datetime
    ) -> License:
        """证照签发 by the approving official, as `LicenceService.issue` does it: the content
        checked by `prepare`, its payload signed with the seal's private key, the signature
        verified again by `License.issue`. The topic fields a person fills in come from `lrng`."""
        assert item.licence_type is not None
        seal, private_key = self.seals[department_org(case.region_code, item.department)]
        now = approved + timedelta(minutes=self.lrng.randrange(10, 240))
        content = prepare(
            number=number,
            licence_type=item.licence_type,
            holder_name=project.owner_name,
            holder_uscc=project.owner_uscc,
            project_code=project.code,
            item_code=item.code,
            region_code=case.region_code,
            valid_from=approved.date(),
            valid_until=None,
            topic=self.topic(project, item.licence_type, number, approved),
            case_id=str(case.id),
        )
        payload = License.payload(content, str(seal.id), approver.actor_id, now)
        signature = sign(seal.algorithm, private_key, payload)
        self.licences += 1
        return License.issue(
            approver.meta(now, f"bench-licence-{case.id}"), content, seal, approver.actor_id, signature
        )

    def topic(self, project: Project, licence_type: str, number: str, approved: datetime) -> dict[str, Any]:
        """The required topic fields of each type (domain/licences/licence.py, LICENCE_TYPES)."""
        topic: dict[str, Any] = {"project_name": project.name, "document_number": number}
        if licence_type in ("site_selection_opinion", "construction_land_planning_permit"):
            topic["land_area"] = str(self.land_area)
        if licence_type == "construction_land_planning_permit":
            topic["land_use"] = self.lrng.choice(("商业用地", "住宅用地", "工业用地", "公共管理与公共服务用地"))
        if licence_type in ("engineering_planning_permit", "construction_permit", "completion_filing"):
            topic["building_area"] = str(self.building_area)
        if licence_type == "drawing_review_certificate":
            topic["review_org"] = f"海南基准施工图审查中心{self.lrng.randrange(1, 9)}"
        if licence_type == "construction_permit":
            topic["contract_price"] = str(Decimal(self.lrng.randrange(100, 900_000)) / 10)
            topic["construction_org"] = f"基准建筑工程有限公司{self.lrng.randrange(1, 200)}"
        if licence_type == "completion_filing":
            topic["completion_date"] = approved.date().isoformat()
        return topic

    def back_entry(self, project: Project, item: Item, now: datetime) -> Case:
        """先批后录: approved offline, entered afterwards (the W2 warning)."""
        unit = project.region_code
        recorder = Who(f"approver-{unit}-{item.department}", "approver", f"{unit}-{item.department}")
        decided = now - timedelta(days=3)
        meta = recorder.meta(now, self.request(), Channel.OFFLINE_BACKENTRY, occurred_at=decided)
        case = Case.back_enter(
            meta,
            case_id=self.uuid(),
            project_id=project.id,
            project_code=project.code,
            region_code=project.region_code,
            applicant_org=project.owner_uscc,
            item=item,
            decision=Decision.APPROVED,
            received_on=decided.date() - timedelta(days=10),
            accepted_on=decided.date() - timedelta(days=9),
            document_number=f"{item.code}-{project.code}-offline",
            reason="系统故障期间线下办理",
        )
        project.record_item_approved(meta, case_id=case.id, item_code=item.code)
        return case

    def rate(self, case: Case, applicant: Who, now: datetime, ratings: list[Rating], *, bad: bool) -> None:
        rng = self.rng
        level = rng.choice((1, 2, 3)) if bad else rng.choice((4, 5, 5, 5))
        ratings.append(
            Rating.rate(
                applicant.meta(now + timedelta(days=1), self.request(), Channel.ONLINE),
                case_id=case.id,
                case_status=int(case.status),
                case_facts={
                    "project_code": case.project_code,
                    "item_code": case.item_code,
                    "department": case.department,
                    "region_code": case.region_code,
                    "applicant_org": case.applicant_org,
                },
                level=level,
                evaluation_channel=rng.choice(CHANNELS),
                dimensions=dict.fromkeys(DIMENSIONS, level),
                comment="",
            )
        )


def archive(c: Container) -> Round:
    """电子档案 of the generated log: the ledger takes it in (its checkpoints are signed only with a
    ledger key), then the automation runs until idle."""
    c.engine.catch_up(["ledger"])
    return c.automation.run_until_idle(rounds=sys.maxsize)  # it stops when a round finds nothing


def _uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def _uscc(rng: random.Random, unit: str) -> str:
    first17 = "91" + unit + "MA5" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    return first17 + uscc_check_char(first17)


def main() -> None:
    import tempfile
    from pathlib import Path

    from bench.common import URL, open_container
    from infrastructure.ledger_key import generate_key

    events = int(os.environ.get("GONGJIAN_BENCH_EVENTS", "20000"))
    algorithm = os.environ.get("GONGJIAN_BENCH_SEAL_ALGORITHM", Algorithm.ED25519.value)
    archives = os.environ.get("GONGJIAN_BENCH_ARCHIVES") == "1"
    overrides: dict[str, Any] = {}
    if archives:  # checkpoints are signed only with a ledger key
        key = os.path.join(tempfile.mkdtemp(prefix="gongjian-bench-ledger-"), "ledger-ed25519.pem")
        generate_key(Path(key))
        overrides["ledger_key_file"] = key
    c = open_container(URL, **overrides)
    try:
        started = time.perf_counter()
        g = Generator(c.app, seal_algorithm=algorithm, keys=c.licences.keys)
        g.run(events, lambda n: print(f"{n} events", file=sys.stderr))
        print(
            f"{g.saved} events, {g.projects} projects, {len(g.seals)} seals, {g.licences} licences"
            f" in {time.perf_counter() - started:.1f}s"
        )
        if archives:
            started = time.perf_counter()
            done = archive(c)
            print(
                f"{len(done.archives)} archive packages ({done.waiting} concluded cases after the last"
                f" checkpoint) in {time.perf_counter() - started:.1f}s"
            )
    finally:
        c.close()


if __name__ == "__main__":
    main()

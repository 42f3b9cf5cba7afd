"""A synthetic dump of a city system (Haikou) in the national data-sharing tables: every table,
a few thousand rows, corrections and invalidations, and planted invalid rows of each rule.

Deterministic for a given size. `PLANTED` says which rows break which rule, so a test can check
that exactly those were kept out.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from domain.exchange import spgl
from domain.shared.codes import uscc_check_char

CITY = "460100"
DISTRICTS = ("460105", "460106", "460107", "460108")
SYSTEM = "海口市工程建设项目审批管理系统"


def uscc(n: int) -> str:
    first = f"91{CITY}MA5T{n:05d}"[:17]
    first = first.replace("I", "1")
    return first + uscc_check_char(first)


class Dump:
    def __init__(self, projects: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.tables: dict[str, list[dict[str, Any]]] = {t: [] for t in spgl.ORDER}
        self.planted: Counter[str] = Counter()
        self.serial = 0
        self.corrections = 0
        self.invalidations = 0
        self._build(projects)

    def add(self, table: str, region: str, key: str, **fields: Any) -> dict[str, Any]:
        self.serial += 1
        row = {"LSH": self.serial, "DFSJZJ": key, "XZQHDM": region, "SJYXBS": 1, "GXSJ": "2026-10-08 09:00:00"}
        row.update(fields)
        self.tables[table].append(row)
        return row

    def bad(self, rule: str, table: str, region: str, key: str, **fields: Any) -> None:
        self.planted[rule] += 1
        self.add(table, region, key, **fields)

    def _build(self, projects: int) -> None:
        flows: list[tuple[str, str, int]] = []
        for flow_type in (1, 3, 4):
            flows.append((CITY, f"HK-LC-{flow_type:02d}", flow_type))
            flows.append(("460106", f"LH-LC-{flow_type:02d}", flow_type))  # district flows map to the city's
        for region, code, flow_type in flows:
            self.add(spgl.FLOW, region, code, SPLCBM=code, SPLCMC=f"{code} 审批流程", SPLCBBH="2.1", SPLCLX=flow_type)
            for stage in (1, 2, 3, 4, 5):
                limit = "" if stage == 5 else 10 + stage
                self.add(
                    spgl.STAGE,
                    region,
                    f"{code}-{stage}",
                    SPLCBM=code,
                    SPLCBBH="2.1",
                    SPJDXH=stage,
                    SPJDMC=f"第{stage}阶段",
                    DYBZSPJDXH=stage,
                    SPJDSX=limit,
                )
                for n in range(1, 4):
                    item = f"HK-SX-{stage}{n:02d}"
                    self.add(
                        spgl.STAGE_ITEM,
                        region,
                        f"{code}-{item}",
                        SPLCBM=code,
                        SPLCBBH="2.1",
                        SPJDXH=stage,
                        SPSXBM=item,
                        SPSXBBH="1.0",
                        SPSXMC=f"事项{item}",
                        SFLCBSX=int(n == 1),
                    )
        # R6: a district flow of a type the city has no flow of
        self.bad("R6", spgl.FLOW, "460107", "QS-LC-09", SPLCBM="QS-LC-09", SPLCMC="能源", SPLCBBH="1", SPLCLX=9)
        # R4: a main stage of 60 working days, and one with no limit at all
        for key, limit in (("HK-LC-01-X1", 60), ("HK-LC-01-X2", "")):
            self.bad(
                "R4", spgl.STAGE, CITY, key, SPLCBM="HK-LC-01", SPLCBBH="2.1", SPJDXH=9, SPJDMC="错误阶段",
                DYBZSPJDXH=2, SPJDSX=limit,
            )  # fmt: skip
        self.bad(
            "standard_stage", spgl.STAGE, CITY, "HK-LC-01-X3", SPLCBM="HK-LC-01", SPLCBBH="2.1", SPJDXH=8,
            SPJDMC="错误阶段", DYBZSPJDXH=7, SPJDSX=10,
        )  # fmt: skip
        self.bad("flow_type", spgl.FLOW, CITY, "HK-LC-77", SPLCBM="HK-LC-77", SPLCMC="x", SPLCBBH="1", SPLCLX=77)

        gcdms: list[tuple[str, str, str, int]] = []
        for p in range(projects):
            region = DISTRICTS[p % len(DISTRICTS)]
            _, flow, flow_type = flows[p % len(flows)]
            code = f"2604-{region}-04-01-{100000 + p:06d}"
            gcdm = f"{code}-001"
            owner = uscc(p)
            self.add(
                spgl.PROJECT, region, f"P{p}", XMDM=code, GCDM=gcdm, XMMC=f"海口测试项目{p}号", SPLCBM=flow,
                SPLCBBH="2.1", SPLCLX=flow_type, JSDW=f"海口测试建设{p}有限公司", JSDWDM=owner,
                ZTZE=f"{1000 + p}.50", NKGSJ="2026-05-01", SBSJ="2026-04-01 10:00:00",
            )  # fmt: skip
            self.add(
                spgl.PARTY, region, f"P{p}-JSDW", XMDM=code, GCDM=gcdm, DWLX="建设单位",
                DWMC=f"海口测试建设{p}有限公司", DWTYSHXYDM=owner,
            )  # fmt: skip
            self.add(spgl.UNIT_WORK, region, f"{gcdm}-001", XMDM=code, GCDM=gcdm, DTBM=f"{gcdm}-001", DTMC="1#楼")
            self.add(spgl.RED_LINE, region, f"P{p}-HX", GCDM=gcdm, XMJWDZB="110.35,20.02;110.36,20.02;110.36,20.03")
            gcdms.append((region, gcdm, flow, p))
        # bad projects: USCC check character (R5), an old division code, a malformed project code, no name
        self.bad(
            "R5", spgl.PROJECT, CITY, "PX1", XMDM="2604-460100-04-01-900001", GCDM="2604-460100-04-01-900001-001",
            XMMC="坏信用代码", SPLCBM="HK-LC-01", SPLCBBH="2.1", SPLCLX=1, JSDW="某公司", JSDWDM="91460100MA5T000010",
        )  # fmt: skip
        self.bad(
            "region", spgl.PROJECT, "469003", "PX2", XMDM="2604-460400-04-01-900002",
            GCDM="2604-460400-04-01-900002-001", XMMC="旧区划", SPLCBM="HK-LC-01", SPLCBBH="2.1", SPLCLX=1,
            JSDW="某公司", JSDWDM=uscc(9002),
        )  # fmt: skip
        self.bad(
            "project_code", spgl.PROJECT, CITY, "PX3", XMDM="2604-460100-04-01", GCDM="2604-460100-04-01-001",
            XMMC="坏项目代码", SPLCBM="HK-LC-01", SPLCBBH="2.1", SPLCLX=1, JSDW="某公司", JSDWDM=uscc(9003),
        )  # fmt: skip
        self.bad(
            "required", spgl.PROJECT, CITY, "PX4", XMDM="2604-460100-04-01-900004",
            GCDM="2604-460100-04-01-900004-001", SPLCBM="HK-LC-01", SPLCBBH="2.1", SPLCLX=1, JSDW="某公司",
            JSDWDM=uscc(9004),
        )  # fmt: skip
        # corrections: a later row of the same key with another name; then an invalidation
        for region, _, _, p in gcdms[:: max(1, len(gcdms) // 10)]:
            original = next(r for r in self.tables[spgl.PROJECT] if r["DFSJZJ"] == f"P{p}")
            self.add(spgl.PROJECT, region, f"P{p}", **{**_fields(original), "XMMC": f"海口测试项目{p}号（更正）"})
            self.corrections += 1
        cases: list[tuple[str, str, str]] = []
        for region, gcdm, flow, p in gcdms:
            for n in range(1 + p % 4):
                stage = 1 + n
                case_id = f"HK{p:04d}{n}"
                item = f"HK-SX-{stage}01"
                self.add(
                    spgl.CASE, region, case_id, GCDM=gcdm, SPSXBM=item, SPSXBBH="1.0", SPLCBM=flow, SPLCBBH="2.1",
                    SPSXSLBM=case_id, SPBMMC="海口市自然资源和规划局", SLFS=4, SXBLSX=5,
                )  # fmt: skip
                cases.append((region, gcdm, case_id))
        self.bad(
            "R1", spgl.CASE, CITY, "HKX1", GCDM=gcdms[0][1], SPSXBM="HK-SX-999", SPSXBBH="1.0", SPLCBM="HK-LC-01",
            SPLCBBH="2.1", SPSXSLBM="HKX1",
        )  # fmt: skip
        self.bad(
            "R2", spgl.CASE, CITY, "HKX2", GCDM="2604-460100-04-01-999999-001", SPSXBM="HK-SX-101", SPSXBBH="1.0",
            SPLCBM="HK-LC-01", SPLCBBH="2.1", SPSXSLBM="HKX2",
        )  # fmt: skip
        for region, gcdm, case_id in cases:
            closed = self.rng.random() < 0.8
            for k, code in enumerate((1, 3, 9, 11) if closed else (1, 3)):
                self.add(
                    spgl.STATUS, region, f"{case_id}-{k}", GCDM=gcdm, SPSXSLBM=case_id, BLCS="海口市政务服务中心",
                    BLR=f"officer{k}", BLZT=code, BLSJ=f"2026-04-{1 + k:02d} 10:00:00", SJLY=SYSTEM,
                )  # fmt: skip
            for m in range(2):
                self.add(spgl.MATERIAL, region, f"{case_id}-M{m}", SPSXSLBM=case_id, CLMC=f"申请材料{m}", CLMLBH=m)
            if closed:
                self.add(
                    spgl.DOCUMENT, region, f"{case_id}-W", GCDM=gcdm, SPSXSLBM=case_id, PFRQ="2026-04-04",
                    PFWH=f"海自然资规〔2026〕{case_id}号", PFWJYXQX="9999-01-01",
                )  # fmt: skip
        region, gcdm, case_id = cases[0]
        self.add(spgl.OPINION, region, f"{case_id}-YJ", SPSXSLBM=case_id, SPBMMC="海口市住房和城乡建设局")
        self.add(spgl.SPECIAL, region, f"{case_id}-TB", SPSXSLBM=case_id, TBCX=1, TBCXMC="专家评审", TBCXSX=5)
        self.bad("R3", spgl.STATUS, CITY, "HKX3-0", GCDM=gcdm, SPSXSLBM="HKX3", BLZT=1, BLSJ="2026-04-01 10:00:00")
        self.bad("R3", spgl.DOCUMENT, CITY, "HKX3-W", GCDM=gcdm, SPSXSLBM="HKX3", PFRQ="2026-04-02", PFWH="x")
        self.bad(
            "status", spgl.STATUS, region, f"{case_id}-99", GCDM=gcdm, SPSXSLBM=case_id, BLZT=99, BLSJ="2026-04-09"
        )
        self.bad("format", spgl.STATUS, region, f"{case_id}-98", GCDM=gcdm, SPSXSLBM=case_id, BLZT=11, BLSJ="昨天")
        self.bad(
            "R5", spgl.PARTY, region, "PX5-SGDW", XMDM=gcdms[0][1][:24], GCDM=gcdms[0][1], DWLX="施工单位",
            DWMC="某施工单位", DWTYSHXYDM="91460100MA5T0P3X65",
        )  # fmt: skip
        self.bad("invalidates_unknown", spgl.CASE, region, "HKX9", SJYXBS=0, SJWXYY="误报", **_case_fields(gcdm))
        # invalidations: the source withdraws some case rows with a reason
        for region, _, case_id in cases[5:10]:
            original = next(r for r in self.tables[spgl.CASE] if r["DFSJZJ"] == case_id)
            self.add(spgl.CASE, region, case_id, **{**_fields(original), "SJYXBS": 0, "SJWXYY": "重复上报"})
            self.invalidations += 1
        # certificates: a construction permit citing a planning permit that exists, one citing nothing known
        self.add(spgl.LAND_PERMIT, CITY, "YD-1", YDGHXKZBH="地字第460100202600001号", GCDM=gcdms[1][1])
        self.add(
            spgl.BUILD_PERMIT, CITY, "SG-1", SGXKZBH="460100202604010101", GCDM=gcdms[1][1],
            YDGHXKZBH="地字第460100202600001号", GCGHXKZBH="建字第460100202699999号", FZRQ="2026-04-10",
        )  # fmt: skip
        self.add(
            spgl.COMPLETION, CITY, "JG-1", JGYSBABH="JG-460100-2026-001", GCDM=gcdms[1][1],
            SGXKZBH="460100202604010101", BARQ="2026-09-30",
        )  # fmt: skip
        self.add(spgl.WORKS_PERMIT, CITY, "GH-1", GCGHXKZBH="建字第460100202600002号", GCDM=gcdms[2][1])

    @property
    def rows(self) -> int:
        return sum(len(r) for r in self.tables.values())


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("LSH", "DFSJZJ", "XZQHDM")}


def _case_fields(gcdm: str) -> dict[str, Any]:
    return {
        "GCDM": gcdm,
        "SPSXBM": "HK-SX-101",
        "SPSXBBH": "1.0",
        "SPLCBM": "HK-LC-01",
        "SPLCBBH": "2.1",
        "SPSXSLBM": "HKX9",
    }

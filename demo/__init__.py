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

from demo.data import END, HAIKOU_FLOW, LICENSING, SEAL_VALIDITY, START, SUPERVISION, UNITS, DemoSummary
from demo.load import demo_clock, load_demo

__all__ = [
    "END",
    "HAIKOU_FLOW",
    "LICENSING",
    "SEAL_VALIDITY",
    "START",
    "SUPERVISION",
    "UNITS",
    "DemoSummary",
    "demo_clock",
    "load_demo",
]

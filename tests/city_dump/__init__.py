"""A labelled city dump (issue 15 part 8): the measuring instrument of the off-system warnings
W1–W10 on data imported from a city system (SPGL tables) and reported by other systems
(`ExternalRecord`s: the licence library, the industry system).

What is in it (`build(projects, seed)`; the same seed gives the same dump):
- **clean** projects that look like real work: owners holding 1–15 projects, developments in
  phases (一期/二期/三期), names with and without region prefixes (海南省/海口市) and generic
  suffixes (工程/项目/建设项目), business times in office hours (Asia/Shanghai), 即办件 (the
  enterprise filing) approved in minutes, prerequisites approved before their successors, cases
  decided within their promised limit in working days (chinesecalendar), every row recorded by the
  city minutes after its business time (`GXSJ`) and uploaded in the nightly batch after it, so the
  rows of one case arrive in several batches; certificates reported by the licence library the
  evening of the approval (before the city's batch), numbered by the document number (PFWH) or the
  licence number (ZZBH); the city's permit tables citing upstream licence numbers.
- **look-alikes** (`lookalikes.py`, 18 kinds): legitimate work resembling an anomaly, which must
  raise nothing.
- **planted** anomalies (`planted.py`, 33 kinds over all ten rules), each kind in several variants,
  each on a project of its own. Kinds and look-alikes are derived from the rules' meaning
  (docs/supervision.md) and from the thresholds read from projections/warning_rules.toml, never from
  the rules' code.

Labels and scoring (`run.score`):
- A label is (rule, kind, subject, project). Subjects: a certificate's number (W1, W4 and W5 on a
  certificate or permit row), the city's case number `SPSXSLBM` (W2, W3, W4 on a city case, W6 on
  a case, W7, W10 opinion), `<project code> 阶段<n>` (W6 stage), a project code (W6 project; W8:
  the second code of the pair; W9: the code never generated), the foreign case number (W10 status
  rows from another system).
- A planted anomaly is **caught** when an open warning of its rule names its subject: the
  warning's `subject` equals it or has it as one part (split on blanks, `|`, `,`, `;`, `/`, `:`),
  or its `case_id` equals it, or — for a project subject (W8, W9) — its `project_code` does.
- **precision** = open warnings that match a label / all open warnings. A warning matches a label
  when it is of the label's rule and names its subject, or when its rule is one of the label's
  documented **consequences** and it is on the label's project. The documented consequences:
  - W9 case row refused by R2 and its status rows refused by R3 → W10 (status rows of a case that
    does not exist here); W9 status record of an unknown project → W10; W9 certificate of an unknown
    project → W1 (no case can exist) and W4 (no prerequisite can be approved); status rows or
    records of another system's case that close it with no acceptance row → W3
    (`rows_no_acceptance`: that is what they show);
  - W4: one inversion may also be reported on the other party of the pair (the city's case, the
    cited certificate), and a completion filing before its permit has no case of its own (→ W1);
  - W6: a case decided late or left open may also make its stage late; a project past its target
    has late stages.
  Every other warning — on a clean project, on a look-alike, or another rule on a planted
  project — is false.
- The instrument also checks the SPGL uploader rules: clean rows import without errors; the only
  refused rows are the planted R2/R3 ones (`Dump.rejected`).

Command: `python -m tests.city_dump [--projects N] [--store sqlite|URL] [--order nightly|shuffled|
reversed|monthly] [--variants K] [--seed S]` prints per-rule and overall recall and precision, the
false warnings by reason and the missed labels (docs/supervision.md, "Measuring the rules").
"""

from __future__ import annotations

import random
from datetime import date, datetime

from tests.city_dump.city import write_flows
from tests.city_dump.lifecycle import clean
from tests.city_dump.lookalikes import Maker, build_lookalikes
from tests.city_dump.model import SHANGHAI, Dump, Label
from tests.city_dump.planted import PLANTS, build_planted

END = date(2026, 11, 20)


def build(projects: int = 200, seed: int = 20261205, variants: int = 2, lookalike_variants: int = 1) -> Dump:
    """`projects` clean projects, every look-alike kind and every planted kind (`variants` each)."""
    rng = random.Random(seed)
    d = Dump(seed=seed, end=END)
    write_flows(d, datetime(2026, 1, 2, 9, 30, tzinfo=SHANGHAI))
    clean(d, rng, projects)
    m = Maker(d, rng, first=500_000, owner=900)
    build_lookalikes(d, rng, m, lookalike_variants)
    build_planted(d, rng, m, variants)
    return d


__all__ = ["PLANTS", "Dump", "Label", "build"]

"""预警规则 — the off-system warning rules as pure functions over facts (issue 15).

`facts` holds the fact model (steps of a case with their source, channel and log position);
`lifecycle` the rules over one case's life (W2, W3, W6, W7, W10); `mapping` how a city system's
item codes and department names map to ours. The read model (projections/offline_warnings.py)
gathers the facts and stores what the rules return.
"""

from domain.supervision.rules.facts import CaseFacts, Finding, Kind, Limits, Source, Step
from domain.supervision.rules.lifecycle import REASONS, judge_case

__all__ = ["REASONS", "CaseFacts", "Finding", "Kind", "Limits", "Source", "Step", "judge_case"]

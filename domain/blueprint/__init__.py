"""一张蓝图 — the blueprint projects are generated against: control-plan zones and regional
assessment areas (`domain.blueprint.plan`), and the check of a red line against them
(`domain.blueprint.check`). Nothing is re-exported here: `domain.projects` imports the check, and
`plan` imports `domain.projects`."""

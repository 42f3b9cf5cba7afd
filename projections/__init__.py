"""Projections: read models fed by the log, exactly once, rebuildable from zero."""

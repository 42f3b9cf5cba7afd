"""Shared kernel: codes, working-day calendar, red lines, event metadata, domain errors."""

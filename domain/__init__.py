"""Domain model: aggregates, events and value objects. No I/O, no clock, no frameworks."""

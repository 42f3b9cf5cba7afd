"""Application layer: one eventsourcing Application (one log), a service per bounded context."""

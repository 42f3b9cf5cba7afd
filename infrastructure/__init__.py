"""Infrastructure: settings, the event store on SQLite or PostgreSQL, read-model SQL, Redis."""

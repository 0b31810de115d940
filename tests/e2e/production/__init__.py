"""The production shape (CeleryExecutor on PostgreSQL and Redis) end to end: scale and faults."""

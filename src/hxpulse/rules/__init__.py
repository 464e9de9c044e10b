"""Rules: trigger → conditions → actions, run in the ingest transaction, into the outbox."""

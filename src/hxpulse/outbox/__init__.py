"""The outbox: actions written in their cause's transaction, delivered at least once."""

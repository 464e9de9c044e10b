"""Events: every touchpoint, append-only and idempotent by message id."""

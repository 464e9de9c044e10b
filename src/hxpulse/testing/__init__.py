"""Helpers for tests and benchmarks: throw-away servers on 127.0.0.1."""

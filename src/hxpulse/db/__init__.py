"""Storage: engine factory, table base, transactions and migrations."""

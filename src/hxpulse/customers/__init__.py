"""Customers: one profile per person, many identities, merges."""

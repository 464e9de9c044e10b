"""Saved segments: conditions over customers, evaluated by SQL in the database."""

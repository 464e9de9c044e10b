"""Webhooks: endpoints that receive signed deliveries (Standard Webhooks)."""

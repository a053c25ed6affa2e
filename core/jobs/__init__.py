"""Durable jobs: one table, an outbox-style ``enqueue`` and a worker (inline or separate)."""

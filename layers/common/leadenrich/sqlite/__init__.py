"""Embedded adapters on SQLite (the standard library): the local stack's jobs, queue, cache and keys."""

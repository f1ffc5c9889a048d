"""The enrichment engine: one lead in, graded addresses out, for the fewest paid calls (docs/engine.md).

Holds the waterfall and what only it needs (models, names, candidates, ranking, domains, grading, the paid
calls, the cache and rate-limiter ports, its settings, the provider clients). No AWS, SQL or event shapes:
the job runtime (`leadenrich.jobs`) and the adapters (`aws`, `sqlite`, `supabase`) depend on it, never the
other way round (tests/test_import_rules.py).
"""

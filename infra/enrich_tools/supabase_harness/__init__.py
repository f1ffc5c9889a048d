"""A Supabase stand-in for tests: throwaway PostgreSQL, real PostgREST, and a `/rest/v1` gateway.

`SupabaseTestServer` starts it (see `server.py`); `binaries.py` says where the servers come from
(`infra/scripts/install-test-servers.sh` installs them); `bootstrap.sql` is what Supabase has before our
migrations (roles, `auth.jwt()`); the migrations themselves are `infra/supabase/migrations/*.sql`.
`python -m enrich_tools.supabase_harness` serves one in the foreground and prints its URL and keys.
"""

from __future__ import annotations

from enrich_tools.supabase_harness.binaries import MissingBinaryError
from enrich_tools.supabase_harness.postgres import MIGRATIONS_DIR, Psql, SqlError, migration_files
from enrich_tools.supabase_harness.server import DATABASE_URL_ENV, SupabaseTestServer

__all__ = [
    "DATABASE_URL_ENV",
    "MIGRATIONS_DIR",
    "MissingBinaryError",
    "Psql",
    "SqlError",
    "SupabaseTestServer",
    "migration_files",
]

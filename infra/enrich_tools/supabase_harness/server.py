"""`SupabaseTestServer`: a throwaway PostgreSQL + PostgREST + gateway, shaped like a Supabase project.

    with SupabaseTestServer() as server:
        client = supabase.create_client(server.url, server.service_role_key)
        client.table("leads").insert({...}).execute()
        server.reset()                      # empty every table of schema public

Start: PostgreSQL (a temporary cluster, or the one in `SUPABASE_TEST_DATABASE_URL`), the Supabase roles and
auth schema (bootstrap.sql), every migration of infra/supabase/migrations in order, PostgREST logged in as
`authenticator` with a random JWT secret, and the `/rest/v1` gateway in front. `stop()` (also on a failed
start) kills the processes and removes the temporary directories.

With `SUPABASE_TEST_DATABASE_URL` (a superuser, or a role that can create roles and databases) the harness
bootstraps and migrates that database instead of starting one, and PostgREST logs in with that URL's
credentials (the authenticator role has no password it could use there): PostgREST still switches to anon,
authenticated or service_role for every request, so the API behaves the same.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from enrich_tools.supabase_harness import tokens
from enrich_tools.supabase_harness.binaries import find_postgres, find_postgrest, find_psql
from enrich_tools.supabase_harness.gateway import RestGateway
from enrich_tools.supabase_harness.postgres import (
    MIGRATIONS_DIR,
    LocalPostgres,
    Psql,
    apply_migrations,
    bootstrap,
)
from enrich_tools.supabase_harness.postgrest import PostgrestProcess

DATABASE_URL_ENV = "SUPABASE_TEST_DATABASE_URL"

_TRUNCATE_PUBLIC = """
do $$
declare
    tables text;
begin
    select string_agg(format('%I.%I', schemaname, tablename), ', ') into tables
    from pg_tables where schemaname = 'public';
    if tables is not null then
        execute 'truncate ' || tables || ' restart identity cascade';
    end if;
end;
$$;
"""


def with_database(dsn: str, database: str) -> str:
    """The same connection URL pointing at another database."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(database), parts.query, parts.fragment))


class SupabaseTestServer:
    def __init__(
        self,
        *,
        database_url: str | None = None,
        migrations: Path = MIGRATIONS_DIR,
        max_rows: int | None = 1000,
    ) -> None:
        self._external_url = database_url or os.environ.get(DATABASE_URL_ENV) or None
        self._migrations = migrations
        self._max_rows = max_rows
        self._postgres: LocalPostgres | None = None
        self._postgrest: PostgrestProcess | None = None
        self._gateway: RestGateway | None = None
        self._workdir: Path | None = None
        self._psql: Psql | None = None
        self.jwt_secret = tokens.new_jwt_secret()
        self.service_role_key = tokens.api_key(self.jwt_secret, "service_role")
        self.anon_key = tokens.api_key(self.jwt_secret, "anon")
        self.migrations_applied: list[Path] = []

    # --- lifecycle

    def start(self) -> SupabaseTestServer:
        if self._gateway is not None:
            return self
        # Every binary is looked up before anything starts, so a missing one fails fast and cleanly.
        postgrest_binary = find_postgrest()
        postgres_binaries = None if self._external_url else find_postgres()
        psql_binary = postgres_binaries.psql if postgres_binaries else find_psql()
        try:
            self._workdir = Path(tempfile.mkdtemp(prefix="supabase-harness-logs-"))
            if postgres_binaries is not None:
                self._postgres = LocalPostgres(postgres_binaries, database="leadenrich")
                self._postgres.start()
                dsn, rest_dsn = self._postgres.dsn, self._postgres.dsn_for("authenticator")
            else:
                assert self._external_url is not None
                dsn = rest_dsn = self._external_url
            self._psql = Psql(psql_binary, dsn)
            bootstrap(self._psql)
            self.migrations_applied = apply_migrations(self._psql, self._migrations)
            self._postgrest = PostgrestProcess(
                postgrest_binary,
                db_uri=rest_dsn,
                jwt_secret=self.jwt_secret,
                log_path=self._workdir / "postgrest.log",
                max_rows=self._max_rows,
            )
            self._postgrest.start()
            self._gateway = RestGateway(self._postgrest.url, [self.anon_key, self.service_role_key]).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        gateway, self._gateway = self._gateway, None
        postgrest, self._postgrest = self._postgrest, None
        postgres, self._postgres = self._postgres, None
        try:
            if gateway is not None:
                gateway.stop()
        finally:
            try:
                if postgrest is not None:
                    postgrest.stop()
            finally:
                if postgres is not None:
                    postgres.stop()
                workdir, self._workdir = self._workdir, None
                if workdir is not None:
                    shutil.rmtree(workdir, ignore_errors=True)

    def __enter__(self) -> SupabaseTestServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- what a Supabase project gives its users

    @property
    def url(self) -> str:
        """What SUPABASE_URL would be: the gateway's base (the client appends /rest/v1)."""
        if self._gateway is None:
            raise RuntimeError("the Supabase test server is not running")
        return self._gateway.url

    @property
    def rest_url(self) -> str:
        return f"{self.url}/rest/v1"

    @property
    def postgrest_url(self) -> str:
        """PostgREST itself, behind no gateway (no apikey check, no prefix)."""
        if self._postgrest is None:
            raise RuntimeError("the Supabase test server is not running")
        return self._postgrest.url

    @property
    def dsn(self) -> str:
        """A superuser connection URL for the database (for psql; PostgREST logs in as authenticator)."""
        return self.psql.dsn

    @property
    def psql(self) -> Psql:
        if self._psql is None:
            raise RuntimeError("the Supabase test server is not running")
        return self._psql

    def env(self) -> dict[str, str]:
        """The environment variables a Supabase-backed service would read."""
        return {
            "SUPABASE_URL": self.url,
            "SUPABASE_SERVICE_ROLE_KEY": self.service_role_key,
            "SUPABASE_ANON_KEY": self.anon_key,
        }

    def user_token(self, workspace_id: str, *, user_id: str | None = None, expires_in: int = 3600) -> str:
        """A signed-in user's access token (role authenticated) in `workspace_id` (app_metadata)."""
        return tokens.user_token(self.jwt_secret, workspace_id, user_id=user_id, expires_in=expires_in)

    # --- SQL as the superuser (through psql)

    def sql(self, text: str) -> str:
        """Run statements; returns psql's unaligned, tuples-only output. Raises SqlError."""
        return self.psql.execute(text)

    def query(self, select: str) -> list[dict[str, Any]]:
        """The rows of one SELECT, as JSON objects."""
        return self.psql.query(select)

    def scalar(self, select: str) -> Any:
        return self.psql.scalar(select)

    def reset(self) -> None:
        """Empty every table of schema public (one TRUNCATE); the schema and the API stay up."""
        self.psql.execute(_TRUNCATE_PUBLIC)

    def reload_schema(self) -> None:
        """Make PostgREST reload its schema cache (after DDL, e.g. a new function or table)."""
        self.psql.execute("notify pgrst, 'reload schema'")

    def apply_migrations(self) -> list[Path]:
        """Apply the migrations again (they are idempotent)."""
        return apply_migrations(self.psql, self._migrations)

    @contextmanager
    def scratch_database(self, *, bootstrapped: bool = True) -> Iterator[Psql]:
        """A new empty database on the same server (dropped afterwards); with the Supabase roles and auth
        schema unless `bootstrapped` is False. For tests of migrations from scratch or of upgrades."""
        name = f"scratch_{uuid.uuid4().hex[:12]}"
        self.psql.execute(f'create database "{name}"')
        try:
            scratch = Psql(self.psql.psql, with_database(self.dsn, name))
            if bootstrapped:
                bootstrap(scratch)
            yield scratch
        finally:
            self.psql.execute(f'drop database if exists "{name}" with (force)')

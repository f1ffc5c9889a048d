-- What every Supabase project has before our migrations run, for a bare PostgreSQL (the test harness only;
-- never apply this to a Supabase project). Idempotent: roles are created only when missing.
--
--   anon, authenticated  the API roles PostgREST switches to (no JWT / a signed-in user's JWT)
--   service_role         the backend's role, bypasses row-level security
--   authenticator        the role PostgREST logs in as; it can only switch to the three above
--   auth.jwt(), auth.uid(), auth.role()   the request's JWT claims, as Supabase defines them
--
-- Deliberately NOT copied from Supabase: its default privileges (`alter default privileges ... grant all on
-- tables to anon, authenticated, service_role`). Our migrations grant what they need explicitly, and the
-- tests prove that the grants are enough.

do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
    end if;
end;
$$;

grant anon, authenticated, service_role to authenticator;

-- gen_random_uuid() is built in from PostgreSQL 13; older servers need pgcrypto.
do $$
begin
    if current_setting('server_version_num')::int < 130000 then
        create extension if not exists pgcrypto;
    end if;
end;
$$;

create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

create or replace function auth.jwt()
returns jsonb
language sql
stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

create or replace function auth.uid()
returns uuid
language sql
stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

create or replace function auth.role()
returns text
language sql
stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;

grant execute on function auth.jwt(), auth.uid(), auth.role() to anon, authenticated, service_role;

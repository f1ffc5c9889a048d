-- 0001_core: leads, emails, jobs and job items; updated_at kept by the database; row-level security by
-- workspace.
--
-- Plain SQL for PostgreSQL 15+ (hosted Supabase). It expects what every Supabase project already has: the
-- roles anon, authenticated and service_role, and the function auth.jwt(). It creates neither.
--
-- Idempotent: every statement can run again on a database that already has its objects. It also upgrades a
-- database created from the original design (leads, emails, jobs without workspaces): missing columns are
-- added with ADD COLUMN IF NOT EXISTS, existing rows land in workspace 'default'.

-- ---------------------------------------------------------------------------------------------------------
-- updated_at: one trigger function for every table.

create or replace function public.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- leads: the companies (and optionally the person) to enrich.

create table if not exists public.leads (
    id uuid primary key default gen_random_uuid(),
    company_name text not null,
    domain text not null,
    industry text,
    company_size text,
    location text,
    created_at timestamp with time zone default now(),
    updated_at timestamp with time zone default now()
);

alter table public.leads add column if not exists workspace_id text not null default 'default';
alter table public.leads add column if not exists first_name text;
alter table public.leads add column if not exists last_name text;
alter table public.leads add column if not exists external_id text;

create index if not exists idx_leads_workspace_domain on public.leads (workspace_id, domain);
-- Unique (id is already) so that emails can reference (workspace_id, id): an email lives in its lead's
-- workspace.
create unique index if not exists idx_leads_workspace_id on public.leads (workspace_id, id);

-- ---------------------------------------------------------------------------------------------------------
-- emails: the addresses found for a lead, one row per (lead, email); the engine upserts on that pair.
-- lead_id references the lead through (workspace_id, lead_id), below.

create table if not exists public.emails (
    id uuid primary key default gen_random_uuid(),
    lead_id uuid,
    email text not null,
    source text not null check (source in ('hunter_direct', 'perplexity_generated')),
    confidence_score integer check (confidence_score >= 0 and confidence_score <= 100),
    email_type text not null check (email_type in ('primary', 'secondary')),
    hunter_status text check (hunter_status in ('deliverable', 'undeliverable', 'risky', 'unknown')),
    verified_at timestamp with time zone default now(),
    status text not null default 'active' check (status in ('active', 'inactive')),
    created_at timestamp with time zone default now(),
    updated_at timestamp with time zone default now(),

    unique (lead_id, email)
);

alter table public.emails add column if not exists workspace_id text not null default 'default';

create index if not exists idx_emails_lead_id on public.emails (lead_id);
create index if not exists idx_emails_status on public.emails (status);
create index if not exists idx_emails_confidence on public.emails (confidence_score desc);
create index if not exists idx_emails_workspace_id on public.emails (workspace_id);
-- At most one primary address per lead.
create unique index if not exists idx_emails_one_primary_per_lead on public.emails (lead_id)
    where email_type = 'primary';

do $$
begin
    if not exists (
        select 1 from pg_constraint
        where conname = 'emails_lead_workspace_fkey' and conrelid = 'public.emails'::regclass
    ) then
        -- An email belongs to its lead and lives in the lead's workspace. Foreign keys are checked
        -- without row-level security: referencing leads(id) alone would let a user attach an email of
        -- their workspace to another workspace's lead (and block or take over that lead's upserts).
        -- Deleting a lead deletes its emails; moving a lead to another workspace moves them.
        alter table public.emails
            add constraint emails_lead_workspace_fkey foreign key (workspace_id, lead_id)
            references public.leads (workspace_id, id) on update cascade on delete cascade;
    end if;
end;
$$;

-- The original design's lead_id -> leads(id) is replaced by the key above (two keys between the same
-- tables would also make PostgREST's embedding, select=*,emails(*), ambiguous).
alter table public.emails drop constraint if exists emails_lead_id_fkey;

-- ---------------------------------------------------------------------------------------------------------
-- jobs: a batch of leads, its options, counters and cost (the runtime's Job).

create table if not exists public.jobs (
    id uuid primary key default gen_random_uuid(),
    job_id text not null unique,
    lead_ids jsonb,
    domains jsonb,
    process_all boolean default false,
    skip_existing boolean default true,
    max_concurrent integer,
    batch_size integer,
    status text not null
        check (status in ('pending', 'running', 'paused', 'completed', 'failed', 'cancelled')),
    progress jsonb default '{}',
    error_message text,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    total_leads integer default 0,
    processed_leads integer default 0,
    failed_leads integer default 0,
    created_emails integer default 0,
    api_calls_hunter integer default 0,
    api_calls_perplexity integer default 0,
    processing_time_seconds float default 0.0,
    created_at timestamp with time zone default now(),
    updated_at timestamp with time zone default now()
);

alter table public.jobs add column if not exists workspace_id text not null default 'default';
alter table public.jobs add column if not exists found_leads integer not null default 0;
alter table public.jobs add column if not exists credits_hunter double precision not null default 0;
alter table public.jobs add column if not exists cost_perplexity_usd double precision not null default 0;
alter table public.jobs add column if not exists priority integer not null default 3
    constraint jobs_priority_check check (priority between 1 and 5);
alter table public.jobs add column if not exists max_attempts integer not null default 5
    constraint jobs_max_attempts_check check (max_attempts >= 1);
alter table public.jobs add column if not exists webhook_url text;
alter table public.jobs add column if not exists tags text[] not null default '{}';
alter table public.jobs add column if not exists idempotency_key text;

create index if not exists idx_jobs_status on public.jobs (status);
create index if not exists idx_jobs_created_at on public.jobs (created_at desc);
create index if not exists idx_jobs_job_id on public.jobs (job_id);
create index if not exists idx_jobs_workspace_created_at on public.jobs (workspace_id, created_at desc);
create unique index if not exists idx_jobs_workspace_idempotency_key on public.jobs (workspace_id, idempotency_key)
    where idempotency_key is not null;
-- Unique (job_id is already) so that items can reference (workspace_id, job_id).
create unique index if not exists idx_jobs_workspace_job_id on public.jobs (workspace_id, job_id);

-- ---------------------------------------------------------------------------------------------------------
-- job_items: one row per lead of a job (the runtime's Item). `lead` holds the Lead as given (domain,
-- company_name, first_name, last_name, external_id); `lead_id` links a stored lead when there is one.
-- job_id references the job through (workspace_id, job_id), below.

create table if not exists public.job_items (
    workspace_id text not null default 'default',
    job_id text not null,
    item_id text not null,
    lead jsonb not null check (jsonb_typeof(lead) = 'object'),
    lead_id uuid references public.leads (id) on delete set null,
    status text not null default 'queued'
        check (status in (
            'queued', 'running', 'deferred', 'found', 'not_found', 'invalid', 'failed', 'skipped', 'dead'
        )),
    attempts integer not null default 0 check (attempts >= 0),
    reason text,
    result jsonb,
    lease_token text,
    lease_until timestamp with time zone,
    next_attempt_at timestamp with time zone,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now(),

    primary key (job_id, item_id)
);

create index if not exists idx_job_items_job_status on public.job_items (job_id, status);

do $$
begin
    if not exists (
        select 1 from pg_constraint
        where conname = 'job_items_job_workspace_fkey' and conrelid = 'public.job_items'::regclass
    ) then
        -- An item lives in its job's workspace (foreign keys are checked without row-level security);
        -- deleting a job deletes its items.
        alter table public.job_items
            add constraint job_items_job_workspace_fkey foreign key (workspace_id, job_id)
            references public.jobs (workspace_id, job_id) on update cascade on delete cascade;
    end if;
end;
$$;

alter table public.job_items drop constraint if exists job_items_job_id_fkey;

-- ---------------------------------------------------------------------------------------------------------
-- updated_at triggers.

do $$
declare
    t text;
begin
    foreach t in array array['leads', 'emails', 'jobs', 'job_items'] loop
        execute format('drop trigger if exists %I on public.%I', t || '_set_updated_at', t);
        execute format(
            'create trigger %I before update on public.%I for each row execute function public.set_updated_at()',
            t || '_set_updated_at', t
        );
    end loop;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Row-level security: a signed-in user (role authenticated) reads and writes only the rows of the workspace
-- in their JWT's app_metadata (which users cannot edit in Supabase). anon has no policy and sees nothing.
-- The Lambdas use the service role, which bypasses RLS.

create or replace function public.request_workspace_id()
returns text
language sql
stable
set search_path = ''
as $$
    select auth.jwt() -> 'app_metadata' ->> 'workspace_id'
$$;

-- The privileges Supabase gives its API roles; the policies below are what restricts rows.
grant usage on schema public to anon, authenticated, service_role;
grant select, insert, update, delete on table public.leads, public.emails, public.jobs, public.job_items
    to anon, authenticated, service_role;
grant execute on function public.request_workspace_id() to anon, authenticated, service_role;

do $$
declare
    t text;
begin
    foreach t in array array['leads', 'emails', 'jobs', 'job_items'] loop
        execute format('alter table public.%I enable row level security', t);

        execute format('drop policy if exists %I on public.%I', t || '_select_own_workspace', t);
        execute format(
            'create policy %I on public.%I for select to authenticated'
            ' using (workspace_id = (select public.request_workspace_id()))',
            t || '_select_own_workspace', t
        );
        execute format('drop policy if exists %I on public.%I', t || '_insert_own_workspace', t);
        execute format(
            'create policy %I on public.%I for insert to authenticated'
            ' with check (workspace_id = (select public.request_workspace_id()))',
            t || '_insert_own_workspace', t
        );
        execute format('drop policy if exists %I on public.%I', t || '_update_own_workspace', t);
        execute format(
            'create policy %I on public.%I for update to authenticated'
            ' using (workspace_id = (select public.request_workspace_id()))'
            ' with check (workspace_id = (select public.request_workspace_id()))',
            t || '_update_own_workspace', t
        );
        execute format('drop policy if exists %I on public.%I', t || '_delete_own_workspace', t);
        execute format(
            'create policy %I on public.%I for delete to authenticated'
            ' using (workspace_id = (select public.request_workspace_id()))',
            t || '_delete_own_workspace', t
        );
    end loop;
end;
$$;

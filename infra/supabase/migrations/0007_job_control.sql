-- 0007_job_control: jobs that are paused and resumed, scheduled for later, capped in what they spend, and of
-- two kinds (leadenrich/jobs/models.py; the JobStore port's pause_job, resume_job, update_job, due_jobs and
-- release_due in leadenrich/jobs/ports.py; the rules in leadenrich/jobs/job_rules.py).
--
-- jobs.kind           enrichment (the default: every job made before) | verification
-- jobs.run_at         when the job's items may start; null: at once
-- jobs.max_credits    Hunter credits the job may spend; null: no cap
-- jobs.max_cost_usd   Perplexity dollars the job may spend; null: no cap
-- jobs.paused_reason  why a paused job is paused (paused_by_caller, budget_reached); null otherwise
-- jobs.due_at         set while a scheduled job waits for the processor to release it: the due index.
--                     idx_jobs_due is partial (only scheduled jobs have an entry) and in the order
--                     job_store_due_jobs reads it, every workspace together, so the processor's look-up
--                     reads the due jobs and nothing else however many jobs the table holds.
--
-- Functions: job_store_create_job is 0006's with the new columns; job_store_claim_item is 0002's and also
-- refuses an item whose job is paused (as one whose job is cancelled: its items wait for the resume);
-- job_store_cancel_job also cancels a paused job and clears its reason. New, each one conditional UPDATE
-- (or one read) as 0002 explains: job_store_pause_job, job_store_resume_job, job_store_update_job,
-- job_store_due_jobs, job_store_release_due. Privileges: create or replace keeps the existing functions';
-- the new ones get 0002's (service_role only) at the end. Idempotent.

alter table public.jobs add column if not exists kind text not null default 'enrichment';
alter table public.jobs add column if not exists run_at timestamp with time zone;
alter table public.jobs add column if not exists max_credits double precision;
alter table public.jobs add column if not exists max_cost_usd double precision;
alter table public.jobs add column if not exists paused_reason text;
alter table public.jobs add column if not exists due_at timestamp with time zone;

do $$
begin
    if not exists (
        select 1 from pg_constraint where conname = 'jobs_kind_check' and conrelid = 'public.jobs'::regclass
    ) then
        alter table public.jobs add constraint jobs_kind_check check (kind in ('enrichment', 'verification'));
    end if;
    if not exists (
        select 1 from pg_constraint where conname = 'jobs_caps_check' and conrelid = 'public.jobs'::regclass
    ) then
        alter table public.jobs add constraint jobs_caps_check
            check ((max_credits is null or max_credits >= 0) and (max_cost_usd is null or max_cost_usd >= 0));
    end if;
end;
$$;

create index if not exists idx_jobs_due on public.jobs (due_at, workspace_id, job_id) where due_at is not null;

-- ---------------------------------------------------------------------------------------------------------
-- Creating a job: 0006's, storing the new columns too (a job created scheduled has its due_at set).

create or replace function public.job_store_create_job(p_job jsonb, p_items jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_job public.jobs;
    v_existing public.jobs;
begin
    insert into public.jobs (
        workspace_id, job_id, status, created_at, started_at, completed_at, idempotency_key,
        request_fingerprint, priority, max_attempts, skip_existing, webhook_url, tags, webhook_events,
        queue_window, kind, run_at, max_credits, max_cost_usd, paused_reason, due_at,
        total_leads, processed_leads, found_leads, risky_leads, failed_leads, created_emails,
        api_calls_hunter, api_calls_perplexity, credits_hunter, cost_perplexity_usd, processing_time_seconds
    )
    select r.workspace_id, r.job_id, r.status, r.created_at, r.started_at, r.completed_at, r.idempotency_key,
        r.request_fingerprint, r.priority, r.max_attempts, r.skip_existing, r.webhook_url,
        coalesce(r.tags, '{}'), coalesce(r.webhook_events, '{job.completed}'), r.queue_window,
        coalesce(r.kind, 'enrichment'), r.run_at, r.max_credits, r.max_cost_usd, r.paused_reason, r.due_at,
        r.total_leads, r.processed_leads, r.found_leads, coalesce(r.risky_leads, 0), r.failed_leads,
        r.created_emails, r.api_calls_hunter, r.api_calls_perplexity, r.credits_hunter, r.cost_perplexity_usd,
        r.processing_time_seconds
    from jsonb_populate_record(null::public.jobs, p_job) as r
    -- No arbiter: a concurrent insert of the same key or id waits for the other transaction, then does
    -- nothing, and the existing job is read below with a fresh snapshot.
    on conflict do nothing
    returning * into v_job;

    if v_job.job_id is null then
        if p_job ->> 'idempotency_key' is not null then
            select * into v_existing from public.jobs as j
            where j.workspace_id = p_job ->> 'workspace_id'
                and j.idempotency_key = p_job ->> 'idempotency_key';
            if v_existing.job_id is not null then
                return jsonb_build_object('created', false, 'job', to_jsonb(v_existing));
            end if;
        end if;
        raise exception 'job_id: job % exists', p_job ->> 'job_id' using errcode = 'unique_violation';
    end if;

    perform public.job_store_add_items(v_job.workspace_id, v_job.job_id, p_items, false);
    return jsonb_build_object('created', true, 'job', to_jsonb(v_job));
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Claiming an item: 0002's, and its job must be neither cancelled nor paused.

create or replace function public.job_store_claim_item(
    p_workspace_id text, p_job_id text, p_item_id text, p_token text, p_lease_until timestamptz,
    p_now timestamptz
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_item public.job_items;
begin
    update public.job_items as i
    set status = 'running', lease_token = p_token, lease_until = p_lease_until, attempts = i.attempts + 1,
        next_attempt_at = null
    where i.workspace_id = p_workspace_id and i.job_id = p_job_id and i.item_id = p_item_id
        and (i.status in ('queued', 'deferred') or (i.status = 'running' and i.lease_until < p_now))
        and exists (
            select 1 from public.jobs as j
            where j.workspace_id = p_workspace_id and j.job_id = p_job_id
                and j.status not in ('cancelled', 'paused')
        )
    returning i.* into v_item;
    if v_item.item_id is null then
        return null;
    end if;
    return to_jsonb(v_item);
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Job control. Each change is one conditional UPDATE: of two concurrent callers, the second re-checks the
-- WHERE against the first one's committed row and matches nothing, so only one gets the job back.

-- pending|running|paused -> cancelled (a paused job's reason cleared). The job as it is afterwards (a
-- finished job comes back unchanged), or null when there is no such job.
create or replace function public.job_store_cancel_job(p_workspace_id text, p_job_id text)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_job public.jobs;
begin
    update public.jobs as j
    set status = 'cancelled', paused_reason = null
    where j.workspace_id = p_workspace_id and j.job_id = p_job_id
        and j.status in ('pending', 'running', 'paused')
    returning j.* into v_job;
    if v_job.job_id is null then
        select * into v_job from public.jobs as j
        where j.workspace_id = p_workspace_id and j.job_id = p_job_id;
    end if;
    if v_job.job_id is null then
        return null;
    end if;
    return to_jsonb(v_job);
end;
$$;

-- pending|running -> paused with p_reason. The paused job, or null (unknown, or not pending or running).
create or replace function public.job_store_pause_job(p_workspace_id text, p_job_id text, p_reason text)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_job public.jobs;
begin
    update public.jobs as j
    set status = 'paused', paused_reason = p_reason
    where j.workspace_id = p_workspace_id and j.job_id = p_job_id and j.status in ('pending', 'running')
    returning j.* into v_job;
    if v_job.job_id is null then
        return null;
    end if;
    return to_jsonb(v_job);
end;
$$;

-- paused -> running, or pending when it never started (started_at null: the first claim starts it); the
-- reason cleared. The resumed job, or null.
create or replace function public.job_store_resume_job(p_workspace_id text, p_job_id text)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_job public.jobs;
begin
    update public.jobs as j
    set status = case when j.started_at is null then 'pending' else 'running' end, paused_reason = null
    where j.workspace_id = p_workspace_id and j.job_id = p_job_id and j.status = 'paused'
    returning j.* into v_job;
    if v_job.job_id is null then
        return null;
    end if;
    return to_jsonb(v_job);
end;
$$;

-- The job's options (p_options: jobs columns, as the adapter's row mapping names them) and due time
-- replaced, only while it is pending, running or paused and its due time is still p_expected_due_at (null:
-- none set), so a reschedule and the processor's release cannot both win. The job as stored, or null.
create or replace function public.job_store_update_job(
    p_workspace_id text, p_job_id text, p_options jsonb, p_due_at timestamptz, p_expected_due_at timestamptz
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_job public.jobs;
begin
    update public.jobs as j
    set priority = r.priority, max_attempts = r.max_attempts, skip_existing = r.skip_existing,
        webhook_url = r.webhook_url, tags = coalesce(r.tags, '{}'),
        webhook_events = coalesce(r.webhook_events, '{job.completed}'), queue_window = r.queue_window,
        kind = coalesce(r.kind, 'enrichment'), run_at = r.run_at, max_credits = r.max_credits,
        max_cost_usd = r.max_cost_usd, due_at = p_due_at
    from jsonb_populate_record(null::public.jobs, p_options) as r
    where j.workspace_id = p_workspace_id and j.job_id = p_job_id
        and j.status in ('pending', 'running', 'paused')
        and j.due_at is not distinct from p_expected_due_at
    returning j.* into v_job;
    if v_job.job_id is null then
        return null;
    end if;
    return to_jsonb(v_job);
end;
$$;

-- The due time cleared, only while it is still p_due_at: of two racing releases exactly one gets true.
create or replace function public.job_store_release_due(
    p_workspace_id text, p_job_id text, p_due_at timestamptz
)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
begin
    update public.jobs as j
    set due_at = null
    where j.workspace_id = p_workspace_id and j.job_id = p_job_id and j.due_at = p_due_at;
    return found;
end;
$$;

-- Scheduled jobs of every workspace due at or before p_now, earliest first, at most p_limit, through
-- idx_jobs_due; one JSON array (a scalar: PostgREST's max-rows limit does not cut it).
create or replace function public.job_store_due_jobs(p_now timestamptz, p_limit integer)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    select coalesce(jsonb_agg(to_jsonb(due) order by due.due_at, due.workspace_id, due.job_id), '[]'::jsonb)
    from (
        select j.* from public.jobs as j
        where j.due_at <= p_now
        order by j.due_at, j.workspace_id, j.job_id
        limit least(greatest(p_limit, 0), 1000)
    ) as due
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Privileges, as 0002 sets them: only the service role may run the job store's functions.

do $$
declare
    f regprocedure;
begin
    for f in
        select p.oid::regprocedure from pg_proc as p
        where p.pronamespace = 'public'::regnamespace and p.proname like 'job\_store\_%'
    loop
        execute format('revoke all on function %s from public, anon, authenticated', f);
        execute format('grant execute on function %s to service_role', f);
    end loop;
end;
$$;

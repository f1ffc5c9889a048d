-- 0002_job_store: the job store's state changes as SQL functions, and per-minute activity rows.
--
-- The runtime's Supabase job store (layers/common/leadenrich/supabase/job_store.py) reaches the database
-- through PostgREST, which makes one HTTP request one transaction. A change that touches an item AND its
-- job's counters (and the workspace's activity) must commit or fail as a whole, so each one is a function
-- here, called by RPC (`POST /rest/v1/rpc/<name>`). The conditions are those of the JobStore port
-- (leadenrich/jobs/ports.py) and of the DynamoDB adapter:
--
--   * every state change is one conditional UPDATE ... WHERE <current state>; PostgreSQL takes the row's
--     lock and, when another transaction changed the row meanwhile, re-checks the WHERE against the
--     committed row (READ COMMITTED), so of two concurrent callers exactly one can match;
--   * locks are taken in one order everywhere (items, then their job, then the activity row), so two
--     transitions never wait on each other in a cycle;
--   * counters are added with the item transition that counts them, in the same transaction.
--
-- Money and time counters (credits_hunter, cost_perplexity_usd, processing_time_seconds) stay double
-- precision as 0001 made them, but are added in numeric: a stored double converts to numeric with 15
-- significant digits, so 0.1 + 0.1 + 0.1 is stored as the double nearest 0.3, as the DynamoDB store's
-- decimals give.
--
-- Every function is SECURITY INVOKER with an empty search_path: it runs with the caller's rights, and only
-- service_role may execute it (the Lambdas' role, which bypasses row-level security; every function takes
-- the workspace and filters on it itself). Idempotent: create or replace, if not exists.

-- ---------------------------------------------------------------------------------------------------------
-- job_activity: what finished items added per workspace and UTC minute (GET /metrics reads the last hour).
-- Written only by job_store_finish_item, in the transaction of the finish it counts; rows older than two
-- days are pruned when a minute's first finish creates its row. RLS on and no policy: only the service
-- role (which bypasses RLS) sees it.

create table if not exists public.job_activity (
    workspace_id text not null,
    minute timestamp with time zone not null,
    processed integer not null default 0,
    found integer not null default 0,
    failed integer not null default 0,

    primary key (workspace_id, minute)
);

alter table public.job_activity enable row level security;
revoke all on table public.job_activity from public, anon, authenticated;
grant select, insert, update, delete on table public.job_activity to service_role;

-- ---------------------------------------------------------------------------------------------------------
-- Counters: p_delta is a JSON object keyed by the jobs table's counter columns; absent keys add nothing.

create or replace function public.job_store_add_counters(p_workspace_id text, p_job_id text, p_delta jsonb)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
    update public.jobs as j
    set processed_leads = coalesce(j.processed_leads, 0)
            + coalesce((p_delta ->> 'processed_leads')::integer, 0),
        found_leads = j.found_leads + coalesce((p_delta ->> 'found_leads')::integer, 0),
        failed_leads = coalesce(j.failed_leads, 0) + coalesce((p_delta ->> 'failed_leads')::integer, 0),
        created_emails = coalesce(j.created_emails, 0) + coalesce((p_delta ->> 'created_emails')::integer, 0),
        api_calls_hunter = coalesce(j.api_calls_hunter, 0)
            + coalesce((p_delta ->> 'api_calls_hunter')::integer, 0),
        api_calls_perplexity = coalesce(j.api_calls_perplexity, 0)
            + coalesce((p_delta ->> 'api_calls_perplexity')::integer, 0),
        credits_hunter = (
            j.credits_hunter::numeric + coalesce((p_delta ->> 'credits_hunter')::numeric, 0)
        )::double precision,
        cost_perplexity_usd = (
            j.cost_perplexity_usd::numeric + coalesce((p_delta ->> 'cost_perplexity_usd')::numeric, 0)
        )::double precision,
        processing_time_seconds = (
            coalesce(j.processing_time_seconds, 0)::numeric
            + coalesce((p_delta ->> 'processing_time_seconds')::numeric, 0)
        )::double precision
    where j.workspace_id = p_workspace_id and j.job_id = p_job_id;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Creating a job: the job row and its first items in one transaction. p_job holds jobs columns, p_items an
-- array of job_items rows (item_id, lead, lead_id, status, attempts, ...); the workspace and job id of the
-- items are the job's. With an idempotency key already used in the workspace nothing is written and the
-- existing job comes back with created = false. A job id that exists raises unique_violation (23505).

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
        priority, max_attempts, skip_existing, webhook_url, tags,
        total_leads, processed_leads, found_leads, failed_leads, created_emails, api_calls_hunter,
        api_calls_perplexity, credits_hunter, cost_perplexity_usd, processing_time_seconds
    )
    select r.workspace_id, r.job_id, r.status, r.created_at, r.started_at, r.completed_at, r.idempotency_key,
        r.priority, r.max_attempts, r.skip_existing, r.webhook_url, coalesce(r.tags, '{}'),
        r.total_leads, r.processed_leads, r.found_leads, r.failed_leads, r.created_emails, r.api_calls_hunter,
        r.api_calls_perplexity, r.credits_hunter, r.cost_perplexity_usd, r.processing_time_seconds
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

-- More items of a job: the rest of a job being created (p_add_to_total false: its total counts them
-- already), or a page appended to a job being filled (p_add_to_total: its total grows by the page in the
-- same transaction, and only while the job is pending, i.e. before any of its items is enqueued, so no
-- processor can find it done meanwhile; otherwise nothing is written and object_not_in_prerequisite_state
-- (55000) is raised).
create or replace function public.job_store_add_items(
    p_workspace_id text, p_job_id text, p_items jsonb, p_add_to_total boolean
)
returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_count integer;
begin
    if p_add_to_total then
        update public.jobs as j
        set total_leads = coalesce(j.total_leads, 0) + jsonb_array_length(coalesce(p_items, '[]'::jsonb))
        where j.workspace_id = p_workspace_id and j.job_id = p_job_id and j.status = 'pending';
        if not found then
            raise exception 'job_id: job % is not pending', p_job_id
                using errcode = 'object_not_in_prerequisite_state';
        end if;
    end if;

    insert into public.job_items (
        workspace_id, job_id, item_id, lead, lead_id, status, attempts, reason, result, lease_token,
        lease_until, next_attempt_at
    )
    select p_workspace_id, p_job_id, r.item_id, r.lead, r.lead_id, coalesce(r.status, 'queued'),
        coalesce(r.attempts, 0), r.reason, r.result, r.lease_token, r.lease_until, r.next_attempt_at
    from jsonb_populate_recordset(null::public.job_items, coalesce(p_items, '[]'::jsonb)) as r;
    get diagnostics v_count = row_count;
    return v_count;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Items.

-- Take an item to run it: only if it is queued or deferred, or running with a lease that expired before
-- p_now, and its job is not cancelled. Sets running, the lease and attempts + 1. The claimed item, or null.
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
            where j.workspace_id = p_workspace_id and j.job_id = p_job_id and j.status <> 'cancelled'
        )
    returning i.* into v_item;
    if v_item.item_id is null then
        return null;
    end if;
    return to_jsonb(v_item);
end;
$$;

-- A terminal outcome, only while p_token holds the item (running with that lease token); the job's
-- counters and the workspace's activity minute get p_delta in the same transaction. False when the lease
-- was lost: nothing written, nothing counted.
create or replace function public.job_store_finish_item(
    p_workspace_id text, p_job_id text, p_item_id text, p_token text, p_status text, p_reason text,
    p_result jsonb, p_delta jsonb, p_now timestamptz
)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_new_minute boolean;
begin
    if p_status is null or p_status not in ('found', 'not_found', 'invalid', 'failed', 'skipped', 'dead') then
        raise exception 'status: % is not terminal', p_status using errcode = 'invalid_parameter_value';
    end if;
    update public.job_items as i
    set status = p_status, reason = p_reason, result = nullif(p_result, 'null'::jsonb), lease_token = null,
        lease_until = null, next_attempt_at = null
    where i.workspace_id = p_workspace_id and i.job_id = p_job_id and i.item_id = p_item_id
        and i.status = 'running' and i.lease_token = p_token;
    if not found then
        return false;
    end if;

    perform public.job_store_add_counters(p_workspace_id, p_job_id, p_delta);

    insert into public.job_activity as a (workspace_id, minute, processed, found, failed)
    values (
        p_workspace_id,
        date_trunc('minute', p_now, 'UTC'),
        coalesce((p_delta ->> 'processed_leads')::integer, 0),
        coalesce((p_delta ->> 'found_leads')::integer, 0),
        coalesce((p_delta ->> 'failed_leads')::integer, 0)
    )
    on conflict (workspace_id, minute) do update
        set processed = a.processed + excluded.processed,
            found = a.found + excluded.found,
            failed = a.failed + excluded.failed
    returning (a.xmax = 0) into v_new_minute;  -- xmax 0: inserted, not updated
    if v_new_minute then
        delete from public.job_activity as old
        where old.workspace_id = p_workspace_id and old.minute < p_now - interval '2 days';
    end if;
    return true;
end;
$$;

-- Hand a running item back (deferred, lease cleared), only while p_token holds it. Without
-- p_charge_attempt the claim's attempt is given back. p_spent (what the attempt cost) is added to the job's
-- counters in the same transaction; null adds nothing and leaves the job row alone.
create or replace function public.job_store_defer_item(
    p_workspace_id text, p_job_id text, p_item_id text, p_token text, p_reason text,
    p_next_attempt_at timestamptz, p_charge_attempt boolean, p_spent jsonb
)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
begin
    update public.job_items as i
    set status = 'deferred', reason = p_reason, next_attempt_at = p_next_attempt_at, lease_token = null,
        lease_until = null,
        attempts = case when p_charge_attempt then i.attempts else greatest(i.attempts - 1, 0) end
    where i.workspace_id = p_workspace_id and i.job_id = p_job_id and i.item_id = p_item_id
        and i.status = 'running' and i.lease_token = p_token;
    if not found then
        return false;
    end if;
    if p_spent is not null and p_spent <> 'null'::jsonb then
        perform public.job_store_add_counters(p_workspace_id, p_job_id, p_spent);
    end if;
    return true;
end;
$$;

-- A queued or deferred item of a cancelled job: skipped, and counted processed once (not in activity: it
-- did not run).
create or replace function public.job_store_skip_item(
    p_workspace_id text, p_job_id text, p_item_id text, p_reason text
)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
begin
    update public.job_items as i
    set status = 'skipped', reason = p_reason, next_attempt_at = null, lease_token = null, lease_until = null
    where i.workspace_id = p_workspace_id and i.job_id = p_job_id and i.item_id = p_item_id
        and i.status in ('queued', 'deferred');
    if not found then
        return false;
    end if;
    perform public.job_store_add_counters(p_workspace_id, p_job_id, '{"processed_leads": 1}'::jsonb);
    return true;
end;
$$;

-- The job's items in p_statuses (terminal ones: failed, dead) back to queued with attempts 0; the job's
-- processed (and failed, found) counters lose them and the job runs again. The items are locked as read
-- (FOR UPDATE re-checks their status after a concurrent change), so an item another transaction moved out
-- of p_statuses meanwhile is left alone. Returns the requeued items, in input order, as one JSON array
-- (a scalar: PostgREST's max-rows limit does not cut it).
create or replace function public.job_store_requeue_items(
    p_workspace_id text, p_job_id text, p_statuses text[]
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_ids text[];
    v_count integer;
    v_failed integer;
    v_found integer;
    v_items jsonb;
begin
    if exists (
        select 1 from unnest(p_statuses) as s
        where s not in ('found', 'not_found', 'invalid', 'failed', 'skipped', 'dead')
    ) then
        raise exception 'statuses: only terminal items can be requeued'
            using errcode = 'invalid_parameter_value';
    end if;

    select coalesce(array_agg(locked.item_id order by locked.item_id), '{}'), count(*),
        count(*) filter (where locked.status in ('failed', 'dead')),
        count(*) filter (where locked.status = 'found')
    into v_ids, v_count, v_failed, v_found
    from (
        select i.item_id, i.status from public.job_items as i
        where i.workspace_id = p_workspace_id and i.job_id = p_job_id and i.status = any(p_statuses)
        order by i.item_id
        for update
    ) as locked;
    if v_count = 0 then
        return '[]'::jsonb;
    end if;

    update public.job_items as i
    set status = 'queued', attempts = 0, reason = null, result = null, lease_token = null, lease_until = null,
        next_attempt_at = null
    where i.workspace_id = p_workspace_id and i.job_id = p_job_id and i.item_id = any(v_ids);

    perform public.job_store_add_counters(
        p_workspace_id, p_job_id,
        jsonb_build_object('processed_leads', -v_count, 'failed_leads', -v_failed, 'found_leads', -v_found)
    );
    update public.jobs as j
    set status = 'running', completed_at = null
    where j.workspace_id = p_workspace_id and j.job_id = p_job_id;

    select jsonb_agg(to_jsonb(i) order by i.item_id) into v_items
    from public.job_items as i
    where i.workspace_id = p_workspace_id and i.job_id = p_job_id and i.item_id = any(v_ids);
    return v_items;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Jobs.

-- pending -> running, once (the first claim does it).
create or replace function public.job_store_start_job(p_workspace_id text, p_job_id text, p_now timestamptz)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
begin
    update public.jobs as j
    set status = 'running', started_at = p_now
    where j.workspace_id = p_workspace_id and j.job_id = p_job_id and j.status = 'pending';
    return found;
end;
$$;

-- pending|running -> completed when every item is processed. The job comes back only to the caller whose
-- UPDATE made the change: a concurrent caller re-checks the status after the first one's commit and
-- matches nothing.
create or replace function public.job_store_complete_job_if_done(
    p_workspace_id text, p_job_id text, p_now timestamptz
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
    set status = 'completed', completed_at = p_now
    where j.workspace_id = p_workspace_id and j.job_id = p_job_id and j.status in ('pending', 'running')
        and coalesce(j.processed_leads, 0) >= coalesce(j.total_leads, 0)
    returning j.* into v_job;
    if v_job.job_id is null then
        return null;
    end if;
    return to_jsonb(v_job);
end;
$$;

-- pending|running -> cancelled. The job as it is afterwards (a finished job comes back unchanged), or null
-- when there is no such job. Items keep their results; the processor skips the remaining ones.
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
    set status = 'cancelled'
    where j.workspace_id = p_workspace_id and j.job_id = p_job_id and j.status in ('pending', 'running')
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

-- ---------------------------------------------------------------------------------------------------------
-- Reads that return a page as one JSON array (a scalar: PostgREST's max-rows limit does not cut it, so
-- the adapter's look-ahead row always arrives). Keyset pagination: the adapter's cursor holds the last
-- row's sort key.

-- Newest first; p_limit rows after (p_after_created_at, p_after_job_id).
create or replace function public.job_store_list_jobs(
    p_workspace_id text,
    p_limit integer,
    p_status text default null,
    p_tag text default null,
    p_after_created_at timestamptz default null,
    p_after_job_id text default null
)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    select coalesce(jsonb_agg(to_jsonb(page) order by page.created_at desc, page.job_id desc), '[]'::jsonb)
    from (
        select j.* from public.jobs as j
        where j.workspace_id = p_workspace_id
            and (p_status is null or j.status = p_status)
            and (p_tag is null or p_tag = any(j.tags))
            and (
                p_after_created_at is null
                or (j.created_at, j.job_id) < (p_after_created_at, p_after_job_id)
            )
        order by j.created_at desc, j.job_id desc
        limit least(greatest(p_limit, 0), 10001)
    ) as page
$$;

-- In input order (item ids are zero-padded); p_limit rows after p_after_item_id.
create or replace function public.job_store_list_items(
    p_workspace_id text,
    p_job_id text,
    p_limit integer,
    p_status text default null,
    p_after_item_id text default null
)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    select coalesce(jsonb_agg(to_jsonb(page) order by page.item_id), '[]'::jsonb)
    from (
        select i.* from public.job_items as i
        where i.workspace_id = p_workspace_id and i.job_id = p_job_id
            and (p_status is null or i.status = p_status)
            and (p_after_item_id is null or i.item_id > p_after_item_id)
        order by i.item_id
        limit least(greatest(p_limit, 0), 10001)
    ) as page
$$;

-- What job_store_finish_item counted for the workspace from p_since's minute to p_now's minute.
create or replace function public.job_store_activity(
    p_workspace_id text, p_since timestamptz, p_now timestamptz
)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    select jsonb_build_object(
        'processed', coalesce(sum(a.processed), 0),
        'found', coalesce(sum(a.found), 0),
        'failed', coalesce(sum(a.failed), 0)
    )
    from public.job_activity as a
    where a.workspace_id = p_workspace_id
        and a.minute between date_trunc('minute', p_since, 'UTC') and date_trunc('minute', p_now, 'UTC')
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Privileges: functions are executable by PUBLIC by default (and Supabase's default privileges grant them to
-- anon and authenticated too): only the service role may run these.

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

-- 0004_queue_window_progress: a job is fed into the queue a window at a time (leadenrich/jobs/window.py),
-- and may ask for progress callbacks.
--
-- jobs.queue_window     how many of the job's items are in the queue at a time; null: all of them were
--                       enqueued at creation (jobs made before this migration, or QUEUE_WINDOW=0)
-- job_items.sent_next   the item's successors were sent to the queue: set by the write of its first
--                       outcome (finish, deferral, hand-back, dead letter, skip), which the processor makes
--                       only after sending them, so a crash in between sends them again rather than never
-- jobs.webhook_events   what the job's webhook_url receives: job.completed (the default), job.progress
--
-- The functions below are 0002's with those columns added: create_job stores the window and the events;
-- finish_item, defer_item and skip_item set sent_next. skip_item also takes p_now and skips a running item
-- whose lease expired (its processor died, and no claim takes an item of a cancelled job), so it replaces
-- 0002's four-argument version. Privileges: create or replace keeps them; the new skip_item gets 0002's
-- (service_role only). Idempotent.

alter table public.jobs add column if not exists queue_window integer;
do $$
begin
    if not exists (
        select 1 from pg_constraint
        where conname = 'jobs_queue_window_check' and conrelid = 'public.jobs'::regclass
    ) then
        alter table public.jobs add constraint jobs_queue_window_check
            check (queue_window is null or queue_window > 0);
    end if;
end;
$$;
alter table public.job_items add column if not exists sent_next boolean not null default false;
alter table public.jobs add column if not exists webhook_events text[] not null default '{job.completed}';

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
        priority, max_attempts, skip_existing, webhook_url, tags, webhook_events, queue_window,
        total_leads, processed_leads, found_leads, failed_leads, created_emails, api_calls_hunter,
        api_calls_perplexity, credits_hunter, cost_perplexity_usd, processing_time_seconds
    )
    select r.workspace_id, r.job_id, r.status, r.created_at, r.started_at, r.completed_at, r.idempotency_key,
        r.priority, r.max_attempts, r.skip_existing, r.webhook_url, coalesce(r.tags, '{}'),
        coalesce(r.webhook_events, '{job.completed}'), r.queue_window,
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
        lease_until = null, next_attempt_at = null, sent_next = true
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
        attempts = case when p_charge_attempt then i.attempts else greatest(i.attempts - 1, 0) end,
        sent_next = true  -- hand-backs too: the processor sends the successors before every outcome
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


drop function if exists public.job_store_skip_item(text, text, text, text);

create or replace function public.job_store_skip_item(
    p_workspace_id text, p_job_id text, p_item_id text, p_reason text, p_now timestamptz
)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
begin
    update public.job_items as i
    set status = 'skipped', reason = p_reason, next_attempt_at = null, lease_token = null, lease_until = null,
        sent_next = true
    where i.workspace_id = p_workspace_id and i.job_id = p_job_id and i.item_id = p_item_id
        and (i.status in ('queued', 'deferred') or (i.status = 'running' and i.lease_until < p_now));
    if not found then
        return false;
    end if;
    perform public.job_store_add_counters(p_workspace_id, p_job_id, '{"processed_leads": 1}'::jsonb);
    return true;
end;
$$;

revoke all on function public.job_store_skip_item(text, text, text, text, timestamptz)
    from public, anon, authenticated;
grant execute on function public.job_store_skip_item(text, text, text, text, timestamptz) to service_role;

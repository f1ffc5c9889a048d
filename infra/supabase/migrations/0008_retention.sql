-- 0008_retention: the retention purge (docs/privacy.md "Retention"; leadenrich/jobs/retention.py).
--
-- PostgreSQL has no TTL, so the processor calls purge_expired at most once an hour (RetentionSchedule,
-- leadenrich/supabase/retention.py). It deletes, each by its workspace's period:
--   emails     addresses that are not `active` (unverified, undeliverable, inactive) whose last change
--              (updated_at, else created_at) is older than unverified_retention_days (default 30, seed 004);
--              active (verified) addresses are the customer's data and stay;
--   job_items  finished items (job_item_is_terminal) last changed longer ago than results_retention_days
--              (default 90), whatever their job's state, and every item of a job that is past it;
--   jobs       finished jobs (completed, failed, cancelled) last changed (updated_at: the trigger of 0001
--              keeps it, a cancel included) longer ago than results_retention_days, once their items are
--              gone; a pending, running or paused job is never deleted.
--
-- The periods are arguments, not a table here: the workspace settings live with the service (its DynamoDB
-- table or SQLite file), whatever JOB_STORE says, and the processor passes them in on each call:
--   p_retention        {"<workspace>": {"unverified_retention_days": n, "results_retention_days": n}, ...}
--                      for the workspaces with settings of their own (a field left out: the default)
--   p_unverified_days  the default period of addresses, p_results_days the default of jobs and items
--   p_batch            at most this many rows of each table per call (1 to 50,000), so one call stays a short
--                      transaction; the answer's `more` says a table had more, and the processor calls again
-- Answer: {"emails": n, "job_items": n, "jobs": n, "more": bool}. Rows another transaction holds are skipped
-- (`skip locked`): a purge never waits on, or blocks, the processor.
--
-- Only service_role may call it. Idempotent: create or replace.

create or replace function public.purge_expired(
    p_now timestamptz,
    p_retention jsonb default '{}'::jsonb,
    p_unverified_days integer default 30,
    p_results_days integer default 90,
    p_batch integer default 5000
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_batch integer;
    v_emails integer;
    v_items integer;
    v_jobs integer;
begin
    if p_now is null then
        raise exception 'now: required' using errcode = 'invalid_parameter_value';
    end if;
    if p_unverified_days is null or p_unverified_days < 1 or p_results_days is null or p_results_days < 1 then
        raise exception 'days: the default periods are at least 1 day' using errcode = 'invalid_parameter_value';
    end if;
    if p_retention is null or jsonb_typeof(p_retention) <> 'object' then
        raise exception 'retention: an object of workspaces' using errcode = 'invalid_parameter_value';
    end if;
    if exists (
        select 1
        from jsonb_each(p_retention) as w,
            lateral (values ('unverified_retention_days'), ('results_retention_days')) as f (name)
        where jsonb_typeof(w.value) <> 'object'
            or (w.value ? f.name and (
                jsonb_typeof(w.value -> f.name) <> 'number'
                or (w.value ->> f.name)::numeric < 1
                or (w.value ->> f.name)::numeric <> trunc((w.value ->> f.name)::numeric)
            ))
    ) then
        raise exception 'retention: each period is a whole number of days, at least 1'
            using errcode = 'invalid_parameter_value';
    end if;
    v_batch := least(greatest(coalesce(p_batch, 1), 1), 50000);

    with settings as (
        select w.key as workspace_id, (w.value ->> 'unverified_retention_days')::integer as days
        from jsonb_each(p_retention) as w
    ),
    doomed as (
        select e.id
        from public.emails as e
        left join settings as s on s.workspace_id = e.workspace_id
        where e.status <> 'active'
            and coalesce(e.updated_at, e.created_at)
                < p_now - make_interval(days => coalesce(s.days, p_unverified_days))
        limit v_batch
        for update of e skip locked
    )
    delete from public.emails as e using doomed as d where e.id = d.id;
    get diagnostics v_emails = row_count;

    with settings as (
        select w.key as workspace_id, (w.value ->> 'results_retention_days')::integer as days
        from jsonb_each(p_retention) as w
    ),
    expired_jobs as (
        select j.workspace_id, j.job_id
        from public.jobs as j
        left join settings as s on s.workspace_id = j.workspace_id
        where j.status in ('completed', 'failed', 'cancelled')
            and coalesce(j.updated_at, j.completed_at, j.created_at)
                < p_now - make_interval(days => coalesce(s.days, p_results_days))
    ),
    doomed as (
        select i.job_id, i.item_id
        from public.job_items as i
        left join settings as s on s.workspace_id = i.workspace_id
        where (
                public.job_item_is_terminal(i.status)
                and coalesce(i.updated_at, i.created_at)
                    < p_now - make_interval(days => coalesce(s.days, p_results_days))
            )
            or exists (
                select 1 from expired_jobs as x where x.workspace_id = i.workspace_id and x.job_id = i.job_id
            )
        limit v_batch
        for update of i skip locked
    )
    delete from public.job_items as i using doomed as d where i.job_id = d.job_id and i.item_id = d.item_id;
    get diagnostics v_items = row_count;

    with settings as (
        select w.key as workspace_id, (w.value ->> 'results_retention_days')::integer as days
        from jsonb_each(p_retention) as w
    ),
    doomed as (
        select j.id
        from public.jobs as j
        left join settings as s on s.workspace_id = j.workspace_id
        where j.status in ('completed', 'failed', 'cancelled')
            and coalesce(j.updated_at, j.completed_at, j.created_at)
                < p_now - make_interval(days => coalesce(s.days, p_results_days))
            and not exists (
                select 1 from public.job_items as i where i.workspace_id = j.workspace_id and i.job_id = j.job_id
            )
        limit v_batch
        for update of j skip locked
    )
    delete from public.jobs as j using doomed as d where j.id = d.id;
    get diagnostics v_jobs = row_count;

    return jsonb_build_object(
        'emails', v_emails,
        'job_items', v_items,
        'jobs', v_jobs,
        'more', v_emails >= v_batch or v_items >= v_batch or v_jobs >= v_batch
    );
end;
$$;

revoke all on function public.purge_expired(timestamptz, jsonb, integer, integer, integer)
    from public, anon, authenticated;
grant execute on function public.purge_expired(timestamptz, jsonb, integer, integer, integer) to service_role;

-- 0006_request_fingerprint: an Idempotency-Key is bound to the request that used it first.
--
-- jobs.request_fingerprint  SHA-256 of the validated request body that made the job under its
--                           idempotency_key (leadenrich.jobs.service.request_fingerprint); the same key with
--                           another body is refused instead of replayed. Null for jobs made before, and for
--                           jobs made without a key.
--
-- job_store_create_job is 0004's with the column written (and risky_leads, 0005's counter, which starts at
-- 0 like every counter). Privileges: create or replace keeps them. Idempotent.

alter table public.jobs add column if not exists request_fingerprint text;

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
        queue_window, total_leads, processed_leads, found_leads, risky_leads, failed_leads, created_emails,
        api_calls_hunter, api_calls_perplexity, credits_hunter, cost_perplexity_usd, processing_time_seconds
    )
    select r.workspace_id, r.job_id, r.status, r.created_at, r.started_at, r.completed_at, r.idempotency_key,
        r.request_fingerprint, r.priority, r.max_attempts, r.skip_existing, r.webhook_url,
        coalesce(r.tags, '{}'), coalesce(r.webhook_events, '{job.completed}'), r.queue_window,
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

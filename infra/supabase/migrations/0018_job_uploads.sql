-- 0018_job_uploads: jobs made from an uploaded CSV (issue 16 item 3; leadenrich/uploads/models.py; the
-- JobStore port's fail_job and ItemAppender in leadenrich/jobs/ports.py).
--
-- jobs.upload   the job option `JobOptions.upload`: where reading the uploaded file stands (the object's key
--               and size, the byte offset and line reached, the rows made and refused, the header's
--               columns), one JSON object the loader replaces through job_store_update_job as it reads;
--               null for every other job (every job made before)
--
-- Functions:
--   job_store_create_job(job, items)   0012's, storing upload too
--   job_store_update_job(...)          0007's, replacing upload too, and lawful_basis and company_data
--                                      (0009's and 0012's columns, which 0007's left as created): every
--                                      option, as the DynamoDB and SQLite stores replace them
--   job_store_add_items(...)           0002's; a page appended to a job being filled (p_add_to_total) now
--                                      also needs the job's total to be the page's first item (ids are
--                                      zero-padded sequence numbers), so the same page appended twice (a
--                                      loader that died before recording its progress, or two loaders) is
--                                      refused instead of counted twice, and the job could never complete
--   job_store_fail_job(ws, job, now)   new: pending -> failed (its input could not be read), completed_at
--                                      p_now, the due time cleared; the failed job, or null (unknown, or
--                                      not pending): only the caller whose UPDATE failed it gets it
--
-- SECURITY INVOKER, empty search_path; the job store's privileges (0002: the service role only), set again
-- at the end for every job_store_ function. Idempotent.

alter table public.jobs add column if not exists upload jsonb;

do $$
begin
    if not exists (
        select 1 from pg_constraint where conname = 'jobs_upload_check' and conrelid = 'public.jobs'::regclass
    ) then
        alter table public.jobs add constraint jobs_upload_check
            check (upload is null or jsonb_typeof(upload) = 'object');
    end if;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Creating a job: 0012's, storing upload too.

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
        queue_window, kind, run_at, max_credits, max_cost_usd, paused_reason, due_at, lawful_basis, company_data,
        upload, total_leads, processed_leads, found_leads, risky_leads, failed_leads, created_emails,
        api_calls_hunter, api_calls_perplexity, credits_hunter, cost_perplexity_usd, processing_time_seconds
    )
    select r.workspace_id, r.job_id, r.status, r.created_at, r.started_at, r.completed_at, r.idempotency_key,
        r.request_fingerprint, r.priority, r.max_attempts, r.skip_existing, r.webhook_url,
        coalesce(r.tags, '{}'), coalesce(r.webhook_events, '{job.completed}'), r.queue_window,
        coalesce(r.kind, 'enrichment'), r.run_at, r.max_credits, r.max_cost_usd, r.paused_reason, r.due_at,
        coalesce(r.lawful_basis, 'legitimate_interest'), coalesce(r.company_data, false), r.upload,
        r.total_leads, r.processed_leads, r.found_leads, coalesce(r.risky_leads, 0), r.failed_leads,
        r.created_emails, r.api_calls_hunter, r.api_calls_perplexity, r.credits_hunter, r.cost_perplexity_usd,
        r.processing_time_seconds
    from jsonb_populate_record(null::public.jobs, p_job) as r
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
-- Replacing a job's options: 0007's, with every option (p_options: jobs columns, as the adapter's row
-- mapping names them; an option it leaves out is written as its default, as 0007's did).

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
        max_cost_usd = r.max_cost_usd, lawful_basis = coalesce(r.lawful_basis, 'legitimate_interest'),
        company_data = coalesce(r.company_data, false), upload = r.upload, due_at = p_due_at
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

-- ---------------------------------------------------------------------------------------------------------
-- More items of a job: 0002's. A page appended to a job being filled (p_add_to_total) grows its total in
-- the same transaction, only while the job is pending and its total is the page's first item id (a
-- zero-padded sequence number): otherwise nothing is written and object_not_in_prerequisite_state (55000)
-- is raised, and the adapter reads the job to say why (no longer pending, the page stored already, or a
-- page past the total).

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
    v_first text := p_items -> 0 ->> 'item_id';
    v_start bigint;
begin
    if p_add_to_total then
        if v_first is not null then
            if v_first !~ '^[0-9]{1,18}$' then
                raise exception 'items: item id % is not a sequence number', v_first
                    using errcode = 'invalid_parameter_value';
            end if;
            v_start := v_first::bigint;
        end if;
        update public.jobs as j
        set total_leads = coalesce(j.total_leads, 0) + jsonb_array_length(coalesce(p_items, '[]'::jsonb))
        where j.workspace_id = p_workspace_id and j.job_id = p_job_id and j.status = 'pending'
            and (v_start is null or coalesce(j.total_leads, 0) = v_start);
        if not found then
            raise exception 'job_id: job % is not pending, or its total is not where the page starts', p_job_id
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
-- pending -> failed: a job whose input could not be read. One conditional UPDATE, as 0007's job control:
-- of two callers, the second re-checks the status after the first one's commit and matches nothing. Its
-- retention starts with this change (0008's purge takes failed jobs by updated_at, with their items).

create or replace function public.job_store_fail_job(p_workspace_id text, p_job_id text, p_now timestamptz)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_job public.jobs;
begin
    update public.jobs as j
    set status = 'failed', completed_at = p_now, due_at = null
    where j.workspace_id = p_workspace_id and j.job_id = p_job_id and j.status = 'pending'
    returning j.* into v_job;
    if v_job.job_id is null then
        return null;
    end if;
    return to_jsonb(v_job);
end;
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

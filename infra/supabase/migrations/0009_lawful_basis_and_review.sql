-- 0009_lawful_basis_and_review: the lawful basis a job records and every address it stores carries, and
-- contact approval (issue 14; docs/privacy.md "Lawful basis and region" and "Contact approval";
-- leadenrich/privacy/review.py). 0008 is left to the retention and erasure work.
--
-- jobs.lawful_basis     legitimate_interest (the default, and what every job made before reads as) |
--                       consent | contract
-- emails.lawful_basis   the basis of the job that wrote the row; null for rows written before
-- emails.review         approved when the address was written after a reviewer approved it; null when no
--                       review was asked. Addresses pending review (or rejected) are not written at all:
--                       the sink holds them until approved.
-- job_items             the review state lives in the item's result (per address `review`, and the count
--                       `review_pending`): idx_job_items_review is partial, on the items with a pending
--                       address only, in the order contact_review_queue reads a workspace's queue.
--
-- Functions: job_store_create_job is 0007's, storing lawful_basis too; upsert_emails is 0005's, writing
-- lawful_basis and review (from contact_email_privacy, beside 0005's email_write_batch, whose result type
-- must stay as 0005 declares it for 0005 to apply again). New: contact_review_pending (the index's
-- predicate), contact_review_queue (a keyset page of the queue), contact_review_replace_result (a
-- compare-and-set of an item's result: a decision lands only on the result it was made on). Privileges:
-- the new contact_review_ functions as 0002's (service_role only). Idempotent.

alter table public.jobs add column if not exists lawful_basis text not null default 'legitimate_interest';
alter table public.emails add column if not exists lawful_basis text;
alter table public.emails add column if not exists review text;

do $$
begin
    if not exists (
        select 1 from pg_constraint
        where conname = 'jobs_lawful_basis_check' and conrelid = 'public.jobs'::regclass
    ) then
        alter table public.jobs add constraint jobs_lawful_basis_check
            check (lawful_basis in ('legitimate_interest', 'consent', 'contract'));
    end if;
    if not exists (
        select 1 from pg_constraint
        where conname = 'emails_lawful_basis_check' and conrelid = 'public.emails'::regclass
    ) then
        alter table public.emails add constraint emails_lawful_basis_check
            check (lawful_basis is null or lawful_basis in ('legitimate_interest', 'consent', 'contract'));
    end if;
    if not exists (
        select 1 from pg_constraint
        where conname = 'emails_review_check' and conrelid = 'public.emails'::regclass
    ) then
        alter table public.emails add constraint emails_review_check
            check (review is null or review in ('pending', 'approved', 'rejected'));
    end if;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Creating a job: 0007's, storing lawful_basis too.

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
        queue_window, kind, run_at, max_credits, max_cost_usd, paused_reason, due_at, lawful_basis,
        total_leads, processed_leads, found_leads, risky_leads, failed_leads, created_emails,
        api_calls_hunter, api_calls_perplexity, credits_hunter, cost_perplexity_usd, processing_time_seconds
    )
    select r.workspace_id, r.job_id, r.status, r.created_at, r.started_at, r.completed_at, r.idempotency_key,
        r.request_fingerprint, r.priority, r.max_attempts, r.skip_existing, r.webhook_url,
        coalesce(r.tags, '{}'), coalesce(r.webhook_events, '{job.completed}'), r.queue_window,
        coalesce(r.kind, 'enrichment'), r.run_at, r.max_credits, r.max_cost_usd, r.paused_reason, r.due_at,
        coalesce(r.lawful_basis, 'legitimate_interest'),
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
-- The review queue.

-- Whether an item's result has an address pending review. A CASE, so a `review_pending` that is not a
-- number is never cast (an index predicate that raises would refuse the item's write).
create or replace function public.contact_review_pending(p_result jsonb)
returns boolean
language sql
immutable
set search_path = ''
as $$
    select case
        when jsonb_typeof(p_result -> 'review_pending') = 'number'
            then (p_result ->> 'review_pending')::numeric > 0
        else false
    end
$$;

create index if not exists idx_job_items_review on public.job_items (workspace_id, job_id, item_id)
    where public.contact_review_pending(result);

-- A page of the workspace's queue after (p_after_job_id, p_after_item_id) ('' and '' for the first), by
-- job id then item id, as one JSON array (never a set: PostgREST's max-rows would cut it).
create or replace function public.contact_review_queue(
    p_workspace_id text, p_after_job_id text, p_after_item_id text, p_limit integer
)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    select coalesce(jsonb_agg(to_jsonb(page) order by page.job_id, page.item_id), '[]'::jsonb)
    from (
        select i.* from public.job_items as i
        where i.workspace_id = p_workspace_id and public.contact_review_pending(i.result)
            and (i.job_id, i.item_id) > (p_after_job_id, p_after_item_id)
        order by i.job_id, i.item_id
        limit least(greatest(p_limit, 0), 1001)
    ) as page
$$;

-- The item's result replaced, only while it is still p_expected (jsonb equality: the value, not its
-- spelling); true for the caller whose UPDATE did it. Two decisions on one item: the second re-checks the
-- WHERE against the first one's committed row, fails, and its caller reads again.
create or replace function public.contact_review_replace_result(
    p_workspace_id text, p_job_id text, p_item_id text, p_expected jsonb, p_result jsonb
)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
    update public.job_items as i
    set result = p_result
    where i.workspace_id = p_workspace_id and i.job_id = p_job_id and i.item_id = p_item_id
        and i.result = p_expected;
    return found;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- The email sink: 0005's upsert, writing each row's lawful basis and review state too.

-- The lawful basis and review of each address of a batch (one row per address, as email_write_batch
-- keeps them; every address of one write carries the same values).
create or replace function public.contact_email_privacy(p_rows jsonb)
returns table (workspace_id text, lead_id uuid, email text, lawful_basis text, review text)
language sql
stable
security invoker
set search_path = ''
as $$
    select distinct on (1, 2, 3)
        e.value ->> 'workspace_id', (e.value ->> 'lead_id')::uuid, lower(btrim(e.value ->> 'email')),
        e.value ->> 'lawful_basis', e.value ->> 'review'
    from jsonb_array_elements(p_rows) as e
    order by 1, 2, 3
$$;

create or replace function public.upsert_emails(p_rows jsonb)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
    v_total integer;
    v_known integer;
    v_inserted integer;
    v_updated integer;
begin
    if jsonb_typeof(p_rows) is distinct from 'array' then
        raise exception 'p_rows: must be a JSON array' using errcode = '22023';
    end if;
    if jsonb_array_length(p_rows) > 1000 then
        raise exception 'p_rows: at most 1000 rows per call' using errcode = '22023';
    end if;

    perform 1 from public.leads as l
    where (l.workspace_id, l.id) in (
        select b.workspace_id, b.lead_id from public.email_write_batch(p_rows) as b
    )
    order by l.id
    for update of l;

    update public.emails as em
    set email_type = 'secondary'
    from public.email_write_batch(p_rows) as b
    where b.email_type = 'primary'
        and em.workspace_id = b.workspace_id
        and em.lead_id = b.lead_id
        and em.email_type = 'primary'
        and em.email <> b.email;

    select count(*) into v_total from public.email_write_batch(p_rows);

    with written as (
        insert into public.emails as em (
            workspace_id, lead_id, email, source, confidence_score, email_type, hunter_status, status,
            verified_at, deliverability, contact, lawful_basis, review
        )
        select b.workspace_id, b.lead_id, b.email, b.source, b.confidence_score, b.email_type,
            b.hunter_status, b.status, b.verified_at, b.deliverability, b.contact, p.lawful_basis, p.review
        from public.email_write_batch(p_rows) as b
        join public.leads as l on l.workspace_id = b.workspace_id and l.id = b.lead_id
        left join public.contact_email_privacy(p_rows) as p
            on p.workspace_id = b.workspace_id and p.lead_id = b.lead_id and p.email = b.email
        on conflict (lead_id, email) do update
        set source = excluded.source,
            confidence_score = excluded.confidence_score,
            email_type = case when excluded.email_type = 'primary' then 'primary' else em.email_type end,
            hunter_status = excluded.hunter_status,
            status = excluded.status,
            verified_at = coalesce(excluded.verified_at, em.verified_at),
            deliverability = excluded.deliverability,
            contact = coalesce(excluded.contact, em.contact),
            lawful_basis = coalesce(excluded.lawful_basis, em.lawful_basis),
            review = coalesce(excluded.review, em.review)
        where (
            em.source, em.confidence_score, em.email_type, em.hunter_status, em.status, em.verified_at,
            em.deliverability, em.contact, em.lawful_basis, em.review
        ) is distinct from (
            excluded.source, excluded.confidence_score,
            case when excluded.email_type = 'primary' then 'primary' else em.email_type end,
            excluded.hunter_status, excluded.status, coalesce(excluded.verified_at, em.verified_at),
            excluded.deliverability, coalesce(excluded.contact, em.contact),
            coalesce(excluded.lawful_basis, em.lawful_basis), coalesce(excluded.review, em.review)
        )
        returning (xmax = 0) as inserted
    )
    select count(*) filter (where inserted), count(*) filter (where not inserted)
    into v_inserted, v_updated
    from written;

    select count(*) into v_known
    from public.email_write_batch(p_rows) as b
    join public.leads as l on l.workspace_id = b.workspace_id and l.id = b.lead_id;

    return jsonb_build_object(
        'inserted', v_inserted,
        'updated', v_updated,
        'unchanged', v_known - v_inserted - v_updated,
        'skipped', v_total - v_known
    );
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Privileges. The review functions: the service role only, as 0002's. contact_email_privacy serves
-- upsert_emails, which signed-in users may call too (0003), so it is theirs as email_write_batch is.

do $$
declare
    f text;
begin
    foreach f in array array[
        'public.contact_review_queue(text, text, text, integer)',
        'public.contact_review_replace_result(text, text, text, jsonb, jsonb)'
    ] loop
        execute format('revoke all on function %s from public, anon, authenticated', f);
        execute format('grant execute on function %s to service_role', f);
    end loop;
end;
$$;
revoke all on function public.contact_review_pending(jsonb) from public, anon;
grant execute on function public.contact_review_pending(jsonb) to authenticated, service_role;
revoke all on function public.contact_email_privacy(jsonb) from public, anon;
grant execute on function public.contact_email_privacy(jsonb) to authenticated, service_role;

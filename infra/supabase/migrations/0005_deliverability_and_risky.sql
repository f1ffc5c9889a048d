-- 0005_deliverability_and_risky: `found` means verified; unverifiable addresses are graded (docs/engine.md,
-- "Deliverability tiers").
--
-- emails.deliverability  verified | high_probability | catch_all | unknown | undeliverable; rows written
--                        before this migration, and rows written without one, get the grade their fields
--                        imply (implied_deliverability: active -> verified, Hunter `undeliverable` ->
--                        undeliverable, Hunter `risky`, an accept-all domain -> catch_all, since the
--                        evidence that could make one high_probability was not kept; else unknown). NOT
--                        NULL, and `active` exactly when `verified`.
-- emails.contact         decision_maker | named_person | generic; null for rows written before (what the
--                        lead asked for was not kept with them).
-- job_items.status       gains `risky`: a finished item whose addresses are all unverifiable.
-- jobs.risky_leads       how many of a job's items ended `risky` (found_leads counts only `found`).
--
-- `public.job_item_is_terminal` now names the terminal item statuses once; 0004's finish_item and 0002's
-- requeue_items are replaced to use it, and add_counters and requeue_items to count risky_leads. 0003's email_upsert_batch gives way to
-- email_write_batch, the same with the two new columns (a new name: a function's result columns cannot be
-- changed in place, and 0003 run again must still apply), and upsert_emails writes them (an upsert keeps a
-- row's contact when the batch has none). Idempotent: safe to run again, 0001-0004 included, with rows.

create or replace function public.implied_deliverability(p_status text, p_hunter_status text)
returns text
language sql
immutable
set search_path = ''
as $$
    select case
        when p_status = 'active' then 'verified'
        when p_hunter_status = 'undeliverable' then 'undeliverable'
        when p_hunter_status = 'risky' then 'catch_all'
        else 'unknown'
    end
$$;

-- A writer that does not know the grade (the original design's clients, a hand-made row) gets the one its
-- fields imply, so NOT NULL never refuses it, nor the check an update of `status` alone.
create or replace function public.emails_fill_deliverability()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.deliverability is null or (
        tg_op = 'UPDATE' and new.deliverability is not distinct from old.deliverability
        and (new.status, new.hunter_status) is distinct from (old.status, old.hunter_status)
    ) then
        new.deliverability := public.implied_deliverability(new.status, new.hunter_status);
    end if;
    return new;
end;
$$;

alter table public.emails add column if not exists deliverability text;
update public.emails
set deliverability = public.implied_deliverability(status, hunter_status)
where deliverability is null;
alter table public.emails alter column deliverability set not null;

drop trigger if exists emails_fill_deliverability on public.emails;
create trigger emails_fill_deliverability
    before insert or update on public.emails
    for each row execute function public.emails_fill_deliverability();
alter table public.emails add column if not exists contact text;

do $$
begin
    if not exists (
        select 1 from pg_constraint
        where conname = 'emails_deliverability_check' and conrelid = 'public.emails'::regclass
    ) then
        alter table public.emails add constraint emails_deliverability_check check (
            deliverability in ('verified', 'high_probability', 'catch_all', 'unknown', 'undeliverable')
            -- an active address is a verified one, and only a verified one is active
            and ((status = 'active') = (deliverability = 'verified'))
        );
    end if;
    if not exists (
        select 1 from pg_constraint
        where conname = 'emails_contact_check' and conrelid = 'public.emails'::regclass
    ) then
        alter table public.emails add constraint emails_contact_check
            check (contact is null or contact in ('decision_maker', 'named_person', 'generic'));
    end if;
end;
$$;

create index if not exists idx_emails_deliverability on public.emails (deliverability);

-- ---------------------------------------------------------------------------------------------------------
-- Item statuses and the risky counter.

alter table public.jobs add column if not exists risky_leads integer not null default 0;

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
        risky_leads = j.risky_leads + coalesce((p_delta ->> 'risky_leads')::integer, 0),
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

create or replace function public.job_item_is_terminal(p_status text)
returns boolean
language sql
immutable
set search_path = ''
as $$
    select p_status in ('found', 'risky', 'not_found', 'invalid', 'failed', 'skipped', 'dead')
$$;

alter table public.job_items drop constraint if exists job_items_status_check;
alter table public.job_items add constraint job_items_status_check
    check (status in ('queued', 'running', 'deferred') or public.job_item_is_terminal(status));

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
    if p_status is null or not public.job_item_is_terminal(p_status) then
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
    v_risky integer;
    v_items jsonb;
begin
    if exists (select 1 from unnest(p_statuses) as s where not public.job_item_is_terminal(s)) then
        raise exception 'statuses: only terminal items can be requeued'
            using errcode = 'invalid_parameter_value';
    end if;

    select coalesce(array_agg(locked.item_id order by locked.item_id), '{}'), count(*),
        count(*) filter (where locked.status in ('failed', 'dead')),
        count(*) filter (where locked.status = 'found'),
        count(*) filter (where locked.status = 'risky')
    into v_ids, v_count, v_failed, v_found, v_risky
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
        jsonb_build_object(
            'processed_leads', -v_count, 'failed_leads', -v_failed, 'found_leads', -v_found,
            'risky_leads', -v_risky
        )
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

revoke all on function public.job_item_is_terminal(text) from public, anon, authenticated;
grant execute on function public.job_item_is_terminal(text) to authenticated, service_role;
revoke all on function public.implied_deliverability(text, text) from public, anon;
grant execute on function public.implied_deliverability(text, text) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------
-- The email sink: 0003's batch and upsert, with deliverability and contact.

create or replace function public.email_write_batch(p_rows jsonb)
returns table (
    workspace_id text,
    lead_id uuid,
    email text,
    source text,
    confidence_score integer,
    email_type text,
    hunter_status text,
    status text,
    verified_at timestamp with time zone,
    deliverability text,
    contact text
)
language sql
stable
security invoker
set search_path = ''
as $$
    with raw as (
        select e.ordinality as ord,
            e.value ->> 'workspace_id' as workspace_id,
            (e.value ->> 'lead_id')::uuid as lead_id,
            lower(btrim(e.value ->> 'email')) as email,
            e.value ->> 'source' as source,
            (e.value ->> 'confidence_score')::integer as confidence_score,
            e.value ->> 'email_type' as email_type,
            e.value ->> 'hunter_status' as hunter_status,
            coalesce(e.value ->> 'status', 'inactive') as status,
            (e.value ->> 'verified_at')::timestamp with time zone as verified_at,
            e.value ->> 'deliverability' as deliverability,  -- null: the trigger fills what the row implies
            e.value ->> 'contact' as contact
        from jsonb_array_elements(p_rows) with ordinality as e
    ),
    one_per_address as (
        select distinct on (r.workspace_id, r.lead_id, r.email) r.*
        from raw as r
        order by r.workspace_id, r.lead_id, r.email, (r.email_type = 'primary') desc,
            r.confidence_score desc nulls last, r.ord
    ),
    ranked as (
        select o.*, row_number() over (
            partition by o.workspace_id, o.lead_id
            order by (o.email_type = 'primary') desc, o.confidence_score desc nulls last, o.ord
        ) as rank
        from one_per_address as o
    )
    select r.workspace_id, r.lead_id, r.email, r.source, r.confidence_score,
        case when r.email_type = 'primary' and r.rank = 1 then 'primary' else 'secondary' end,
        r.hunter_status, r.status, r.verified_at, r.deliverability, r.contact
    from ranked as r
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
            verified_at, deliverability, contact
        )
        select b.workspace_id, b.lead_id, b.email, b.source, b.confidence_score, b.email_type,
            b.hunter_status, b.status, b.verified_at, b.deliverability, b.contact
        from public.email_write_batch(p_rows) as b
        join public.leads as l on l.workspace_id = b.workspace_id and l.id = b.lead_id
        on conflict (lead_id, email) do update
        set source = excluded.source,
            confidence_score = excluded.confidence_score,
            email_type = case when excluded.email_type = 'primary' then 'primary' else em.email_type end,
            hunter_status = excluded.hunter_status,
            status = excluded.status,
            verified_at = coalesce(excluded.verified_at, em.verified_at),
            deliverability = excluded.deliverability,
            contact = coalesce(excluded.contact, em.contact)
        where (
            em.source, em.confidence_score, em.email_type, em.hunter_status, em.status, em.verified_at,
            em.deliverability, em.contact
        ) is distinct from (
            excluded.source, excluded.confidence_score,
            case when excluded.email_type = 'primary' then 'primary' else em.email_type end,
            excluded.hunter_status, excluded.status, coalesce(excluded.verified_at, em.verified_at),
            excluded.deliverability, coalesce(excluded.contact, em.contact)
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

drop function if exists public.email_upsert_batch(jsonb);
revoke all on function public.email_write_batch(jsonb) from public, anon;
grant execute on function public.email_write_batch(jsonb) to authenticated, service_role;

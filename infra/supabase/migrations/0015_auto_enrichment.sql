-- 0015_auto_enrichment: a lead's enrichment record (seed 002's fields) on `leads`, and the re-enrichment
-- window that ends the nightly cost leak (issue 15 part 2; docs/auto-enrichment.md).
--
-- leads.enrichment_status     pending | completed | failed | deferred (null: never enqueued)
-- leads.enrichment_outcome    the engine's last verdict: found | risky | not_found | invalid | failed
-- leads.enriched_at           when the last item of the lead finished
-- leads.enrichment_error      why it failed (null when completed)
-- leads.sources_used          providers that answered (a call or a cached answer): hunter, perplexity
-- leads.sources_failed        the provider whose problem stopped it
--
-- Functions:
--   record_lead_enrichments(rows)   each row {workspace_id, lead_id, status, outcome, enriched_at, error,
--                                   sources_used, sources_failed}: written unless the lead holds a newer
--                                   record (a late retry never overwrites a later run). At most 1,000 rows,
--                                   one transaction; answers the leads updated. Idempotent
--   enrichable_leads(ws, skip, after, limit, reenrich_after_days)
--                                   0003's, and a lead whose last enrichment ended invalid, not_found or
--                                   risky less than reenrich_after_days ago is left out (0: none left out,
--                                   `force`)
--   count_enrichable_leads(ws, after, reenrich_after_days, through_id)
--                                   0003's counts, and `recent` / `recent_missing_email`: the leads with a
--                                   domain the window leaves out (of them, those without an active email);
--                                   through_id bounds the range counted (a job that stopped at its limit)
--
-- The window's cost: the filter reads enrichment_outcome and enriched_at of rows the keyset scan visits
-- already; no index needed. SECURITY INVOKER, empty search_path, authenticated and service_role only (as
-- 0003). Idempotent.

alter table public.leads add column if not exists enrichment_status text;
alter table public.leads add column if not exists enrichment_outcome text;
alter table public.leads add column if not exists enriched_at timestamp with time zone;
alter table public.leads add column if not exists enrichment_error text;
alter table public.leads add column if not exists sources_used text[] not null default '{}';
alter table public.leads add column if not exists sources_failed text[] not null default '{}';

do $$
begin
    if not exists (select 1 from pg_constraint where conname = 'leads_enrichment_check') then
        alter table public.leads add constraint leads_enrichment_check
            check ((enrichment_status is null
                    or enrichment_status in ('pending', 'completed', 'failed', 'deferred'))
                and (enrichment_outcome is null
                    or enrichment_outcome in ('found', 'risky', 'not_found', 'invalid', 'failed')));
    end if;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Writing a finished item's record on its lead.

create or replace function public.record_lead_enrichments(p_rows jsonb)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
    v_updated integer;
begin
    if jsonb_typeof(p_rows) is distinct from 'array' then
        raise exception 'p_rows: must be a JSON array' using errcode = '22023';
    end if;
    if jsonb_array_length(p_rows) > 1000 then
        raise exception 'p_rows: at most 1000 rows per call' using errcode = '22023';
    end if;
    with given as (
        select r.value ->> 'workspace_id' as workspace_id,
            (r.value ->> 'lead_id')::uuid as lead_id,
            r.value ->> 'status' as status,
            nullif(r.value ->> 'outcome', '') as outcome,
            (r.value ->> 'enriched_at')::timestamptz as enriched_at,
            nullif(r.value ->> 'error', '') as error,
            array(select jsonb_array_elements_text(coalesce(r.value -> 'sources_used', '[]'))) as used,
            array(select jsonb_array_elements_text(coalesce(r.value -> 'sources_failed', '[]'))) as failed
        from jsonb_array_elements(p_rows) as r
    )
    update public.leads as l
    set enrichment_status = g.status,
        enrichment_outcome = g.outcome,
        enriched_at = g.enriched_at,
        enrichment_error = g.error,
        sources_used = g.used,
        sources_failed = g.failed,
        updated_at = now()
    from given as g
    where l.workspace_id = g.workspace_id
        and l.id = g.lead_id
        and (l.enriched_at is null or l.enriched_at <= g.enriched_at);
    get diagnostics v_updated = row_count;
    return v_updated;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- process_all with the re-enrichment window. The old signature is dropped so PostgREST never has two
-- candidates for one call.

drop function if exists public.enrichable_leads(text, boolean, uuid, integer);
drop function if exists public.count_enrichable_leads(text, uuid);

-- Whether a lead's last enrichment ended without an active address recently enough to leave it out.
create or replace function public.lead_recently_unresolved(
    p_outcome text, p_enriched_at timestamp with time zone, p_days integer
)
returns boolean
language sql
stable
parallel safe
set search_path = ''
as $$
    select coalesce(
        coalesce(p_days, 0) > 0
            and p_outcome in ('invalid', 'not_found', 'risky')
            and p_enriched_at > now() - make_interval(days => p_days),
        false
    )
$$;

create or replace function public.enrichable_leads(
    p_workspace_id text,
    p_skip_existing boolean default true,
    p_after_id uuid default null,
    p_limit integer default 500,
    p_reenrich_after_days integer default 0
)
returns table (
    id uuid,
    domain text,
    company_name text,
    first_name text,
    last_name text,
    external_id text
)
language sql
stable
security invoker
set search_path = ''
as $$
    select l.id, l.domain, l.company_name, l.first_name, l.last_name, l.external_id
    from public.leads as l
    where l.workspace_id = p_workspace_id
        and l.id > coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid)
        and btrim(l.domain) <> ''
        and not public.lead_recently_unresolved(l.enrichment_outcome, l.enriched_at, p_reenrich_after_days)
        and not (
            coalesce(p_skip_existing, true)
            and exists (
                select 1 from public.emails as e
                where e.lead_id = l.id and e.workspace_id = l.workspace_id and e.status = 'active'
            )
        )
    order by l.id
    limit least(greatest(coalesce(p_limit, 500), 1), 1000)
$$;

create or replace function public.count_enrichable_leads(
    p_workspace_id text,
    p_after_id uuid default null,
    p_reenrich_after_days integer default 0,
    p_through_id uuid default null
)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    with flagged as (
        select not exists (
                select 1 from public.emails as e
                where e.lead_id = l.id and e.workspace_id = l.workspace_id and e.status = 'active'
            ) as missing,
            public.lead_recently_unresolved(l.enrichment_outcome, l.enriched_at, p_reenrich_after_days)
                as recent
        from public.leads as l
        where l.workspace_id = p_workspace_id
            and l.id > coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid)
            and (p_through_id is null or l.id <= p_through_id)
            and btrim(l.domain) <> ''
    )
    select jsonb_build_object(
        'with_domain', count(*),
        'missing_email', count(*) filter (where f.missing),
        'recent', count(*) filter (where f.recent),
        'recent_missing_email', count(*) filter (where f.recent and f.missing)
    )
    from flagged as f
$$;

do $$
declare
    f text;
begin
    foreach f in array array[
        'public.record_lead_enrichments(jsonb)',
        'public.lead_recently_unresolved(text, timestamp with time zone, integer)',
        'public.enrichable_leads(text, boolean, uuid, integer, integer)',
        'public.count_enrichable_leads(text, uuid, integer, uuid)'
    ] loop
        execute format('revoke all on function %s from public, anon', f);
        execute format('grant execute on function %s to authenticated, service_role', f);
    end loop;
end;
$$;

-- 0012_company_data: a lead's company data and how a name-only lead got its domain (issue 15 part 3;
-- docs/company-data.md; leadenrich/supabase/company_sink.py).
--
-- leads.industry, company_size, location     0001's columns, now filled: the company's industry, headcount
--                                            range ("11-50") and "City, Country"
-- leads.company_description                  the provider's description of the company
-- leads.company_country                      ISO 3166-1 alpha-2 when the provider gave one
-- leads.company_data                         the whole profile as the engine keeps it (CompanyProfile's
--                                            record: name, sector, founded year, LinkedIn, technologies...)
-- leads.company_completeness                 0-100, how full the record is (the engine's weights)
-- leads.company_enriched_at                  when the provider answered; older than the maximum age (90
--                                            days by default) is due again (company_stale_leads)
-- leads.domain_confidence, domain_resolved_by  for a lead stored with a company name and no domain: how sure
--                                            the resolution was (0-100) and how it was made (discover |
--                                            domain_search)
-- jobs.company_data                          the job option: each lead's company is fetched too
--
-- Functions:
--   save_lead_companies(rows)          each row {workspace_id, lead_id, profile?, resolved_domain?,
--                                      confidence?, method?}: the company columns written from the profile
--                                      (never over a newer one), the resolved domain written only on a
--                                      lead stored without one; the leads updated. One request, one
--                                      transaction, at most 1,000 rows; idempotent
--   company_stale_leads(ws, max_age_days, after_id, limit)
--                                      leads with a domain whose company data is missing or older than
--                                      max_age_days, a keyset page by id (the sweep's selection)
--   register_leads(ws, leads)          0003's, and a lead may now come with a company name and no domain:
--                                      it matches a stored lead without a domain by company name and names
--                                      (case-insensitive), or is added with an empty domain
--   job_store_create_job(job, items)   0009's, storing company_data too
--
-- What the sweep costs: company_stale_leads reads the workspace's leads in id order through
-- idx_leads_workspace_id (0001) and filters on company_enriched_at: fine up to a few hundred thousand leads a
-- workspace; idx_leads_company_due serves a workspace's due leads when that becomes a bottleneck.
-- SECURITY INVOKER with an empty search_path. save_lead_companies and company_stale_leads as 0003's
-- (authenticated, held to its workspace by RLS, and service_role; never anon). Idempotent.

alter table public.leads add column if not exists company_description text;
alter table public.leads add column if not exists company_country text;
alter table public.leads add column if not exists company_data jsonb;
alter table public.leads add column if not exists company_completeness smallint;
alter table public.leads add column if not exists company_enriched_at timestamp with time zone;
alter table public.leads add column if not exists domain_confidence smallint;
alter table public.leads add column if not exists domain_resolved_by text;
alter table public.jobs add column if not exists company_data boolean not null default false;

do $$
begin
    if not exists (
        select 1 from pg_constraint
        where conname = 'leads_company_completeness_check' and conrelid = 'public.leads'::regclass
    ) then
        alter table public.leads add constraint leads_company_completeness_check
            check (company_completeness is null or company_completeness between 0 and 100);
    end if;
    if not exists (
        select 1 from pg_constraint
        where conname = 'leads_domain_resolution_check' and conrelid = 'public.leads'::regclass
    ) then
        alter table public.leads add constraint leads_domain_resolution_check
            check ((domain_confidence is null or domain_confidence between 0 and 100)
                and (domain_resolved_by is null or domain_resolved_by in ('discover', 'domain_search')));
    end if;
end;
$$;

create index if not exists idx_leads_company_due
    on public.leads (workspace_id, company_enriched_at nulls first, id);

-- ---------------------------------------------------------------------------------------------------------
-- Writing the company data of leads.

create or replace function public.save_lead_companies(p_rows jsonb)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
    v_row jsonb;
    v_profile jsonb;
    v_at timestamptz;
    v_city text;
    v_country text;
    v_updated integer := 0;
    v_count integer;
begin
    if jsonb_typeof(p_rows) is distinct from 'array' then
        raise exception 'p_rows: must be a JSON array' using errcode = '22023';
    end if;
    if jsonb_array_length(p_rows) > 1000 then
        raise exception 'p_rows: at most 1000 rows per call' using errcode = '22023';
    end if;
    for v_row in select value from jsonb_array_elements(p_rows) loop
        v_profile := v_row -> 'profile';
        if jsonb_typeof(v_profile) = 'object' then
            v_at := (v_profile ->> 'fetched_at')::timestamptz;
            v_city := nullif(btrim(v_profile ->> 'city'), '');
            v_country := nullif(btrim(v_profile ->> 'country'), '');
            update public.leads as l
            set industry = v_profile ->> 'industry',
                company_size = v_profile ->> 'employees',
                location = nullif(concat_ws(', ', v_city, v_country), ''),
                company_description = v_profile ->> 'description',
                company_country = v_profile ->> 'country_code',
                company_data = v_profile,
                company_completeness = (v_profile ->> 'completeness')::smallint,
                company_enriched_at = v_at,
                updated_at = now()
            where l.workspace_id = v_row ->> 'workspace_id'
                and l.id = (v_row ->> 'lead_id')::uuid
                and (l.company_enriched_at is null or l.company_enriched_at < v_at);
            get diagnostics v_count = row_count;
            v_updated := v_updated + v_count;
        end if;
        if nullif(btrim(v_row ->> 'resolved_domain'), '') is not null then
            update public.leads as l
            set domain = v_row ->> 'resolved_domain',
                domain_confidence = (v_row ->> 'confidence')::smallint,
                domain_resolved_by = v_row ->> 'method',
                updated_at = now()
            where l.workspace_id = v_row ->> 'workspace_id'
                and l.id = (v_row ->> 'lead_id')::uuid
                and public.lead_domain_key(l.domain) is null;
            get diagnostics v_count = row_count;
            v_updated := v_updated + v_count;
        end if;
    end loop;
    return v_updated;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- The sweep's selection: leads with a domain whose company data is missing or older than p_max_age_days.

create or replace function public.company_stale_leads(
    p_workspace_id text,
    p_max_age_days integer default 90,
    p_after_id uuid default null,
    p_limit integer default 500
)
returns table (id uuid, domain text, company_enriched_at timestamp with time zone)
language sql
stable
security invoker
set search_path = ''
as $$
    select l.id, l.domain, l.company_enriched_at
    from public.leads as l
    where l.workspace_id = p_workspace_id
        and l.id > coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid)
        and public.lead_domain_key(l.domain) is not null
        and (l.company_enriched_at is null
            or l.company_enriched_at < now() - make_interval(days => greatest(p_max_age_days, 1)))
    order by l.id
    limit least(greatest(p_limit, 1), 1000)
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Inline leads: 0003's register_leads, and a lead with a company name and no domain (see the header).

create or replace function public.register_leads(p_workspace_id text, p_leads jsonb)
returns table (ord integer, id uuid, created boolean, has_active_email boolean)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
    v_row record;
    v_key text;
    v_id uuid;
    v_created boolean;
    v_company text;
    v_first text;
    v_last text;
    v_external text;
begin
    if jsonb_typeof(p_leads) is distinct from 'array' then
        raise exception 'p_leads: must be a JSON array' using errcode = '22023';
    end if;
    if jsonb_array_length(p_leads) > 1000 then
        raise exception 'p_leads: at most 1000 leads per call' using errcode = '22023';
    end if;
    perform pg_advisory_xact_lock(hashtextextended('leadenrich.leads:' || p_workspace_id, 0));

    for v_row in select e.value, e.ordinality from jsonb_array_elements(p_leads) with ordinality as e loop
        v_key := public.lead_domain_key(v_row.value ->> 'domain');
        v_company := nullif(btrim(v_row.value ->> 'company_name'), '');
        if v_key is null and v_company is null then
            raise exception 'p_leads[%].domain: empty, and no company_name', v_row.ordinality - 1
                using errcode = '22023';
        end if;
        v_first := nullif(btrim(v_row.value ->> 'first_name'), '');
        v_last := nullif(btrim(v_row.value ->> 'last_name'), '');
        v_external := nullif(btrim(v_row.value ->> 'external_id'), '');
        v_id := null;

        if v_external is not null then
            select l.id into v_id from public.leads as l
            where l.workspace_id = p_workspace_id and l.external_id = v_external
            order by l.created_at, l.id
            limit 1;
        end if;
        if v_id is null then
            select l.id into v_id from public.leads as l
            where l.workspace_id = p_workspace_id
                and (
                    public.lead_domain_key(l.domain) = v_key
                    or (v_key is null and public.lead_domain_key(l.domain) is null
                        and lower(l.company_name) = lower(v_company))
                )
                and lower(coalesce(l.first_name, '')) = lower(coalesce(v_first, ''))
                and lower(coalesce(l.last_name, '')) = lower(coalesce(v_last, ''))
                and (v_external is null or l.external_id is null)
            order by l.external_id is not null, l.created_at, l.id
            limit 1;
        end if;

        v_created := v_id is null;
        if v_created then
            insert into public.leads as nl (workspace_id, company_name, domain, first_name, last_name, external_id)
            values (
                p_workspace_id, coalesce(v_company, v_row.value ->> 'domain'),
                coalesce(v_row.value ->> 'domain', ''), v_first, v_last, v_external
            )
            returning nl.id into v_id;
        else
            -- A lead given without a domain never takes one away from the stored lead.
            update public.leads as l
            set domain = case when v_key is null or public.lead_domain_key(l.domain) = v_key then l.domain
                    else v_row.value ->> 'domain' end,
                company_name = coalesce(v_company, l.company_name),
                first_name = coalesce(v_first, l.first_name),
                last_name = coalesce(v_last, l.last_name),
                external_id = coalesce(l.external_id, v_external)
            where l.id = v_id
                and (l.company_name, l.first_name, l.last_name, l.external_id, public.lead_domain_key(l.domain))
                    is distinct from (
                        coalesce(v_company, l.company_name), coalesce(v_first, l.first_name),
                        coalesce(v_last, l.last_name), coalesce(l.external_id, v_external),
                        coalesce(v_key, public.lead_domain_key(l.domain))
                    );
        end if;

        ord := (v_row.ordinality - 1)::integer;
        id := v_id;
        created := v_created;
        has_active_email := exists (
            select 1 from public.emails as e
            where e.lead_id = v_id and e.workspace_id = p_workspace_id and e.status = 'active'
        );
        return next;
    end loop;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Creating a job: 0009's, storing company_data too.

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
        total_leads, processed_leads, found_leads, risky_leads, failed_leads, created_emails,
        api_calls_hunter, api_calls_perplexity, credits_hunter, cost_perplexity_usd, processing_time_seconds
    )
    select r.workspace_id, r.job_id, r.status, r.created_at, r.started_at, r.completed_at, r.idempotency_key,
        r.request_fingerprint, r.priority, r.max_attempts, r.skip_existing, r.webhook_url,
        coalesce(r.tags, '{}'), coalesce(r.webhook_events, '{job.completed}'), r.queue_window,
        coalesce(r.kind, 'enrichment'), r.run_at, r.max_credits, r.max_cost_usd, r.paused_reason, r.due_at,
        coalesce(r.lawful_basis, 'legitimate_interest'), coalesce(r.company_data, false),
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
-- Privileges: as 0003's lead source and email sink (register_leads keeps 0003's through create or replace).

do $$
declare
    f text;
begin
    foreach f in array array[
        'public.save_lead_companies(jsonb)',
        'public.company_stale_leads(text, integer, uuid, integer)'
    ] loop
        execute format('revoke all on function %s from public, anon', f);
        execute format('grant execute on function %s to authenticated, service_role', f);
    end loop;
end;
$$;

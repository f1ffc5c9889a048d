-- 0017_lead_intake: enrichment on creation (issue 15 part 2; docs/auto-enrichment.md). Leads created through
-- `POST /leads`, or inserted into `leads` by anything else, get one enrichment item, once.
--
-- leads.enrichment_job_id        the job the lead's pending enrichment is in (null: none yet)
-- leads.enrichment_requested_at  when it was marked pending
--
-- The lead row is the outbox (no pg_net, no HTTP from the database, nothing slower than a column default on
-- the insert): in a workspace listed in `lead_auto_enrichment` (opt-in: an import of 100,000 rows must not
-- spend credits by surprise), a BEFORE INSERT trigger marks a lead inserted without a record `pending`; the
-- processor's
-- housekeeping claims the pending leads that have no job (`claim_pending_leads`, one workspace a call,
-- serialised per workspace with register_leads) and puts them in a job. A claim is a conditional update of
-- `enrichment_job_id`, so a lead inserted twice, or seen by two processors, is enqueued once.
--
-- The runtime's own registrations (register_leads: POST /jobs `leads`; add_leads_for_domains: POST /jobs
-- `domains`) put their leads in a job themselves: they run with `leadenrich.auto_enrich = off` (a function
-- SET clause added below), which the trigger reads. A later `create or replace` of either function drops
-- that clause: re-add it (tests/adapters/supabase/test_lead_intake.py fails without it). An application that
-- inserts leads it does not want enriched runs `set local leadenrich.auto_enrich = 'off'` in its transaction.
--
-- Functions:
--   lead_is_same(...)                  the inline-lead match of register_leads (0003, 0012) between two rows
--   intake_leads(ws, leads, job, days) POST /leads: register_leads, then claim each lead for `job` unless it
--                                      is pending in a job already (less than a day ago), or was enriched
--                                      (completed) less than `days` ago. One row per element, input order:
--                                      ord, lead_id, created, enqueued, reason (pending | recent | repeated)
--   release_lead_claims(ws, job, requeue)
--                                      a job that was not made gives its claims back: requeue (the sweep's)
--                                      leaves them pending without a job, otherwise (POST /leads) the lead
--                                      returns to its last record's status
--   pending_lead_workspaces(n)         workspaces with pending leads without a job, oldest first
--   claim_pending_leads(ws, job, n)    up to n (<= 1,000) of the workspace's pending leads without a job,
--                                      oldest first, claimed for `job`; one that is the same lead as one in a
--                                      job or enriched less than `days` ago is left out (status back to
--                                      null, `enrichment_error` saying which lead it repeats)
--
-- Cost: the trigger is a few assignments per inserted row. The sweep's reads use a partial index on the
-- pending rows. SECURITY INVOKER, empty search_path, authenticated and service_role only. Idempotent.

alter table public.leads add column if not exists enrichment_job_id text;
alter table public.leads add column if not exists enrichment_requested_at timestamp with time zone;

create index if not exists idx_leads_enrichment_pending
    on public.leads (enrichment_requested_at, id) where enrichment_status = 'pending';

-- The workspaces whose inserted leads are enriched (docs/auto-enrichment.md). RLS on, no policy: the service
-- role (and the operator, in SQL) manages it; the trigger reads it as its owner.
create table if not exists public.lead_auto_enrichment (
    workspace_id text primary key,
    enabled_at timestamp with time zone not null default now()
);
alter table public.lead_auto_enrichment enable row level security;
revoke all on table public.lead_auto_enrichment from anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------
-- The outbox: an inserted lead of such a workspace, with something to search and no record, is pending.

-- SECURITY DEFINER only to read lead_auto_enrichment (a signed-in user's insert cannot); it reads nothing
-- else and writes only the new row.
create or replace function public.leads_mark_pending()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if coalesce(current_setting('leadenrich.auto_enrich', true), '') = 'off'
        or not exists (
            select 1 from public.lead_auto_enrichment as a where a.workspace_id = new.workspace_id
        ) then
        return new;
    end if;
    if new.enrichment_status is null
        and (btrim(coalesce(new.domain, '')) <> '' or btrim(coalesce(new.company_name, '')) <> '') then
        new.enrichment_status := 'pending';
        new.enrichment_job_id := null;
        new.enrichment_requested_at := now();
    end if;
    return new;
end;
$$;

drop trigger if exists leads_mark_pending on public.leads;
create trigger leads_mark_pending
    before insert on public.leads
    for each row execute function public.leads_mark_pending();

alter function public.register_leads(text, jsonb) set leadenrich.auto_enrich = 'off';
alter function public.add_leads_for_domains(text, text[]) set leadenrich.auto_enrich = 'off';

-- ---------------------------------------------------------------------------------------------------------
-- The same lead, by register_leads' rule: the same external_id; or external ids that do not differ, the same
-- domain key (or, both without a domain, the same company name) and the same names, case-insensitive.

create or replace function public.lead_is_same(
    a_external text, a_domain text, a_company text, a_first text, a_last text,
    b_external text, b_domain text, b_company text, b_first text, b_last text
)
returns boolean
language sql
immutable
parallel safe
set search_path = ''
as $$
    select case
        when nullif(btrim(a_external), '') is not null and nullif(btrim(b_external), '') is not null
            then btrim(a_external) = btrim(b_external)
        else coalesce(
                public.lead_domain_key(a_domain) = public.lead_domain_key(b_domain),
                public.lead_domain_key(a_domain) is null and public.lead_domain_key(b_domain) is null
                    and lower(btrim(coalesce(a_company, ''))) = lower(btrim(coalesce(b_company, ''))),
                false
            )
            and lower(btrim(coalesce(a_first, ''))) = lower(btrim(coalesce(b_first, '')))
            and lower(btrim(coalesce(a_last, ''))) = lower(btrim(coalesce(b_last, '')))
    end
$$;

-- ---------------------------------------------------------------------------------------------------------
-- POST /leads.

create or replace function public.intake_leads(
    p_workspace_id text, p_leads jsonb, p_job_id text, p_reenrich_after_days integer default 30
)
returns table (ord integer, lead_id uuid, created boolean, enqueued boolean, reason text)
language plpgsql
volatile
security invoker
set search_path = ''
set leadenrich.auto_enrich = 'off'
as $$
declare
    v_reg record;
    v_lead record;
begin
    if coalesce(btrim(p_job_id), '') = '' then
        raise exception 'p_job_id: required' using errcode = '22023';
    end if;
    -- register_leads takes the workspace's advisory lock; it is held to the end of this transaction.
    for v_reg in select r.ord, r.id, r.created from public.register_leads(p_workspace_id, p_leads) as r loop
        select l.enrichment_status, l.enrichment_job_id, l.enrichment_requested_at, l.enriched_at
            into v_lead
        from public.leads as l
        where l.id = v_reg.id
        for update;
        ord := v_reg.ord;
        lead_id := v_reg.id;
        created := v_reg.created;
        enqueued := false;
        reason := null;
        if v_lead.enrichment_status = 'pending' and v_lead.enrichment_job_id = p_job_id then
            reason := 'repeated';
        elsif v_lead.enrichment_status = 'pending' and v_lead.enrichment_job_id is not null
            and v_lead.enrichment_requested_at > now() - interval '1 day' then
            reason := 'pending';
        elsif v_lead.enrichment_status = 'completed' and coalesce(p_reenrich_after_days, 0) > 0
            and v_lead.enriched_at > now() - make_interval(days => p_reenrich_after_days) then
            reason := 'recent';
        else
            update public.leads as l
            set enrichment_status = 'pending',
                enrichment_job_id = p_job_id,
                enrichment_requested_at = now()
            where l.id = v_reg.id;
            enqueued := true;
        end if;
        return next;
    end loop;
end;
$$;

create or replace function public.release_lead_claims(
    p_workspace_id text, p_job_id text, p_requeue boolean default false
)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
    v_released integer;
begin
    update public.leads as l
    set enrichment_job_id = null,
        enrichment_status = case
            when p_requeue then 'pending'
            when l.enriched_at is null then null
            when l.enrichment_outcome = 'failed' then 'failed'
            else 'completed'
        end,
        enrichment_requested_at = case when p_requeue then l.enrichment_requested_at else null end
    where l.workspace_id = p_workspace_id
        and l.enrichment_job_id = p_job_id
        and l.enrichment_status = 'pending';
    get diagnostics v_released = row_count;
    return v_released;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- The processor's sweep.

create or replace function public.pending_lead_workspaces(p_limit integer default 10)
returns table (workspace_id text)
language sql
stable
security invoker
set search_path = ''
as $$
    select p.workspace_id
    from (
        select l.workspace_id, min(l.enrichment_requested_at) as oldest
        from public.leads as l
        where l.enrichment_status = 'pending' and l.enrichment_job_id is null
        group by l.workspace_id
    ) as p
    order by p.oldest, p.workspace_id
    limit least(greatest(coalesce(p_limit, 10), 1), 100)
$$;

create or replace function public.claim_pending_leads(
    p_workspace_id text, p_job_id text, p_limit integer default 200, p_reenrich_after_days integer default 30
)
returns table (
    id uuid,
    domain text,
    company_name text,
    first_name text,
    last_name text,
    external_id text
)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
    v_row record;
    v_same uuid;
begin
    if coalesce(btrim(p_job_id), '') = '' then
        raise exception 'p_job_id: required' using errcode = '22023';
    end if;
    -- One claimer per workspace at a time, and never beside a registration of the same workspace.
    perform pg_advisory_xact_lock(hashtextextended('leadenrich.leads:' || p_workspace_id, 0));
    for v_row in
        select l.id, l.domain, l.company_name, l.first_name, l.last_name, l.external_id
        from public.leads as l
        where l.workspace_id = p_workspace_id
            and l.enrichment_status = 'pending'
            and l.enrichment_job_id is null
        order by l.enrichment_requested_at, l.id
        limit least(greatest(coalesce(p_limit, 200), 1), 1000)
        for update
    loop
        select o.id into v_same
        from public.leads as o
        where o.workspace_id = p_workspace_id
            and o.id <> v_row.id
            and (
                (o.enrichment_status = 'pending' and o.enrichment_job_id is not null
                    and o.enrichment_requested_at > now() - interval '1 day')
                or (o.enrichment_status = 'completed' and coalesce(p_reenrich_after_days, 0) > 0
                    and o.enriched_at > now() - make_interval(days => p_reenrich_after_days))
            )
            and public.lead_is_same(
                v_row.external_id, v_row.domain, v_row.company_name, v_row.first_name, v_row.last_name,
                o.external_id, o.domain, o.company_name, o.first_name, o.last_name
            )
        order by o.enrichment_requested_at nulls last, o.id
        limit 1;
        if v_same is not null then
            update public.leads as l
            set enrichment_status = null,
                enrichment_requested_at = null,
                enrichment_error = 'not enqueued: the same lead as ' || v_same::text
            where l.id = v_row.id;
            continue;
        end if;
        update public.leads as l
        set enrichment_job_id = p_job_id
        where l.id = v_row.id;
        id := v_row.id;
        domain := v_row.domain;
        company_name := v_row.company_name;
        first_name := v_row.first_name;
        last_name := v_row.last_name;
        external_id := v_row.external_id;
        return next;
    end loop;
end;
$$;

do $$
declare
    f text;
begin
    foreach f in array array[
        'public.leads_mark_pending()',
        'public.lead_is_same(text, text, text, text, text, text, text, text, text, text)',
        'public.intake_leads(text, jsonb, text, integer)',
        'public.release_lead_claims(text, text, boolean)',
        'public.pending_lead_workspaces(integer)',
        'public.claim_pending_leads(text, text, integer, integer)'
    ] loop
        execute format('revoke all on function %s from public, anon', f);
        execute format('grant execute on function %s to authenticated, service_role', f);
    end loop;
end;
$$;

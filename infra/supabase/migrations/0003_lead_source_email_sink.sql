-- 0003_lead_source_email_sink: Supabase as the runtime's lead source and email sink, and the stats.
--
-- The Lambdas reach the database through PostgREST: one HTTP request per call, at most 1,000 rows per
-- answer (Supabase's default max rows). So every read that the runtime streams is a keyset page (`id` after
-- the last one seen, at most p_limit rows, capped at 1,000), and every write takes a whole batch (the
-- runtime sends 500 rows per request). Each is a function here, called by RPC (`POST /rest/v1/rpc/<name>`),
-- because the shapes they need (NOT EXISTS on the emails, a normalised domain, demote-then-upsert of a
-- lead's primary address, locks) are not expressible as a PostgREST table request.
--
--   lead_domain_key(domain)                the domain as compared: lower case, no scheme, www, port or path
--   enrichable_leads(ws, skip, after, n)   process_all: every lead with a domain, with skip_existing only
--                                          those without an active email; keyset page by id
--   count_enrichable_leads(ws, after)      the counts a dry run answers, in one scan
--   leads_by_ids(ws, ids)                  the leads of a page of ids (unknown ids are simply absent)
--   leads_by_domains(ws, domains, after, n) every lead whose domain key is one of these; keyset page by id
--   add_leads_for_domains(ws, domains)     a company-level lead for each domain no lead has yet
--   register_leads(ws, leads)              inline leads matched to stored ones or added; ids in input order
--   upsert_emails(rows)                    a batch of addresses upserted on (lead_id, email), one primary
--                                          per lead (the old one demoted first), in one transaction
--   lead_stats(ws)                         total leads, leads with a validated email, addresses by source and
--                                          status, average confidence: one request
--
-- Every function is SECURITY INVOKER with an empty search_path and names its workspace itself: the service
-- role (which bypasses row-level security) sees only what the workspace filter lets through, and a signed-in
-- user (authenticated) is additionally held to their own workspace by the RLS policies of 0001. anon cannot
-- execute them. Idempotent: create or replace, if not exists.

-- ---------------------------------------------------------------------------------------------------------
-- Domains as compared. Mirrors leadenrich.domains.normalize_domain (an address's domain, no scheme, path,
-- query, user info or port, no trailing dot, lower case, a leading www. dropped when a name remains) except
-- IDNA: a stored Unicode domain is compared as written, so store domains as the runtime does (ASCII).

create or replace function public.lead_domain_key(p_domain text)
returns text
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
    v text := lower(btrim(coalesce(p_domain, '')));
begin
    if position('@' in v) > 0 and position('://' in v) = 0 then
        v := regexp_replace(v, '^.*@', '');
    end if;
    v := regexp_replace(v, '^[a-z][a-z0-9+.-]*://', '');
    v := split_part(split_part(split_part(v, '/', 1), '?', 1), '#', 1);
    v := regexp_replace(v, '^.*@', '');
    v := regexp_replace(v, ':[0-9]*$', '');
    v := btrim(btrim(v), '.');
    if v like 'www.%' and length(v) - length(replace(v, '.', '')) >= 2 then
        v := substr(v, 5);
    end if;
    return nullif(v, '');
end;
$$;

grant execute on function public.lead_domain_key(text) to anon, authenticated, service_role;

-- Domain matching and inline-lead matching go through these; "missing an active email" through the last.
create index if not exists idx_leads_workspace_domain_key
    on public.leads (workspace_id, public.lead_domain_key(domain));
create index if not exists idx_leads_workspace_external_id
    on public.leads (workspace_id, external_id) where external_id is not null;
create index if not exists idx_emails_active_lead on public.emails (lead_id) where status = 'active';

-- ---------------------------------------------------------------------------------------------------------
-- process_all: every lead of the workspace with a domain, by id; with p_skip_existing only those without an
-- active email. The keyset (`id > after`, nil uuid when none) is an index condition on (workspace_id, id),
-- so page k costs what page 1 costs.

create or replace function public.enrichable_leads(
    p_workspace_id text,
    p_skip_existing boolean default true,
    p_after_id uuid default null,
    p_limit integer default 500
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

-- What a dry run answers: leads with a domain, and those of them without an active email (after the
-- optional keyset position), in one scan.
create or replace function public.count_enrichable_leads(p_workspace_id text, p_after_id uuid default null)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    select jsonb_build_object(
        'with_domain', count(*),
        'missing_email', count(*) filter (
            where not exists (
                select 1 from public.emails as e
                where e.lead_id = l.id and e.workspace_id = l.workspace_id and e.status = 'active'
            )
        )
    )
    from public.leads as l
    where l.workspace_id = p_workspace_id
        and l.id > coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid)
        and btrim(l.domain) <> ''
$$;

-- ---------------------------------------------------------------------------------------------------------
-- lead_ids: the leads of one page of ids (at most 1,000), with whether each has an active email; an id that
-- is not a lead of the workspace is absent from the answer (the caller names it).

create or replace function public.leads_by_ids(p_workspace_id text, p_ids uuid[])
returns table (
    id uuid,
    domain text,
    company_name text,
    first_name text,
    last_name text,
    external_id text,
    has_active_email boolean
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
    if coalesce(cardinality(p_ids), 0) > 1000 then
        raise exception 'p_ids: at most 1000 ids per call' using errcode = '22023';
    end if;
    return query
    select l.id, l.domain, l.company_name, l.first_name, l.last_name, l.external_id,
        exists (
            select 1 from public.emails as e
            where e.lead_id = l.id and e.workspace_id = l.workspace_id and e.status = 'active'
        )
    from public.leads as l
    where l.workspace_id = p_workspace_id and l.id = any(p_ids)
    order by l.id;
end;
$$;

-- domains: every lead whose domain key is one of p_domains (keys, at most 1,000), a keyset page by id.
create or replace function public.leads_by_domains(
    p_workspace_id text,
    p_domains text[],
    p_after_id uuid default null,
    p_limit integer default 500
)
returns table (
    id uuid,
    domain text,
    company_name text,
    first_name text,
    last_name text,
    external_id text,
    has_active_email boolean
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
    if coalesce(cardinality(p_domains), 0) > 1000 then
        raise exception 'p_domains: at most 1000 domains per call' using errcode = '22023';
    end if;
    return query
    select l.id, l.domain, l.company_name, l.first_name, l.last_name, l.external_id,
        exists (
            select 1 from public.emails as e
            where e.lead_id = l.id and e.workspace_id = l.workspace_id and e.status = 'active'
        )
    from public.leads as l
    where l.workspace_id = p_workspace_id
        and public.lead_domain_key(l.domain) = any(p_domains)
        and l.id > coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid)
    order by l.id
    limit least(greatest(coalesce(p_limit, 500), 1), 1000);
end;
$$;

-- A company-level lead (company_name = domain) for each domain key that no lead of the workspace has yet;
-- returns how many were added. Serialised per workspace with register_leads, so two requests never add the
-- same lead twice.
create or replace function public.add_leads_for_domains(p_workspace_id text, p_domains text[])
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
    v_added integer;
begin
    if coalesce(cardinality(p_domains), 0) > 1000 then
        raise exception 'p_domains: at most 1000 domains per call' using errcode = '22023';
    end if;
    perform pg_advisory_xact_lock(hashtextextended('leadenrich.leads:' || p_workspace_id, 0));
    insert into public.leads (workspace_id, company_name, domain)
    select p_workspace_id, d.key, d.key
    from (
        select distinct public.lead_domain_key(raw) as key from unnest(p_domains) as raw
    ) as d
    where d.key is not null
        and not exists (
            select 1 from public.leads as l
            where l.workspace_id = p_workspace_id and public.lead_domain_key(l.domain) = d.key
        );
    get diagnostics v_added = row_count;
    return v_added;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Inline leads (POST /jobs `leads`, `enrich run`): each element of p_leads (at most 1,000 objects with
-- domain, company_name, first_name, last_name, external_id) is matched to a stored lead of the workspace,
-- or added. The match:
--   1. with an external_id: the lead with that external_id; else a lead without an external_id that has
--      the same domain key and the same names (case-insensitive), which then takes the external_id;
--   2. without: a lead with the same domain key and the same names (first and last name, both absent for a
--      company-level lead), preferring one without an external_id.
-- A matched lead takes the values the element gives (a field it leaves empty keeps the stored value); it is
-- written only when something changes. A new lead's company_name is the element's, else its domain.
-- Answers one row per element, in input order: its lead id, whether it was added, and whether the lead has
-- an active email (skip_existing). Serialised per workspace (advisory lock), so concurrent requests with the
-- same lead match each other instead of both adding it.

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
        if v_key is null then
            raise exception 'p_leads[%].domain: empty', v_row.ordinality - 1 using errcode = '22023';
        end if;
        v_company := nullif(btrim(v_row.value ->> 'company_name'), '');
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
                and public.lead_domain_key(l.domain) = v_key
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
                p_workspace_id, coalesce(v_company, v_row.value ->> 'domain'), v_row.value ->> 'domain',
                v_first, v_last, v_external
            )
            returning nl.id into v_id;
        else
            update public.leads as l
            set domain = case when public.lead_domain_key(l.domain) = v_key then l.domain
                    else v_row.value ->> 'domain' end,
                company_name = coalesce(v_company, l.company_name),
                first_name = coalesce(v_first, l.first_name),
                last_name = coalesce(v_last, l.last_name),
                external_id = coalesce(l.external_id, v_external)
            where l.id = v_id
                and (l.company_name, l.first_name, l.last_name, l.external_id, public.lead_domain_key(l.domain))
                    is distinct from (
                        coalesce(v_company, l.company_name), coalesce(v_first, l.first_name),
                        coalesce(v_last, l.last_name), coalesce(l.external_id, v_external), v_key
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
-- The email sink. p_rows: a JSON array (at most 1,000) of objects with workspace_id, lead_id, email, source,
-- confidence_score, email_type, hunter_status, status, verified_at; several leads (and workspaces) per
-- batch. email_upsert_batch is the batch as it will be written: addresses lower-cased, one row per (lead,
-- address) (a primary wins, then the higher confidence, then the first), and at most one primary per lead
-- (the best of those given as primary; the others become secondary).

create or replace function public.email_upsert_batch(p_rows jsonb)
returns table (
    workspace_id text,
    lead_id uuid,
    email text,
    source text,
    confidence_score integer,
    email_type text,
    hunter_status text,
    status text,
    verified_at timestamp with time zone
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
            (e.value ->> 'verified_at')::timestamp with time zone as verified_at
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
        r.hunter_status, r.status, r.verified_at
    from ranked as r
$$;

-- Upsert a batch in one transaction: lock the batch's leads (in id order, so concurrent writers of one lead
-- take turns and never deadlock), demote each lead's old primary when the batch brings a different one
-- (the one-primary-per-lead index would refuse the new one otherwise), then insert or update on
-- (lead_id, email). A lead without a primary in the batch keeps its primary. An unchanged row is not
-- rewritten; verified_at keeps its value when the batch has none. Rows whose lead is not a lead of their
-- workspace (deleted meanwhile, or never there) are skipped, not an error: one stale row must not block a
-- batch. Answers {"inserted", "updated", "unchanged", "skipped"}.

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
        select b.workspace_id, b.lead_id from public.email_upsert_batch(p_rows) as b
    )
    order by l.id
    for update of l;

    update public.emails as em
    set email_type = 'secondary'
    from public.email_upsert_batch(p_rows) as b
    where b.email_type = 'primary'
        and em.workspace_id = b.workspace_id
        and em.lead_id = b.lead_id
        and em.email_type = 'primary'
        and em.email <> b.email;

    select count(*) into v_total from public.email_upsert_batch(p_rows);

    with written as (
        insert into public.emails as em (
            workspace_id, lead_id, email, source, confidence_score, email_type, hunter_status, status,
            verified_at
        )
        select b.workspace_id, b.lead_id, b.email, b.source, b.confidence_score, b.email_type,
            b.hunter_status, b.status, b.verified_at
        from public.email_upsert_batch(p_rows) as b
        join public.leads as l on l.workspace_id = b.workspace_id and l.id = b.lead_id
        on conflict (lead_id, email) do update
        set source = excluded.source,
            confidence_score = excluded.confidence_score,
            email_type = case when excluded.email_type = 'primary' then 'primary' else em.email_type end,
            hunter_status = excluded.hunter_status,
            status = excluded.status,
            verified_at = coalesce(excluded.verified_at, em.verified_at)
        where (em.source, em.confidence_score, em.email_type, em.hunter_status, em.status, em.verified_at)
            is distinct from (
                excluded.source, excluded.confidence_score,
                case when excluded.email_type = 'primary' then 'primary' else em.email_type end,
                excluded.hunter_status, excluded.status, coalesce(excluded.verified_at, em.verified_at)
            )
        returning (xmax = 0) as inserted
    )
    select count(*) filter (where inserted), count(*) filter (where not inserted)
    into v_inserted, v_updated
    from written;

    select count(*) into v_known
    from public.email_upsert_batch(p_rows) as b
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
-- GET /stats: one request. A validated email is an active one (verified deliverable, score above 80, not
-- an accept-all domain); leads_missing_email is what process_all takes by default. Every source x status
-- pair is present (0 when none), so the shape never changes.

create or replace function public.lead_stats(p_workspace_id text)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    with lead_flags as (
        select btrim(l.domain) <> '' as has_domain,
            exists (
                select 1 from public.emails as e
                where e.lead_id = l.id and e.workspace_id = l.workspace_id and e.status = 'active'
            ) as validated
        from public.leads as l
        where l.workspace_id = p_workspace_id
    ),
    lead_counts as (
        select count(*) as total,
            count(*) filter (where f.has_domain) as with_domain,
            count(*) filter (where f.validated) as validated,
            count(*) filter (where f.has_domain and not f.validated) as missing
        from lead_flags as f
    ),
    email_counts as (
        select e.source, e.status, count(*) as n
        from public.emails as e
        where e.workspace_id = p_workspace_id
        group by e.source, e.status
    ),
    pairs as (
        select s.source, st.status, coalesce(c.n, 0) as n
        from (values ('hunter_direct'), ('perplexity_generated')) as s (source)
        cross join (values ('active'), ('inactive')) as st (status)
        left join email_counts as c on c.source = s.source and c.status = st.status
    ),
    confidence as (
        select round(avg(e.confidence_score)::numeric, 1) as all_addresses,
            round((avg(e.confidence_score) filter (where e.status = 'active'))::numeric, 1) as active
        from public.emails as e
        where e.workspace_id = p_workspace_id
    )
    select jsonb_build_object(
        'total_leads', lc.total,
        'leads_with_domain', lc.with_domain,
        'leads_with_validated_email', lc.validated,
        'leads_missing_email', lc.missing,
        'emails_total', (select coalesce(sum(n), 0) from email_counts),
        'emails_by_source', (
            select jsonb_object_agg(p.source, p.by_status)
            from (
                select pairs.source, jsonb_object_agg(pairs.status, pairs.n) as by_status
                from pairs group by pairs.source
            ) as p
        ),
        'average_confidence_score', c.all_addresses,
        'average_confidence_score_active', c.active
    )
    from lead_counts as lc cross join confidence as c
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Privileges: the service role (the Lambdas) and signed-in users (held to their workspace by RLS); never
-- anon. PostgreSQL grants EXECUTE to PUBLIC by default, and Supabase's default privileges to anon: both
-- revoked.

do $$
declare
    f text;
begin
    foreach f in array array[
        'public.enrichable_leads(text, boolean, uuid, integer)',
        'public.count_enrichable_leads(text, uuid)',
        'public.leads_by_ids(text, uuid[])',
        'public.leads_by_domains(text, text[], uuid, integer)',
        'public.add_leads_for_domains(text, text[])',
        'public.register_leads(text, jsonb)',
        'public.email_upsert_batch(jsonb)',
        'public.upsert_emails(jsonb)',
        'public.lead_stats(text)'
    ] loop
        execute format('revoke all on function %s from public, anon', f);
        execute format('grant execute on function %s to authenticated, service_role', f);
    end loop;
end;
$$;

-- 0014_buffer_privacy: the lead buffer under the personal-data rules (docs/buffer.md "Personal data";
-- docs/privacy.md "Retention" and "Erasure"; leadenrich/buffer/retention.py, leadenrich/buffer/erasure.py).
--
-- buffer_served is the served registry: one row per lead a namespace served, holding the lead's identity
-- only (lead_key: the keyed hash the suppression lists use, or a company's domain) and when it was first
-- served. It outlives the lead row, which retention or an erasure removes, so a namespace still never serves
-- that lead again (for the registry's period, 730 days, passed by the runtime).
--
--   lead_buffer_push, lead_buffer_serve      as in 0011, with the registry: a push skips (and counts as
--                                            already served) a lead the registry holds; a serve writes the
--                                            lead's entry in the same transaction
--   erasure_find_buffer(ws, patterns)        the workspace's lead records and cursor states that hold one of
--                                            the patterns (an erasure's domains, lead ids, external ids):
--                                            {"leads": [...], "cursors": [...]}
--   erasure_rewrite_buffer(ws, delete, leads, cursors)
--                                            deletes these lead records and cursor states; rewrites these
--                                            records' data, result and error, each only while its updated_at
--                                            is the one read (a claim or serve meanwhile wins: the runtime
--                                            reads it again): {"removed": n, "changed": n}
--   buffer_purge_expired(now, retention, unverified_days, results_days, registry_days, batch)
--                                            deletes waiting leads pushed longer ago than their workspace's
--                                            results period, served leads last changed longer ago than theirs
--                                            (the unverified period when their addresses are all unverified),
--                                            and registry entries older than registry_days:
--                                            {"buffer_leads": n, "buffer_registry": n, "more": bool}
--
-- RLS on, no policy; the service role only, like 0011. SECURITY INVOKER with an empty search_path.
-- Idempotent: if not exists, create or replace, on conflict do nothing.

create table if not exists public.buffer_served (
    workspace_id text not null,
    namespace text not null,
    lead_key text not null,
    served_at timestamp with time zone not null,

    primary key (workspace_id, namespace, lead_key)
);

create index if not exists idx_buffer_served_at on public.buffer_served (served_at);

alter table public.buffer_served enable row level security;
revoke all on table public.buffer_served from public, anon, authenticated;
grant select, insert, update, delete on table public.buffer_served to service_role;

insert into public.buffer_served (workspace_id, namespace, lead_key, served_at)
select b.workspace_id, b.namespace, b.lead_key, b.served_at
from public.buffer_leads as b
where b.state = 'served'
on conflict do nothing;

-- Retention's scan of the waiting and the served leads by time.
create index if not exists idx_buffer_leads_pushed on public.buffer_leads (pushed_at) where state <> 'served';
create index if not exists idx_buffer_leads_updated on public.buffer_leads (updated_at) where state = 'served';

-- ---------------------------------------------------------------------------------------------------------
-- Push (0011's, with the registry).

create or replace function public.lead_buffer_push(p_workspace_id text, p_namespace text, p_leads jsonb)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_inserted text[];
    v_served integer;
    v_total integer := jsonb_array_length(coalesce(p_leads, '[]'::jsonb));
begin
    with inserted as (
        insert into public.buffer_leads as b (
            workspace_id, lead_id, namespace, lead_key, lead, data, state, pushed_at, enrichment_status,
            updated_at
        )
        select p_workspace_id, r.lead_id, p_namespace, r.lead_key, r.lead, r.data, 'buffered', r.pushed_at,
            'pending', coalesce(r.updated_at, r.pushed_at)
        from jsonb_populate_recordset(null::public.buffer_leads, coalesce(p_leads, '[]'::jsonb))
            with ordinality as r
        where not exists (
            select 1 from public.buffer_served as s
            where s.workspace_id = p_workspace_id and s.namespace = p_namespace and s.lead_key = r.lead_key
        )
        order by r.ordinality
        on conflict do nothing
        returning b.lead_id
    )
    select coalesce(array_agg(i.lead_id), '{}') into v_inserted from inserted as i;

    select count(*) into v_served
    from jsonb_populate_recordset(null::public.buffer_leads, coalesce(p_leads, '[]'::jsonb)) as r
    where not r.lead_id = any(v_inserted)
        and (
            exists (
                select 1 from public.buffer_served as s
                where s.workspace_id = p_workspace_id and s.namespace = p_namespace
                    and s.lead_key = r.lead_key
            )
            or exists (
                select 1 from public.buffer_leads as b
                where b.workspace_id = p_workspace_id and b.namespace = p_namespace
                    and b.lead_key = r.lead_key and b.state = 'served'
            )
        );

    return jsonb_build_object(
        'buffered', cardinality(v_inserted),
        'already_served', v_served,
        'already_buffered', v_total - cardinality(v_inserted) - v_served
    );
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Serve (0011's, with the registry's entry in the same transaction).

create or replace function public.lead_buffer_serve(
    p_workspace_id text, p_lead_id text, p_token text, p_enrichment jsonb, p_now timestamptz
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_lead public.buffer_leads;
begin
    update public.buffer_leads as b
    set state = 'served', served_at = coalesce(b.served_at, p_now), lease_until = null, updated_at = p_now,
        enrichment_status = e.enrichment_status, enriched_at = e.enriched_at,
        enrichment_error = e.enrichment_error, sources_used = coalesce(e.sources_used, '{}'),
        sources_failed = coalesce(e.sources_failed, '{}'), result = nullif(e.result, 'null'::jsonb)
    from jsonb_populate_record(null::public.buffer_leads, p_enrichment) as e
    where b.workspace_id = p_workspace_id and b.lead_id = p_lead_id and b.claim_token = p_token
        and b.state in ('claimed', 'served')
    returning b.* into v_lead;
    if v_lead.lead_id is null then
        return null;
    end if;
    insert into public.buffer_served (workspace_id, namespace, lead_key, served_at)
    values (v_lead.workspace_id, v_lead.namespace, v_lead.lead_key, v_lead.served_at)
    on conflict do nothing;
    return to_jsonb(v_lead);
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Erasure: SQL narrows, the runtime's rules decide (leadenrich/buffer/erasure.py), SQL writes.

create or replace function public.erasure_find_buffer(p_workspace_id text, p_patterns text[])
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    select jsonb_build_object(
        'leads', coalesce((
            select jsonb_agg(
                jsonb_build_object(
                    'lead_id', b.lead_id, 'lead', b.lead, 'data', b.data, 'result', b.result,
                    'enrichment_error', b.enrichment_error, 'updated_at', b.updated_at
                )
                order by b.lead_id
            )
            from public.buffer_leads as b
            where b.workspace_id = p_workspace_id
                and exists (
                    select 1
                    from unnest(coalesce(p_patterns, '{}')) as p(pattern)
                    where p.pattern <> ''
                        and strpos(
                            lower(
                                b.lead::text || ' ' || coalesce(b.data::text, '') || ' '
                                || coalesce(b.result::text, '') || ' ' || coalesce(b.enrichment_error, '')
                            ),
                            p.pattern
                        ) > 0
                )
        ), '[]'::jsonb),
        'cursors', coalesce((
            select jsonb_agg(jsonb_build_object('namespace', c.namespace, 'state', c.state) order by c.namespace)
            from public.buffer_cursors as c
            where c.workspace_id = p_workspace_id
                and exists (
                    select 1
                    from unnest(coalesce(p_patterns, '{}')) as p(pattern)
                    where p.pattern <> '' and strpos(lower(c.state::text), p.pattern) > 0
                )
        ), '[]'::jsonb)
    )
$$;

create or replace function public.erasure_rewrite_buffer(
    p_workspace_id text, p_delete text[], p_leads jsonb, p_cursors text[]
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_removed integer;
    v_changed integer;
    v_cursors integer;
begin
    delete from public.buffer_leads as b
    where b.workspace_id = p_workspace_id and b.lead_id = any(coalesce(p_delete, '{}'));
    get diagnostics v_removed = row_count;

    update public.buffer_leads as b
    set data = case when jsonb_typeof(r.data) = 'object' then r.data end,
        result = case when jsonb_typeof(r.result) = 'object' then r.result end,
        enrichment_error = r.enrichment_error
    from jsonb_to_recordset(coalesce(p_leads, '[]'::jsonb))
        as r(lead_id text, updated_at timestamptz, data jsonb, result jsonb, enrichment_error text)
    where b.workspace_id = p_workspace_id and b.lead_id = r.lead_id and b.updated_at = r.updated_at;
    get diagnostics v_changed = row_count;

    delete from public.buffer_cursors as c
    where c.workspace_id = p_workspace_id and c.namespace = any(coalesce(p_cursors, '{}'));
    get diagnostics v_cursors = row_count;

    return jsonb_build_object('removed', v_removed + v_cursors, 'changed', v_changed);
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Retention: the periods are arguments, as purge_expired's (0008): the settings live with the service.

create or replace function public.buffer_purge_expired(
    p_now timestamptz,
    p_retention jsonb default '{}'::jsonb,
    p_unverified_days integer default 30,
    p_results_days integer default 90,
    p_registry_days integer default 730,
    p_batch integer default 5000
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_batch integer;
    v_leads integer;
    v_registry integer;
begin
    if p_now is null then
        raise exception 'now: required' using errcode = 'invalid_parameter_value';
    end if;
    if p_unverified_days is null or p_unverified_days < 1 or p_results_days is null or p_results_days < 1
        or p_registry_days is null or p_registry_days < 1 then
        raise exception 'days: the default periods are at least 1 day' using errcode = 'invalid_parameter_value';
    end if;
    if p_retention is null or jsonb_typeof(p_retention) <> 'object' then
        raise exception 'retention: an object of workspaces' using errcode = 'invalid_parameter_value';
    end if;
    v_batch := least(greatest(coalesce(p_batch, 1), 1), 50000);

    with settings as (
        select w.key as workspace_id,
            coalesce((w.value ->> 'results_retention_days')::integer, p_results_days) as results_days,
            coalesce((w.value ->> 'unverified_retention_days')::integer, p_unverified_days) as unverified_days
        from jsonb_each(p_retention) as w
    ),
    doomed as (
        select b.workspace_id, b.lead_id
        from public.buffer_leads as b
        left join settings as s on s.workspace_id = b.workspace_id
        where (
                (b.state = 'buffered' or (b.state = 'claimed' and b.lease_until < p_now))
                and b.pushed_at < p_now - make_interval(days => coalesce(s.results_days, p_results_days))
            )
            or (
                b.state = 'served'
                and b.updated_at < p_now - make_interval(days => case
                    when case when jsonb_typeof(b.result -> 'emails') = 'array'
                            then jsonb_array_length(b.result -> 'emails') > 0
                                and not exists (
                                    select 1 from jsonb_array_elements(b.result -> 'emails') as e(address)
                                    where e.address ->> 'status' = 'active'
                                )
                            else false end
                        then least(
                            coalesce(s.unverified_days, p_unverified_days),
                            coalesce(s.results_days, p_results_days)
                        )
                    else coalesce(s.results_days, p_results_days)
                end)
            )
        limit v_batch
        for update of b skip locked
    )
    delete from public.buffer_leads as b using doomed as d
    where b.workspace_id = d.workspace_id and b.lead_id = d.lead_id;
    get diagnostics v_leads = row_count;

    with doomed as (
        select r.workspace_id, r.namespace, r.lead_key
        from public.buffer_served as r
        where r.served_at < p_now - make_interval(days => p_registry_days)
        limit v_batch
        for update of r skip locked
    )
    delete from public.buffer_served as r using doomed as d
    where r.workspace_id = d.workspace_id and r.namespace = d.namespace and r.lead_key = d.lead_key;
    get diagnostics v_registry = row_count;

    return jsonb_build_object(
        'buffer_leads', v_leads,
        'buffer_registry', v_registry,
        'more', v_leads >= v_batch or v_registry >= v_batch
    );
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Privileges: the service role only.

do $$
declare
    f text;
begin
    foreach f in array array[
        'public.lead_buffer_push(text, text, jsonb)',
        'public.lead_buffer_serve(text, text, text, jsonb, timestamptz)',
        'public.erasure_find_buffer(text, text[])',
        'public.erasure_rewrite_buffer(text, text[], jsonb, text[])',
        'public.buffer_purge_expired(timestamptz, jsonb, integer, integer, integer, integer)'
    ] loop
        execute format('revoke all on function %s from public, anon, authenticated', f);
        execute format('grant execute on function %s to service_role', f);
    end loop;
end;
$$;

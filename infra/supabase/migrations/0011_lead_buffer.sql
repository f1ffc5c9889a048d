-- 0011_lead_buffer: the lead buffer (issue 15 part 1; docs/buffer.md; leadenrich/supabase/buffer.py).
--
-- buffer_leads holds one row per lead pushed into a namespace (a campaign) of a workspace: the lead as given
-- (jsonb), the caller's data, where it is in the buffer (buffered, claimed under a lease, served) and its
-- enrichment (seed 002's enrichment_status, enriched_at, enrichment_error, sources_used, sources_failed, and
-- the engine's result as the job items keep theirs). The same record serves the later parts of issue 15.
-- buffer_cursors holds each namespace's pagination state, opaque to the service.
--
--   lead_buffer_push(ws, ns, leads)          each lead inserted unless the namespace holds its lead_key:
--                                            {"buffered", "already_served", "already_buffered"}
--   lead_buffer_claim(ws, ns, run, token, lease_until, now)
--                                            the run's lead (lease renewed while claimed), else the oldest
--                                            buffered lead or claim whose lease ran out, claimed: one row
--                                            as JSON, or null
--   lead_buffer_serve(ws, lead_id, token, enrichment, now)
--                                            served with its enrichment while the token holds it: the row,
--                                            or null
--   lead_buffer_discard(ws, lead_id, token)  a claimed lead deleted while the token holds it (suppressed)
--   lead_buffer_served(ws, ns, status, since, until, after_at, after_id, limit)
--                                            served leads, newest first, a keyset page: one JSON array
--   lead_buffer_put_cursor(ws, ns, state, now)
--
-- Atomic under concurrency: a claim selects its candidate FOR UPDATE SKIP LOCKED (concurrent claims take
-- different rows and never wait on each other) and the UPDATE's WHERE re-checks the state. A run holds at
-- most one lead per namespace (unique index on parent_run_id): of two concurrent calls of one run, the
-- second's UPDATE meets the first's row in the unique index, waits for it to commit, fails, and answers
-- the run's lead instead. Answers are one JSON value, never a set (PostgREST cuts sets at max rows).
--
-- RLS on, no policy: only the service role (which bypasses RLS; every function takes the workspace and
-- filters on it) reads or writes these tables, and only it may execute the functions. SECURITY INVOKER with
-- an empty search_path, like 0002's. Idempotent: if not exists, create or replace.

create table if not exists public.buffer_leads (
    workspace_id text not null,
    lead_id text not null,
    namespace text not null,
    lead_key text not null,
    lead jsonb not null,
    data jsonb,
    state text not null check (state in ('buffered', 'claimed', 'served')),
    pushed_at timestamp with time zone not null,
    parent_run_id text,
    claim_token text,
    lease_until timestamp with time zone,
    served_at timestamp with time zone,
    enrichment_status text not null default 'pending'
        check (enrichment_status in ('pending', 'completed', 'failed', 'deferred')),
    enriched_at timestamp with time zone,
    enrichment_error text,
    sources_used text[] not null default '{}',
    sources_failed text[] not null default '{}',
    result jsonb,
    updated_at timestamp with time zone not null default now(),

    primary key (workspace_id, lead_id),
    constraint buffer_leads_identity unique (workspace_id, namespace, lead_key),
    constraint buffer_leads_claimed check (state <> 'claimed' or (claim_token is not null and lease_until is not null)),
    constraint buffer_leads_served check ((state = 'served') = (served_at is not null))
);

create unique index if not exists idx_buffer_leads_run
    on public.buffer_leads (workspace_id, namespace, parent_run_id) where parent_run_id is not null;
create index if not exists idx_buffer_leads_ready
    on public.buffer_leads (workspace_id, namespace, pushed_at, lead_id) where state in ('buffered', 'claimed');
create index if not exists idx_buffer_leads_served
    on public.buffer_leads (workspace_id, served_at desc, lead_id desc) where state = 'served';

create table if not exists public.buffer_cursors (
    workspace_id text not null,
    namespace text not null,
    state jsonb not null,
    updated_at timestamp with time zone not null,

    primary key (workspace_id, namespace)
);

alter table public.buffer_leads enable row level security;
alter table public.buffer_cursors enable row level security;
revoke all on table public.buffer_leads, public.buffer_cursors from public, anon, authenticated;
grant select, insert, update, delete on table public.buffer_leads, public.buffer_cursors to service_role;

-- ---------------------------------------------------------------------------------------------------------
-- Push: p_leads is an array of buffer_leads rows (lead_id, lead_key, lead, data, pushed_at, ...); their
-- workspace and namespace are the call's. A lead whose lead_key the namespace holds is not inserted (nor is
-- the second of two equal keys in one push); each such lead is counted by the state of the row it met.

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
        order by r.ordinality
        on conflict do nothing
        returning b.lead_id
    )
    select coalesce(array_agg(i.lead_id), '{}') into v_inserted from inserted as i;

    select count(*) into v_served
    from jsonb_populate_recordset(null::public.buffer_leads, coalesce(p_leads, '[]'::jsonb)) as r
    join public.buffer_leads as b
        on b.workspace_id = p_workspace_id and b.namespace = p_namespace and b.lead_key = r.lead_key
    where not r.lead_id = any(v_inserted) and b.state = 'served';

    return jsonb_build_object(
        'buffered', cardinality(v_inserted),
        'already_served', v_served,
        'already_buffered', v_total - cardinality(v_inserted) - v_served
    );
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Claim. The run's lead first (claimed: its lease renewed; served: as it is). Else the oldest lead that is
-- buffered, or claimed with a lease that ran out before p_now, locked with SKIP LOCKED so concurrent claims
-- take different rows; the UPDATE re-checks the state. A concurrent call of the same run that claimed first
-- makes this UPDATE a unique violation: the run's lead is answered instead.

create or replace function public.lead_buffer_claim(
    p_workspace_id text, p_namespace text, p_parent_run_id text, p_token text, p_lease_until timestamptz,
    p_now timestamptz
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_lead public.buffer_leads;
begin
    if p_parent_run_id is not null then
        update public.buffer_leads as b
        set lease_until = case when b.state = 'claimed' then p_lease_until else b.lease_until end,
            updated_at = case when b.state = 'claimed' then p_now else b.updated_at end
        where b.workspace_id = p_workspace_id and b.namespace = p_namespace
            and b.parent_run_id = p_parent_run_id and b.state in ('claimed', 'served')
        returning b.* into v_lead;
        if v_lead.lead_id is not null then
            return to_jsonb(v_lead);
        end if;
    end if;

    select b.* into v_lead
    from public.buffer_leads as b
    where b.workspace_id = p_workspace_id and b.namespace = p_namespace
        and (b.state = 'buffered' or (b.state = 'claimed' and b.lease_until < p_now))
    order by b.pushed_at, b.lead_id
    limit 1
    for update skip locked;
    if v_lead.lead_id is null then
        return null;
    end if;

    begin
        update public.buffer_leads as b
        set state = 'claimed', claim_token = p_token, lease_until = p_lease_until,
            parent_run_id = p_parent_run_id, updated_at = p_now
        where b.workspace_id = p_workspace_id and b.lead_id = v_lead.lead_id
            and (b.state = 'buffered' or (b.state = 'claimed' and b.lease_until < p_now))
        returning b.* into v_lead;
    exception when unique_violation then
        select b.* into v_lead
        from public.buffer_leads as b
        where b.workspace_id = p_workspace_id and b.namespace = p_namespace
            and b.parent_run_id = p_parent_run_id and b.state in ('claimed', 'served');
    end;
    if v_lead.lead_id is null or v_lead.state = 'buffered' then
        return null;
    end if;
    return to_jsonb(v_lead);
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Serve: p_enrichment holds the enrichment columns (enrichment_status, enriched_at, enrichment_error,
-- sources_used, sources_failed, result). Only while p_token holds the lead (claimed, or served already to
-- the same claim: a retried run's new enrichment). The served time is the first serve's.

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
    return to_jsonb(v_lead);
end;
$$;

create or replace function public.lead_buffer_discard(p_workspace_id text, p_lead_id text, p_token text)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
begin
    delete from public.buffer_leads as b
    where b.workspace_id = p_workspace_id and b.lead_id = p_lead_id and b.claim_token = p_token
        and b.state = 'claimed';
    return found;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- The served listing, newest first (served_at, then lead_id), through idx_buffer_leads_served.

create or replace function public.lead_buffer_served(
    p_workspace_id text, p_namespace text, p_enrichment_status text, p_since timestamptz,
    p_until timestamptz, p_after_served_at timestamptz, p_after_lead_id text, p_limit integer
)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    select coalesce(jsonb_agg(to_jsonb(page) order by page.served_at desc, page.lead_id desc), '[]'::jsonb)
    from (
        select b.*
        from public.buffer_leads as b
        where b.workspace_id = p_workspace_id and b.state = 'served'
            and (p_namespace is null or b.namespace = p_namespace)
            and (p_enrichment_status is null or b.enrichment_status = p_enrichment_status)
            and (p_since is null or b.served_at >= p_since)
            and (p_until is null or b.served_at < p_until)
            and (
                p_after_served_at is null
                or b.served_at < p_after_served_at
                or (b.served_at = p_after_served_at and b.lead_id < p_after_lead_id)
            )
        order by b.served_at desc, b.lead_id desc
        limit least(greatest(coalesce(p_limit, 100), 1), 1001)
    ) as page
$$;

create or replace function public.lead_buffer_put_cursor(
    p_workspace_id text, p_namespace text, p_state jsonb, p_now timestamptz
)
returns jsonb
language sql
security invoker
set search_path = ''
as $$
    insert into public.buffer_cursors as c (workspace_id, namespace, state, updated_at)
    values (p_workspace_id, p_namespace, p_state, p_now)
    on conflict (workspace_id, namespace) do update set state = excluded.state, updated_at = excluded.updated_at
    returning to_jsonb(c)
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Privileges: the service role only.

do $$
declare
    f text;
begin
    foreach f in array array[
        'public.lead_buffer_push(text, text, jsonb)',
        'public.lead_buffer_claim(text, text, text, text, timestamptz, timestamptz)',
        'public.lead_buffer_serve(text, text, text, jsonb, timestamptz)',
        'public.lead_buffer_discard(text, text, text)',
        'public.lead_buffer_served(text, text, text, timestamptz, timestamptz, timestamptz, text, integer)',
        'public.lead_buffer_put_cursor(text, text, jsonb, timestamptz)'
    ] loop
        execute format('revoke all on function %s from public, anon, authenticated', f);
        execute format('grant execute on function %s to service_role', f);
    end loop;
end;
$$;

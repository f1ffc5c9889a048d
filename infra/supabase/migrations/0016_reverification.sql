-- 0016_reverification: what the re-verification sweep reads and writes in Supabase `emails` (issue 15 part
-- 4; docs/reverification.md; leadenrich/supabase/reverify.py, the sweep in leadenrich/reverify/service.py).
--
--   reverify_stale_emails(ws, before, limit)   the workspace's active addresses verified before `before`:
--                                              one entry per address (lower case) with its oldest
--                                              verified_at and how many of the workspace's leads hold it
--                                              (`uses`), oldest first, most used first among equals, at
--                                              most `limit`: one JSON array
--   reverify_apply_emails(ws, address, status, hunter_status, deliverability, verified_at)
--                                              the workspace's rows of the address given the new verdict
--                                              (only those whose verdict or verified_at differ: repeating
--                                              the call writes nothing); each written row's lead id and the
--                                              verdict it had before
--
-- Only active rows are candidates: an address is active only when it was verified (deliverable, score
-- above 80, not catch-all), and `verified_at` defaults to the row's creation on rows written before
-- verification was tracked. The partial index idx_emails_reverify makes the selection a range read of the
-- workspace's active rows by time, not a scan of `emails`.
--
-- SECURITY INVOKER with an empty search_path, like 0013's; only service_role may execute them (the
-- processor names the workspace). Idempotent: create or replace.

create index if not exists idx_emails_reverify on public.emails (workspace_id, verified_at)
    where status = 'active';

create or replace function public.reverify_stale_emails(
    p_workspace_id text, p_before timestamptz, p_limit integer
)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    select coalesce(
        jsonb_agg(
            jsonb_build_object('email', s.email, 'verified_at', s.oldest, 'uses', s.uses)
            order by s.oldest, s.uses desc, s.email
        ),
        '[]'::jsonb
    )
    from (
        select lower(e.email) as email, min(e.verified_at) as oldest, count(*) as uses
        from public.emails as e
        where e.workspace_id = p_workspace_id
            and e.status = 'active'
            and e.verified_at < p_before
        group by lower(e.email)
        order by min(e.verified_at), count(*) desc, lower(e.email)
        limit greatest(coalesce(p_limit, 0), 0)
    ) as s
$$;

create or replace function public.reverify_apply_emails(
    p_workspace_id text,
    p_address text,
    p_status text,
    p_hunter_status text,
    p_deliverability text,
    p_verified_at timestamptz
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_rows jsonb;
begin
    with held as (
        select e.id, e.lead_id, e.status, e.hunter_status, e.deliverability, e.verified_at
        from public.emails as e
        where e.workspace_id = p_workspace_id
            and lower(e.email) = lower(p_address)
            and (e.status, e.hunter_status, e.deliverability, e.verified_at)
                is distinct from (p_status, p_hunter_status, p_deliverability, p_verified_at)
        for update
    ),
    written as (
        update public.emails as e
        set status = p_status, hunter_status = p_hunter_status, deliverability = p_deliverability,
            verified_at = p_verified_at
        from held as h
        where e.id = h.id
        returning h.lead_id, h.status, h.hunter_status, h.deliverability, h.verified_at
    )
    select coalesce(
        jsonb_agg(
            jsonb_build_object(
                'lead_id', w.lead_id, 'status', w.status, 'hunter_status', w.hunter_status,
                'deliverability', w.deliverability, 'verified_at', w.verified_at
            )
            order by w.lead_id
        ),
        '[]'::jsonb
    )
    into v_rows
    from written as w;
    return v_rows;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Privileges: the service role only.

do $$
declare
    f text;
begin
    foreach f in array array[
        'public.reverify_stale_emails(text, timestamptz, integer)',
        'public.reverify_apply_emails(text, text, text, text, text, timestamptz)'
    ] loop
        execute format('revoke all on function %s from public, anon, authenticated', f);
        execute format('grant execute on function %s to service_role', f);
    end loop;
end;
$$;

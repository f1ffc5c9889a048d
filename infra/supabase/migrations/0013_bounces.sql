-- 0013_bounces: what a hard bounce reported by a workspace's sending tool marks in Supabase (issue 15;
-- docs/bounces.md; leadenrich/supabase/bounces.py, the rules in leadenrich/bounces/rules.py).
--
--   bounce_find_items(ws, addresses)      the workspace's job items whose result lists one of the addresses
--                                         (lower case), with their lead and lead id: one JSON array
--   bounce_rewrite_items(ws, items)       each item's result replaced, only while it is still the result
--                                         that was read (a processor or a reviewer that changed it
--                                         meanwhile wins; the runtime reads it again); nothing else of the
--                                         item changes; the keys of the items written
--   bounce_mark_emails(ws, addresses)     the workspace's `emails` rows of these addresses marked
--                                         undeliverable (status inactive, hunter_status and deliverability
--                                         undeliverable: what emails_deliverability_check allows); each
--                                         row's lead id, address, source and whether this call changed it
--
-- Which address of a result is marked, and how, is decided by the runtime's rules, the same for every
-- store: SQL only finds and writes. What it costs: bounce_find_items reads the workspace's items (no index
-- leads from an address into a result); the `emails` rows are found through idx_emails_workspace_email,
-- added here. Answers are one JSON value, never a set: PostgREST cuts sets at its max rows.
--
-- SECURITY INVOKER with an empty search_path, like 0002's; only service_role may execute them (the webhook
-- function names the workspace its sending tool's signature proved). Idempotent: create or replace.

create index if not exists idx_emails_workspace_email on public.emails (workspace_id, lower(email));

create or replace function public.bounce_find_items(p_workspace_id text, p_addresses text[])
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    select coalesce(
        jsonb_agg(
            jsonb_build_object(
                'job_id', i.job_id, 'item_id', i.item_id, 'status', i.status, 'lead', i.lead,
                'lead_id', i.lead_id, 'result', i.result
            )
            order by i.job_id, i.item_id
        ),
        '[]'::jsonb
    )
    from public.job_items as i
    where i.workspace_id = p_workspace_id
        and jsonb_typeof(i.result -> 'emails') = 'array'
        and exists (
            select 1
            from jsonb_array_elements(i.result -> 'emails') as e(entry)
            where lower(e.entry ->> 'email') = any(coalesce(p_addresses, '{}'))
        )
$$;

create or replace function public.bounce_rewrite_items(p_workspace_id text, p_items jsonb)
returns jsonb
language sql
security invoker
set search_path = ''
as $$
    with written as (
        update public.job_items as i
        set result = r.result
        from jsonb_to_recordset(coalesce(p_items, '[]'::jsonb))
            as r(job_id text, item_id text, expected jsonb, result jsonb)
        where i.workspace_id = p_workspace_id
            and i.job_id = r.job_id
            and i.item_id = r.item_id
            and i.result = r.expected
            and jsonb_typeof(r.result) = 'object'
        returning i.job_id, i.item_id
    )
    select coalesce(
        jsonb_agg(jsonb_build_object('job_id', w.job_id, 'item_id', w.item_id) order by w.job_id, w.item_id),
        '[]'::jsonb
    )
    from written as w
$$;

create or replace function public.bounce_mark_emails(p_workspace_id text, p_addresses text[])
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_rows jsonb;
begin
    with held as (
        select e.id, e.lead_id, lower(e.email) as email, e.source,
            (e.status, e.hunter_status, e.deliverability)
                is distinct from ('inactive', 'undeliverable', 'undeliverable') as unmarked
        from public.emails as e
        where e.workspace_id = p_workspace_id
            and lower(e.email) = any(coalesce(p_addresses, '{}'))
    ),
    marked as (
        update public.emails as e
        set status = 'inactive', hunter_status = 'undeliverable', deliverability = 'undeliverable'
        from held as h
        where e.id = h.id and h.unmarked
        returning e.id
    )
    select coalesce(
        jsonb_agg(
            jsonb_build_object(
                'lead_id', h.lead_id, 'email', h.email, 'source', h.source,
                'changed', h.id in (select m.id from marked as m)
            )
            order by h.email, h.lead_id
        ),
        '[]'::jsonb
    )
    into v_rows
    from held as h;
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
        'public.bounce_find_items(text, text[])',
        'public.bounce_rewrite_items(text, jsonb)',
        'public.bounce_mark_emails(text, text[])'
    ] loop
        execute format('revoke all on function %s from public, anon, authenticated', f);
        execute format('grant execute on function %s to service_role', f);
    end loop;
end;
$$;

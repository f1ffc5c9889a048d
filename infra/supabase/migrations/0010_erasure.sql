-- 0010_erasure: what an erasure request reads and changes in Supabase (issue 14; docs/privacy.md "Erasure";
-- leadenrich/supabase/erasure.py, the rules in leadenrich/privacy/erasure_rules.py).
--
-- Which rows hold a person is decided by the runtime's rules (names compared without case, accents and
-- punctuation; addresses inside an item's result), the same for every store, so SQL only narrows and writes:
--
--   erasure_find_items(ws, patterns)          the workspace's job items whose lead, result, reason or lead id
--                                             holds one of the patterns (the subject's domains, lead ids and
--                                             external ids, lower case): one JSON array
--   erasure_rewrite_items(ws, items)          each item's lead, result and reason replaced, only while its
--                                             status is still the one read (a processor that finished or
--                                             requeued it meanwhile wins; the runtime reads it again); the
--                                             status, attempts and the job's counters stay as they are
--   erasure_find_leads(ws, ids, external_ids, domains, addresses)
--                                             the workspace's leads with one of these ids or external ids,
--                                             at one of these domains, or with an address of these: each
--                                             with its addresses (email, contact), one JSON array
--   erasure_erase_leads(ws, lead_ids, addresses, domains)
--                                             deletes the workspace's `emails` rows of these leads, these
--                                             addresses or at these domains, and clears these leads'
--                                             first_name, last_name and external_id (the lead row, its
--                                             company and domain stay: the customer's record of a company);
--                                             {"emails_removed": n, "leads_changed": n}
--
-- What it costs: erasure_find_items reads every item of the workspace (no index leads from a name to the
-- items that hold it; an erasure is rare); the leads are found through idx_leads_workspace_domain_key and the
-- external id's index. Answers are one JSON value, never a set: PostgREST cuts sets at its max rows.
--
-- SECURITY INVOKER with an empty search_path, like 0002's; only service_role may execute them (an erasure
-- goes through the API, which names the workspace). Idempotent: create or replace.

create or replace function public.erasure_find_items(p_workspace_id text, p_patterns text[])
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
                'lead_id', i.lead_id, 'result', i.result, 'reason', i.reason
            )
            order by i.job_id, i.item_id
        ),
        '[]'::jsonb
    )
    from public.job_items as i
    where i.workspace_id = p_workspace_id
        and exists (
            select 1
            from unnest(coalesce(p_patterns, '{}')) as p(pattern)
            where p.pattern <> ''
                and strpos(
                    lower(
                        i.lead::text || ' ' || coalesce(i.result::text, '') || ' ' || coalesce(i.reason, '')
                        || ' ' || coalesce(i.lead_id::text, '')
                    ),
                    p.pattern
                ) > 0
        )
$$;

create or replace function public.erasure_rewrite_items(p_workspace_id text, p_items jsonb)
returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_count integer;
begin
    update public.job_items as i
    set lead = r.lead,
        result = case when jsonb_typeof(r.result) = 'object' then r.result end,
        reason = r.reason
    from jsonb_to_recordset(coalesce(p_items, '[]'::jsonb))
        as r(job_id text, item_id text, status text, lead jsonb, result jsonb, reason text)
    where i.workspace_id = p_workspace_id
        and i.job_id = r.job_id
        and i.item_id = r.item_id
        and i.status = r.status
        and jsonb_typeof(r.lead) = 'object';
    get diagnostics v_count = row_count;
    return v_count;
end;
$$;

create or replace function public.erasure_find_leads(
    p_workspace_id text,
    p_lead_ids uuid[],
    p_external_ids text[],
    p_domains text[],
    p_addresses text[]
)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    select coalesce(
        jsonb_agg(
            jsonb_build_object(
                'id', l.id, 'domain', l.domain, 'first_name', l.first_name, 'last_name', l.last_name,
                'external_id', l.external_id,
                'emails', coalesce(
                    (
                        select jsonb_agg(jsonb_build_object('email', e.email, 'contact', e.contact))
                        from public.emails as e
                        where e.workspace_id = l.workspace_id and e.lead_id = l.id
                    ),
                    '[]'::jsonb
                )
            )
            order by l.id
        ),
        '[]'::jsonb
    )
    from public.leads as l
    where l.workspace_id = p_workspace_id
        and (
            l.id = any(coalesce(p_lead_ids, '{}'))
            or l.external_id = any(coalesce(p_external_ids, '{}'))
            or public.lead_domain_key(l.domain) = any(coalesce(p_domains, '{}'))
            or exists (
                select 1 from public.emails as e
                where e.workspace_id = l.workspace_id and e.lead_id = l.id
                    and lower(e.email) = any(coalesce(p_addresses, '{}'))
            )
        )
$$;

create or replace function public.erasure_erase_leads(
    p_workspace_id text,
    p_lead_ids uuid[],
    p_addresses text[],
    p_domains text[]
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_emails integer;
    v_leads integer;
begin
    delete from public.emails as e
    where e.workspace_id = p_workspace_id
        and (
            e.lead_id = any(coalesce(p_lead_ids, '{}'))
            or lower(e.email) = any(coalesce(p_addresses, '{}'))
            or split_part(lower(e.email), '@', 2) = any(coalesce(p_domains, '{}'))
        );
    get diagnostics v_emails = row_count;

    update public.leads as l
    set first_name = null, last_name = null, external_id = null
    where l.workspace_id = p_workspace_id
        and l.id = any(coalesce(p_lead_ids, '{}'))
        and (l.first_name is not null or l.last_name is not null or l.external_id is not null);
    get diagnostics v_leads = row_count;

    return jsonb_build_object('emails_removed', v_emails, 'leads_changed', v_leads);
end;
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Privileges: the service role only.

do $$
declare
    f text;
begin
    foreach f in array array[
        'public.erasure_find_items(text, text[])',
        'public.erasure_rewrite_items(text, jsonb)',
        'public.erasure_find_leads(text, uuid[], text[], text[], text[])',
        'public.erasure_erase_leads(text, uuid[], text[], text[])'
    ] loop
        execute format('revoke all on function %s from public, anon, authenticated', f);
        execute format('grant execute on function %s to service_role', f);
    end loop;
end;
$$;

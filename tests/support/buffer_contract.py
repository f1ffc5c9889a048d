"""The `LeadBuffer` contract (`leadenrich.buffer.ports`), written once and held to every adapter: SQLite
(tests/adapters/sqlite/test_sqlite_buffer.py), DynamoDB on moto (tests/adapters/dynamo/test_dynamo_buffer.py)
and Supabase on PostgreSQL + PostgREST (tests/adapters/supabase/test_supabase_buffer.py). Each subclasses
`LeadBufferContract` and provides a `buffer` fixture: a fresh, empty store.

Given leads pushed into namespaces, the store de-duplicates them per namespace, hands each to exactly one
claim (oldest first, concurrent claims included), lets a run retry without taking a second lead, takes a
claim back once its lease ran out, serves only under the claim's token, and lists what it served, newest
first, filtered and in pages whose cursors continue only their own listing.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadenrich.buffer.models import (
    BufferState,
    Enrichment,
    EnrichmentStatus,
    LeadRecord,
    ServedQuery,
    lead_key,
    new_lead_ids,
)
from leadenrich.buffer.ports import LeadBuffer
from leadenrich.buffer.rows import served_cursor
from leadenrich.engine.models import Lead
from leadenrich.jobs.encoding import BadCursor, encode_cursor

WS = "acme"
NS = "campaign-1"
NOW = datetime.now(UTC).replace(microsecond=250_000)
LEASE = timedelta(seconds=60)
FOUND = Enrichment(
    status=EnrichmentStatus.COMPLETED,
    enriched_at=NOW,
    sources_used=("hunter",),
    result={
        "status": "found",
        "emails": [{"email": "ada@acme-robotics.com", "status": "active", "deliverability": "verified"}],
        "reason": None,
    },
)


def records(
    *domains: str, workspace_id: str = WS, namespace: str = NS, at: datetime = NOW, **lead: Any
) -> list[LeadRecord]:
    """Records of company leads (or of one person, with `first_name`/`last_name`), pushed at `at`."""
    leads = [Lead(domain=domain, **lead) for domain in domains]
    return [
        LeadRecord(
            workspace_id=workspace_id,
            namespace=namespace,
            lead_id=lead_id,
            lead_key=lead_key(one),
            lead=one,
            state=BufferState.BUFFERED,
            pushed_at=at,
            updated_at=at,
        )
        for one, lead_id in zip(leads, new_lead_ids(at, len(leads)), strict=True)
    ]


async def claim(
    buffer: LeadBuffer,
    run: str | None = None,
    *,
    token: str = "t1",
    now: datetime = NOW,
    namespace: str = NS,
    workspace_id: str = WS,
) -> LeadRecord | None:
    return await buffer.claim(
        workspace_id, namespace, parent_run_id=run, token=token, lease_until=now + LEASE, now=now
    )


async def claimed(buffer: LeadBuffer, run: str | None = None, **kwargs: Any) -> LeadRecord:
    record = await claim(buffer, run, **kwargs)
    assert record is not None
    return record


async def serve_all(
    buffer: LeadBuffer, count: int, *, start: datetime = NOW, namespace: str = NS
) -> list[str]:
    """Claim and serve `count` leads, one a second from `start`; their domains in the order served."""
    served = []
    for n in range(count):
        at = start + timedelta(seconds=n)
        record = await claimed(buffer, token=f"s{n}", now=at, namespace=namespace)
        enrichment = FOUND if n % 2 == 0 else Enrichment(status=EnrichmentStatus.DEFERRED, error="x")
        done = await buffer.serve(record, enrichment, at)
        assert done is not None
        served.append(done.lead.domain)
    return served


class LeadBufferContract:
    """The port's guarantees; subclasses provide a `buffer` fixture (a fresh, empty store)."""

    # --- push: de-duplication ----------------------------------------------------------------------------

    async def test_push_buffers_new_leads_once_per_namespace(self, buffer: LeadBuffer) -> None:
        counts = await buffer.push(WS, NS, records("acme.com", "globex.io", "acme.com"))
        assert (counts.buffered, counts.already_buffered, counts.already_served) == (2, 1, 0)
        again = await buffer.push(WS, NS, records("acme.com", "initech.example"))
        assert (again.buffered, again.already_buffered, again.already_served) == (1, 1, 0)
        # Another namespace, or another workspace, is another buffer.
        assert (
            await buffer.push(WS, "campaign-2", records("acme.com", namespace="campaign-2"))
        ).buffered == 1
        assert (await buffer.push("other", NS, records("acme.com", workspace_id="other"))).buffered == 1
        assert (await buffer.push(WS, NS, [])).buffered == 0

    async def test_a_served_lead_is_skipped_by_every_later_push(self, buffer: LeadBuffer) -> None:
        await buffer.push(WS, NS, records("acme.com", "globex.io"))
        record = await claimed(buffer)
        assert await buffer.serve(record, FOUND, NOW) is not None
        later = NOW + timedelta(minutes=5)
        counts = await buffer.push(WS, NS, records("acme.com", "globex.io", "initech.example", at=later))
        assert (counts.buffered, counts.already_served, counts.already_buffered) == (1, 1, 1)

    async def test_a_person_and_their_company_are_different_leads(self, buffer: LeadBuffer) -> None:
        company = records("acme.com")
        person = records("acme.com", first_name="Ada", last_name="Lovelace")
        same_person = records("https://www.ACME.com/team", first_name="ada ", last_name=" LOVELACE")
        assert (await buffer.push(WS, NS, [*company, *person])).buffered == 2
        assert (await buffer.push(WS, NS, same_person)).already_buffered == 1

    # --- claim ---------------------------------------------------------------------------------------------

    async def test_claims_take_the_oldest_lead_first_and_each_lead_once(self, buffer: LeadBuffer) -> None:
        await buffer.push(WS, NS, records("first.com", "second.com", at=NOW - timedelta(seconds=2)))
        await buffer.push(WS, NS, records("third.com", at=NOW - timedelta(seconds=1)))
        taken = [await claimed(buffer, token=f"t{n}") for n in range(3)]
        assert [r.lead.domain for r in taken] == ["first.com", "second.com", "third.com"]
        assert all(r.state is BufferState.CLAIMED for r in taken)
        assert [r.claim_token for r in taken] == ["t0", "t1", "t2"]
        assert taken[0].lease_until == NOW + LEASE
        assert await claim(buffer, token="t3") is None
        assert await claim(buffer, namespace="campaign-2") is None

    async def test_a_claim_stays_in_its_workspace_and_namespace(self, buffer: LeadBuffer) -> None:
        await buffer.push("other", NS, records("theirs.com", workspace_id="other"))
        await buffer.push(WS, "campaign-2", records("elsewhere.com", namespace="campaign-2"))
        assert await claim(buffer) is None
        assert (await claimed(buffer, namespace="campaign-2")).lead.domain == "elsewhere.com"

    async def test_a_run_gets_its_one_lead_back_on_every_retry(self, buffer: LeadBuffer) -> None:
        await buffer.push(WS, NS, records("acme.com", "globex.io"))
        first = await claimed(buffer, "run-1", token="a")
        later = NOW + timedelta(seconds=50)
        retried = await claimed(buffer, "run-1", token="b", now=later)
        assert (retried.lead_id, retried.claim_token, retried.parent_run_id) == (first.lead_id, "a", "run-1")
        assert retried.lease_until == later + LEASE  # the retry renews the lease
        other = await claimed(buffer, "run-2", token="c")
        assert other.lead_id != first.lead_id
        served = await buffer.serve(retried, FOUND, later)
        assert served is not None and served.state is BufferState.SERVED
        after = await claimed(buffer, "run-1", token="d", now=later + timedelta(hours=1))
        assert (after.lead_id, after.state, after.claim_token) == (first.lead_id, BufferState.SERVED, "a")
        assert after.enrichment == served.enrichment

    async def test_concurrent_claims_never_share_a_lead(self, buffer: LeadBuffer) -> None:
        await buffer.push(WS, NS, records(*(f"company{n}.com" for n in range(8))))
        taken = await asyncio.gather(*(claim(buffer, f"run-{n}", token=f"t{n}") for n in range(12)))
        got = [r.lead.domain for r in taken if r is not None]
        assert len(got) == 8 and len(set(got)) == 8
        assert sum(r is None for r in taken) == 4

    async def test_concurrent_retries_of_one_run_share_its_lead(self, buffer: LeadBuffer) -> None:
        await buffer.push(WS, NS, records(*(f"company{n}.com" for n in range(6))))
        taken = await asyncio.gather(*(claim(buffer, "run-1", token=f"t{n}") for n in range(6)))
        assert len({r.lead_id for r in taken if r is not None}) == 1 and None not in taken
        rest = await asyncio.gather(*(claim(buffer, token=f"u{n}") for n in range(5)))
        assert None not in rest and len({r.lead_id for r in rest if r} | {taken[0].lead_id}) == 6  # type: ignore[union-attr]

    async def test_a_claim_whose_lease_ran_out_is_taken_back(self, buffer: LeadBuffer) -> None:
        await buffer.push(WS, NS, records("acme.com"))
        stuck = await claimed(buffer, "run-1", token="dead")
        assert await claim(buffer, "run-2", token="live", now=NOW + LEASE - timedelta(seconds=1)) is None
        recovered = await claimed(buffer, "run-2", token="live", now=NOW + LEASE + timedelta(seconds=1))
        assert (recovered.lead_id, recovered.parent_run_id) == (stuck.lead_id, "run-2")
        assert await buffer.serve(stuck, FOUND, NOW + LEASE) is None  # the dead caller's token holds nothing
        assert await buffer.discard(stuck) is False
        # The first run, retrying, holds nothing any more: it is not handed run-2's lead.
        assert await claim(buffer, "run-1", token="again", now=NOW + LEASE + timedelta(seconds=2)) is None
        assert await buffer.serve(recovered, FOUND, NOW + LEASE + timedelta(seconds=2)) is not None

    # --- serve and discard ---------------------------------------------------------------------------------

    async def test_serving_records_the_enrichment_and_the_time_once(self, buffer: LeadBuffer) -> None:
        pushed = records("acme.com", first_name="Ada", last_name="Lovelace", company_name="Acme")
        pushed = [replace(pushed[0], data={"source": "list-7", "score": [1, 2.5]})]
        await buffer.push(WS, NS, pushed)
        record = await claimed(buffer, "run-1")
        served = await buffer.serve(record, FOUND, NOW + timedelta(seconds=3))
        assert served is not None
        assert served.state is BufferState.SERVED and served.served_at == NOW + timedelta(seconds=3)
        assert served.enrichment == FOUND
        assert served.lead == pushed[0].lead and served.data == {"source": "list-7", "score": [1, 2.5]}
        assert served.pushed_at == NOW and served.lead_key == pushed[0].lead_key
        assert (await buffer.served(ServedQuery(WS))).items == [served]
        assert (await buffer.served(ServedQuery("other"))).items == []
        # The run's retry re-enriches: the enrichment is replaced, the served time stays.
        later = Enrichment(status=EnrichmentStatus.FAILED, enriched_at=NOW, error="hunter: key refused")
        again = await buffer.serve(served, later, NOW + timedelta(minutes=1))
        assert again is not None and again.enrichment == later and again.served_at == served.served_at
        assert await claim(buffer, token="next") is None  # never claimable again

    async def test_only_the_claims_token_serves_or_discards(self, buffer: LeadBuffer) -> None:
        await buffer.push(WS, NS, records("acme.com", "globex.io"))
        record = await claimed(buffer, token="mine")
        assert await buffer.serve(replace(record, claim_token="other"), FOUND, NOW) is None
        assert await buffer.discard(replace(record, claim_token="other")) is False
        assert await buffer.discard(record) is True
        assert await buffer.serve(record, FOUND, NOW) is None  # gone
        assert (await claimed(buffer, token="next")).lead.domain == "globex.io"
        # A discarded lead was never served: pushed again, it is buffered again.
        assert (await buffer.push(WS, NS, records("acme.com", at=NOW + timedelta(seconds=1)))).buffered == 1

    # --- the served listing --------------------------------------------------------------------------------

    async def test_served_leads_are_listed_newest_first_in_pages(self, buffer: LeadBuffer) -> None:
        await buffer.push(WS, NS, records(*(f"c{n}.com" for n in range(5))))
        order = await serve_all(buffer, 5)
        await buffer.push(WS, NS, records("waiting.com", at=NOW + timedelta(seconds=9)))
        listed, cursor, pages = [], None, 0
        while True:
            page = await buffer.served(ServedQuery(WS, limit=2, cursor=cursor))
            listed += [r.lead.domain for r in page.items]
            pages += 1
            if page.cursor is None:
                break
            cursor = page.cursor
        assert listed == list(reversed(order)) and pages == 3
        assert all(r.state is BufferState.SERVED for r in (await buffer.served(ServedQuery(WS))).items)
        assert (await buffer.served(ServedQuery("other"))).items == []

    async def test_served_leads_filter_by_namespace_status_and_time(self, buffer: LeadBuffer) -> None:
        await buffer.push(WS, NS, records("a.com", "b.com", "c.com"))
        await buffer.push(WS, "campaign-2", records("z.com", namespace="campaign-2"))
        await serve_all(buffer, 3)  # a.com found, b.com deferred, c.com found
        await serve_all(buffer, 1, start=NOW + timedelta(seconds=10), namespace="campaign-2")

        async def domains(**filters: Any) -> list[str]:
            return [r.lead.domain for r in (await buffer.served(ServedQuery(WS, **filters))).items]

        assert await domains(namespace="campaign-2") == ["z.com"]
        assert await domains(namespace=NS) == ["c.com", "b.com", "a.com"]
        assert await domains(enrichment_status=EnrichmentStatus.DEFERRED) == ["b.com"]
        assert await domains(namespace=NS, enrichment_status=EnrichmentStatus.COMPLETED) == ["c.com", "a.com"]
        one = timedelta(seconds=1)
        assert await domains(since=NOW + one) == ["z.com", "c.com", "b.com"]
        assert await domains(until=NOW + one) == ["a.com"]
        assert await domains(since=NOW + one, until=NOW + 2 * one) == ["b.com"]

    async def test_a_cursor_continues_only_its_own_listing(self, buffer: LeadBuffer) -> None:
        await buffer.push(WS, NS, records("a.com", "b.com", "c.com"))
        await serve_all(buffer, 3)
        page = await buffer.served(ServedQuery(WS, limit=1))
        assert page.cursor is not None
        for other in (
            ServedQuery("other", limit=1, cursor=page.cursor),
            ServedQuery(WS, namespace=NS, limit=1, cursor=page.cursor),
            ServedQuery(WS, limit=1, cursor="not-a-cursor"),
            ServedQuery(WS, limit=1, cursor=encode_cursor({"list": "jobs", "ws": WS})),
            ServedQuery(WS, limit=1, cursor=page.cursor[:-4]),
        ):
            with pytest.raises(BadCursor):
                await buffer.served(other)
        # A cursor of this very listing whose position lies outside its time range was never returned.
        narrow = ServedQuery(WS, since=NOW, limit=1)
        before = replace(page.items[0], served_at=NOW - timedelta(days=1))
        with pytest.raises(BadCursor):
            await buffer.served(replace(narrow, cursor=served_cursor(narrow, before)))

    # --- cursors -----------------------------------------------------------------------------------------

    async def test_a_namespaces_cursor_state_is_stored_and_replaced(self, buffer: LeadBuffer) -> None:
        assert await buffer.get_cursor(WS, NS) is None
        stored = await buffer.put_cursor(WS, NS, {"page": 5, "offset": 100, "seen": ["a"]}, NOW)
        assert (stored.state, stored.updated_at) == ({"page": 5, "offset": 100, "seen": ["a"]}, NOW)
        read = await buffer.get_cursor(WS, NS)
        assert read is not None and (read.state, read.updated_at) == (stored.state, NOW)
        await buffer.put_cursor(WS, NS, {"page": 6}, NOW + timedelta(seconds=1))
        again = await buffer.get_cursor(WS, NS)
        assert (
            again is not None
            and again.state == {"page": 6}
            and again.updated_at == NOW + timedelta(seconds=1)
        )
        assert await buffer.get_cursor(WS, "campaign-2") is None
        assert await buffer.get_cursor("other", NS) is None

"""Supabase benchmark: requests and time to upsert 10,000 addresses and to page 10,000 leads.

    python -m bench.supabase [--leads 10000] [--addresses 10000]

Runs against a throwaway Supabase stand-in (PostgreSQL + PostgREST + the /rest/v1 gateway of
enrich_tools.supabase_harness; `make test-servers` installs them) with the adapters the Lambdas use. Every
HTTP request is counted through an httpx event hook on the client passed in. Goal: batched, at most one
request per 500 rows. Times are on loopback; against a hosted project add one round trip per request,
which is why the request count is the figure that matters.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from collections.abc import Awaitable, Callable, Sequence, Sized
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = [ROOT / "layers/common", ROOT / "infra", ROOT]
GOAL_ROWS_PER_REQUEST = 500
WORKSPACE = "bench"


@dataclass
class Figure:
    what: str
    rows: int
    requests: int
    seconds: float

    @property
    def met(self) -> bool:
        return self.requests <= math.ceil(self.rows / GOAL_ROWS_PER_REQUEST) + 1  # +1: a look past the end

    def line(self) -> str:
        verdict = "met" if self.met else "MISSED"
        per_request = self.rows / self.requests if self.requests else 0
        requests = f"{self.requests:>4} requests ({per_request:>5.0f} rows each)"
        return f"  {self.what:<46} {self.rows:>6} rows  {requests}  {self.seconds:>6.2f} s  [{verdict}]"


async def measure(what: str, rows: int, exchanges: Sized, work: Callable[[], Awaitable[object]]) -> Figure:
    """Time `work` and count the requests it made (the recorder's exchanges grow by one per request)."""
    before = len(exchanges)
    started = time.perf_counter()
    await work()
    return Figure(what, rows, len(exchanges) - before, time.perf_counter() - started)


async def run(url: str, key: str, sql: Callable[[str], object], leads: int, addresses: int) -> list[Figure]:
    from leadenrich.engine.models import (
        Deliverability,
        EmailSource,
        EmailStatus,
        EmailType,
        FoundEmail,
        HunterStatus,
        Lead,
        Method,
    )
    from leadenrich.jobs.ports import EmailWrite
    from leadenrich.supabase.email_sink import SupabaseEmailSink
    from leadenrich.supabase.lead_source import SupabaseLeadSource
    from leadenrich.supabase.stats import SupabaseStats
    from tests.support.supabase_recording import RecordingConnect

    connect = RecordingConnect(url, key)
    source = SupabaseLeadSource(connect)
    sink = SupabaseEmailSink(connect)
    exchanges = connect.exchanges
    figures: list[Figure] = []
    try:
        sql(
            "insert into leads (workspace_id, company_name, domain)"
            f" select '{WORKSPACE}', 'Company ' || n, 'company-' || n || '.example.com'"
            f" from generate_series(1, {leads}) n"
        )

        async def page_all(skip: bool) -> None:
            async for _page in source.enrichable(WORKSPACE, skip_existing=skip, limit=leads):
                pass

        figures.append(
            await measure("page leads (process_all, keyset by id)", leads, exchanges, lambda: page_all(True))
        )

        ids: list[str] = []

        async def collect_ids() -> None:
            async for page in source.enrichable(WORKSPACE, skip_existing=False, limit=leads):
                ids.extend(lead.lead_id for lead in page)

        await collect_ids()

        async def by_ids() -> None:
            async for _page in source.by_ids(WORKSPACE, ids):
                pass

        figures.append(await measure("leads by id", len(ids), exchanges, by_ids))

        inline = [Lead(domain=f"company-{n}.example.com") for n in range(1, leads + 1)]

        async def register() -> None:
            async for _page in source.register(WORKSPACE, inline):
                pass

        figures.append(await measure("inline leads matched to stored leads", leads, exchanges, register))

        per_lead = 4
        now = datetime.now(UTC)

        def email(n: int, i: int, primary: int) -> FoundEmail:
            return FoundEmail(
                email=f"person{i}@company-{n}.example.com",
                source=EmailSource.HUNTER_DIRECT if i % 2 == 0 else EmailSource.PERPLEXITY_GENERATED,
                confidence_score=80 + i,
                email_type=EmailType.PRIMARY if i == primary else EmailType.SECONDARY,
                hunter_status=HunterStatus.DELIVERABLE,
                status=EmailStatus.ACTIVE,
                verified_at=now,
                method=Method.DOMAIN_SEARCH,
                deliverability=Deliverability.VERIFIED,
            )

        def writes(primary: int) -> Sequence[EmailWrite]:
            count = math.ceil(addresses / per_lead)
            return [
                EmailWrite(WORKSPACE, lead_id, tuple(email(n, i, primary) for i in range(per_lead)))
                for n, lead_id in enumerate(ids[:count])
            ]

        first, same, switched = writes(0), writes(0), writes(1)
        rows = sum(len(w.emails) for w in first)
        figures.append(await measure("upsert addresses (new)", rows, exchanges, lambda: sink.save(first)))
        figures.append(
            await measure("upsert the same addresses again (no-op)", rows, exchanges, lambda: sink.save(same))
        )
        figures.append(
            await measure(
                "upsert with a new primary per lead (demote)", rows, exchanges, lambda: sink.save(switched)
            )
        )
        figures.append(
            await measure("stats", leads, exchanges, lambda: SupabaseStats(connect).stats(WORKSPACE))
        )
    finally:
        await connect.aclose()
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--addresses", type=int, default=10_000)
    opts = parser.parse_args(argv)
    sys.path[:0] = [str(p) for p in PATHS if str(p) not in sys.path]
    from enrich_tools.supabase_harness import MissingBinaryError, SupabaseTestServer

    server = SupabaseTestServer()
    try:
        server.start()
    except MissingBinaryError as exc:
        print(f"supabase benchmark skipped: {exc}")
        return 0
    try:
        started = time.perf_counter()
        figures = asyncio.run(
            run(server.url, server.service_role_key, server.sql, opts.leads, opts.addresses)
        )
        total = time.perf_counter() - started
        stored = server.scalar("select count(*) from emails")
        primaries = server.scalar("select count(*) from emails where email_type = 'primary'")
    finally:
        server.stop()
    print(f"supabase: PostgREST on loopback; goal: at most 1 request per {GOAL_ROWS_PER_REQUEST} rows")
    for figure in figures:
        print(figure.line())
    print(f"  emails stored after three upserts: {stored} ({primaries} primary); all steps {total:.1f} s")
    return 0 if all(f.met for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Enrich many leads in one process, as the command line and the benchmark do.

Deferred leads are tried again a few times, as the runtime's queue would redeliver them; the cost of
every try is added to the lead's result, so a batch's total is what the providers billed. The shared
HTTP client belongs to whoever owns the event loop (`asyncio.run` in the command line and benchmark), and
is closed there, not here: other batches may share it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from leadenrich.engine.models import EnrichmentResult, Lead, LeadStatus, Usage

Enrich = Callable[[Lead], Awaitable[EnrichmentResult]]


async def enrich_many(
    enrich: Enrich,
    leads: Sequence[Lead],
    *,
    concurrency: int = 8,
    tries: int = 4,
    max_wait: float = 2.0,
) -> list[EnrichmentResult]:
    """Results in input order; a deferred lead waits min(retry_after, max_wait) before its next try."""
    gate = asyncio.Semaphore(concurrency)

    async def one(lead: Lead) -> EnrichmentResult:
        spent = Usage()
        for attempt in range(tries):
            async with gate:
                try:
                    result = await enrich(lead)
                except Exception as exc:  # one lead's failure never loses the others' results
                    result = EnrichmentResult(
                        domain=lead.domain,
                        status=LeadStatus.FAILED,
                        reason=f"unexpected error ({type(exc).__name__})",
                    )
            spent.add(result.usage)
            if attempt == tries - 1:
                result = result.settled()  # as the runtime does on an item's last attempt
            if result.status is not LeadStatus.DEFERRED or attempt == tries - 1:
                break
            await asyncio.sleep(min(result.retry_after or 0.0, max_wait))
        result.usage = spent
        return result

    return list(await asyncio.gather(*(one(lead) for lead in leads)))

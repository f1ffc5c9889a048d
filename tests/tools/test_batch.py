"""Batch enrichment: deferred leads are tried again, and every try's cost is counted."""

from __future__ import annotations

from enrich_tools.batch import enrich_many
from leadenrich.engine.models import EnrichmentResult, Lead, LeadStatus, ProviderUsage, Usage


async def test_deferred_leads_are_retried_and_their_costs_summed() -> None:
    tries: dict[str, int] = {}

    async def enrich(lead: Lead) -> EnrichmentResult:
        tries[lead.domain] = tries.get(lead.domain, 0) + 1
        deferred = lead.domain == "slow.com" and tries[lead.domain] < 3
        return EnrichmentResult(
            domain=lead.domain,
            status=LeadStatus.DEFERRED if deferred else LeadStatus.FOUND,
            usage=Usage(hunter=ProviderUsage(calls=1, credits=1.0)),
            retry_after=0.01 if deferred else None,
        )

    results = await enrich_many(enrich, [Lead(domain="slow.com"), Lead(domain="fast.com")])
    assert [r.domain for r in results] == ["slow.com", "fast.com"]
    assert [r.status for r in results] == [LeadStatus.FOUND, LeadStatus.FOUND]
    assert tries == {"slow.com": 3, "fast.com": 1}
    assert results[0].usage.hunter.credits == 3.0 and results[0].usage.hunter.calls == 3


async def test_a_lead_still_deferred_after_all_tries_stays_deferred() -> None:
    async def enrich(lead: Lead) -> EnrichmentResult:
        return EnrichmentResult(domain=lead.domain, status=LeadStatus.DEFERRED, retry_after=100.0)

    [result] = await enrich_many(enrich, [Lead(domain="a.com")], tries=2, max_wait=0.0)
    assert result.status is LeadStatus.DEFERRED


async def test_one_lead_raising_does_not_lose_the_others() -> None:
    async def enrich(lead: Lead) -> EnrichmentResult:
        if lead.domain == "bad.com":
            raise RuntimeError("boom")
        return EnrichmentResult(domain=lead.domain, status=LeadStatus.FOUND)

    results = await enrich_many(enrich, [Lead(domain="bad.com"), Lead(domain="good.com")])
    assert [r.status for r in results] == [LeadStatus.FAILED, LeadStatus.FOUND]
    assert results[0].reason == "unexpected error (RuntimeError)"

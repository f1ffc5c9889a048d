"""The whole waterfall over real HTTP against the simulator, judged by the world's ground truth."""

from __future__ import annotations

import logging
import re

import pytest

from enrich_tools.batch import enrich_many
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from leadenrich.deadline import Deadline
from leadenrich.engine.models import EmailStatus, EnrichmentResult, Lead, LeadStatus
from leadenrich.engine.waterfall import Enricher
from tests.support.simulator import HUNTER_KEY, PPLX_KEY


def leads_from(sim: SimulatorServer, n: int, seed: int) -> list[Lead]:
    return [
        Lead(domain=s.domain, company_name=s.company_name, first_name=s.first_name, last_name=s.last_name)
        for s in sim.world.sample_leads(n, seed)
    ]


async def enrich_all(enricher: Enricher, leads: list[Lead]) -> list[EnrichmentResult]:
    async def one(lead: Lead) -> EnrichmentResult:
        return await enricher.enrich(lead, Deadline.after(30))

    return await enrich_many(one, leads, max_wait=0.0)


async def test_showcase_companies_end_as_the_world_says(sim: SimulatorServer, enricher: Enricher) -> None:
    for domain in SHOWCASE_DOMAINS:
        result = await enricher.enrich(Lead(domain=domain), Deadline.after(30))
        truth = sim.world.truth(domain)
        expected = LeadStatus.RISKY if truth.accept_all else LeadStatus.FOUND  # nothing verifies there
        assert result.status is expected, (domain, result.reason)
        for email in result.emails:
            assert email.email in truth.mailboxes, (domain, email)
            if truth.accept_all:
                assert email.status is EmailStatus.INACTIVE
        if truth.decision_maker_emails - truth.claimed_emails and not truth.accept_all:
            assert result.primary is not None and result.primary.email in truth.decision_maker_emails


async def test_a_sample_of_leads_meets_the_quality_bar(sim: SimulatorServer, enricher: Enricher) -> None:
    results = await enrich_all(enricher, leads_from(sim, 120, seed=3))
    returned = [e for r in results for e in r.emails]
    active = [e for e in returned if e.status is EmailStatus.ACTIVE]
    claimed = {e for c in sim.world.companies for e in sim.world.truth(c.domain).claimed_emails}
    assert sum(r.status in (LeadStatus.FOUND, LeadStatus.RISKY) for r in results) >= 0.8 * len(results)
    assert sum(sim.world.is_real_mailbox(e.email) for e in returned) >= 0.97 * len(returned)
    assert all(sim.world.is_real_mailbox(e.email) for e in active), "an active address must exist"
    assert not claimed & {e.email for e in returned}, "an opted-out address was returned"
    for r in results:
        company = sim.world.company(r.domain)
        if company is not None and company.accept_all:
            assert all(e.status is EmailStatus.INACTIVE for e in r.emails)
        assert r.status is not LeadStatus.FAILED


async def test_own_accounting_matches_what_the_provider_billed(
    sim: SimulatorServer, enricher: Enricher
) -> None:
    sim.configure(duplicate_requests_free=False)
    results = await enrich_all(enricher, leads_from(sim, 60, seed=5))
    billed = sim.ledger.snapshot()
    own_credits = sum(r.usage.hunter.credits for r in results)
    own_calls = sum(r.usage.hunter.calls for r in results)
    assert own_credits == pytest.approx(billed["credits_search"] + billed["credits_verification"])
    assert own_calls == billed["hunter_calls"]
    assert sum(r.usage.perplexity.calls for r in results) == billed["perplexity_calls"]


async def test_webmail_and_malformed_leads_cost_nothing(sim: SimulatorServer, enricher: Enricher) -> None:
    for domain in ("gmail.com", "https://www.yahoo.co.uk/", "no-dot", "mailinator.com"):
        assert (await enricher.enrich(Lead(domain=domain))).status is LeadStatus.INVALID
    assert sim.ledger.snapshot()["hunter_calls"] == 0


EMAIL = re.compile(r"[\w.+'-]+(@|%40)[\w-]+(\.[\w-]+)+")


async def test_flaky_providers_defer_and_retries_converge_without_double_billing(
    sim: SimulatorServer, enricher: Enricher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    leads = leads_from(sim, 60, seed=9)
    sim.configure(share_202=0.3, polls_202=1, share_222=0.1, share_5xx=0.1, perplexity_share_failed=0.2)
    first = [await enricher.enrich(lead, Deadline.after(30)) for lead in leads]
    assert any(r.status is LeadStatus.DEFERRED for r in first)
    assert all(
        r.retry_after is not None and r.retry_after > 0 for r in first if r.status is LeadStatus.DEFERRED
    )
    results = first
    for _ in range(8):
        results = [
            await enricher.enrich(lead, Deadline.after(30)) if r.status is LeadStatus.DEFERRED else r
            for lead, r in zip(leads, results, strict=True)
        ]
    assert not [r for r in results if r.status in (LeadStatus.DEFERRED, LeadStatus.FAILED)]
    # No full address and no key in any log record or reason: only redacted forms like j***@acme.com.
    texts = [r.getMessage() + " " + str(r.__dict__) for r in caplog.records] + [
        str(r.reason) for r in results
    ]
    assert any("lead enriched" in t for t in texts)
    leaked = [m.group(0) for t in texts for m in EMAIL.finditer(t) if "***@" not in m.group(0)]
    assert leaked == []
    assert not [t for t in texts if HUNTER_KEY in t or PPLX_KEY in t]
    # A domain is searched once whatever the retries: the cache holds the first answer.
    calls = sim.ledger.snapshot()["calls"]
    assert calls["hunter.domain_search"] <= 2 * len({lead.domain for lead in leads}) * 1.5


async def test_quota_exhaustion_mid_run_fails_fast(sim: SimulatorServer, enricher: Enricher) -> None:
    sim.configure(search_credits=3, quota_mode="402")
    results = await enrich_all(enricher, leads_from(sim, 30, seed=13))
    failed = [r for r in results if r.status is LeadStatus.FAILED]
    assert failed and all("quota" in (r.reason or "") for r in failed)
    statuses = sim.ledger.snapshot()["statuses"]["hunter.domain_search"]
    assert statuses.get("402", 0) <= 8  # concurrent calls in flight when the first 402 arrived, then none

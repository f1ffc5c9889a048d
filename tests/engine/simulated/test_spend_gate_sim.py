"""Spend caps over real HTTP against the simulator: what the gates are told is what the simulator billed, and
a cap shared by concurrent leads is passed by no more than the calls in flight when it was reached."""

from __future__ import annotations

import pytest

from enrich_tools.batch import enrich_many
from enrich_tools.simulator import SimulatorServer
from leadenrich.deadline import Deadline
from leadenrich.engine.models import EnrichmentResult, Lead, Provider
from leadenrich.engine.waterfall import Enricher
from tests.engine.spend_gates import CappedGate, Tally

CONCURRENCY = 8


def sample(sim: SimulatorServer, n: int, seed: int) -> list[Lead]:
    return [
        Lead(domain=s.domain, company_name=s.company_name, first_name=s.first_name, last_name=s.last_name)
        for s in sim.world.sample_leads(n, seed)
    ]


async def run_capped(
    enricher: Enricher, leads: list[Lead], tally: Tally, max_credits: float | None
) -> tuple[list[EnrichmentResult], list[CappedGate]]:
    """Every lead under its own gate over one tally (one job's items), CONCURRENCY at a time, one try."""
    gates: list[CappedGate] = []

    async def one(lead: Lead) -> EnrichmentResult:
        gate = CappedGate([], tally, max_credits=max_credits)
        gates.append(gate)
        return await enricher.enrich(lead, Deadline.after(30), gate)

    return await enrich_many(one, leads, concurrency=CONCURRENCY, tries=1), gates


async def test_what_the_gates_are_told_is_what_the_simulator_billed(
    sim: SimulatorServer, enricher: Enricher
) -> None:
    sim.configure(duplicate_requests_free=False)
    tally = Tally()
    results, gates = await run_capped(enricher, sample(sim, 40, seed=11), tally, None)
    billed = sim.ledger.snapshot()
    assert tally.credits == pytest.approx(billed["credits_search"] + billed["credits_verification"])
    assert tally.cost_usd == pytest.approx(billed["perplexity_cost_usd"])
    told = {p: sum(g.spent(p)[0] for g in gates) for p in Provider}
    assert told[Provider.HUNTER] == billed["hunter_calls"] == sum(r.usage.hunter.calls for r in results)
    assert told[Provider.PERPLEXITY] == billed["perplexity_calls"]
    assert sum(len(g.asked) for g in gates) == billed["hunter_calls"] + billed["perplexity_calls"]


async def test_a_shared_cap_is_passed_by_at_most_the_calls_in_flight(
    sim: SimulatorServer, enricher: Enricher
) -> None:
    sim.configure(duplicate_requests_free=False)
    cap = 10.0
    tally = Tally()
    results, gates = await run_capped(enricher, sample(sim, 40, seed=12), tally, cap)
    billed = sim.ledger.snapshot()
    credits = billed["credits_search"] + billed["credits_verification"]
    assert credits == pytest.approx(tally.credits)
    assert any(r.budget_reached for r in results), "the cap should have stopped some leads"
    priciest = max(c for g in gates for _, c, _ in g.recorded)
    # Every call was allowed while the tally was under the cap; the ones that pass it were in flight then.
    assert cap <= credits <= cap + CONCURRENCY * priciest
    for r in results:
        if r.budget_reached:
            assert r.reason is not None and r.reason.startswith("budget_reached: ")
            assert not r.attempt_consumed

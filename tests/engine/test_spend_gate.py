"""Spend caps in the engine: the lead's `SpendGate` is asked before each paid call, only by the caller that
makes it, and told what each call cost; a refusal stops the lead before the call, keeping what it spent.

The gate here is a small cap over a shared tally (`spend_gates.CappedGate`: what
`leadenrich.jobs.budget.JobBudget` does over a ledger, tested in tests/jobs/test_budget.py); the providers
are the scripted ones, so every call made is in `script.log`, in order.
"""

from __future__ import annotations

import asyncio

import pytest

from leadenrich.engine.models import Lead, LeadStatus, Provider
from leadenrich.engine.providers.outcomes import Outcome
from tests.engine.spend_gates import CappedGate, Tally
from tests.support.scripted_providers import Problem, Script, make_enricher, row

PERPLEXITY_METHODS = {"find_decision_makers"}


def provider_of(method: str) -> Provider:
    return Provider.PERPLEXITY if method in PERPLEXITY_METHODS else Provider.HUNTER


def perplexity_then_permutations(script: Script) -> None:
    """No Hunter rows: Perplexity names Jane Doe, the finder knows nothing, and the second permutation is
    her mailbox: domain search (free), Perplexity ($0.005), finder (free), two verifications (a credit
    each)."""
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "Founder", "source_urls": ["https://acme.com/about"]}
    ]
    script.mailboxes = {"jane@acme.com"}


async def test_the_gate_is_asked_right_before_each_paid_call_and_told_its_cost(script: Script) -> None:
    perplexity_then_permutations(script)
    gate = CappedGate(script.log)
    result = await make_enricher(script).enrich(Lead(domain="acme.com"), budget=gate)
    assert result.status is LeadStatus.FOUND and not result.budget_reached
    made = [c.method for c in script.log]
    assert made == [
        "domain_search",
        "find_decision_makers",
        "email_finder",
        "email_verifier",
        "email_verifier",
    ]
    # Ask number i came when i calls had been made, and was for the provider of call i: once per call.
    assert gate.asked == [(provider_of(method), i) for i, method in enumerate(made)]
    for provider in Provider:
        usage = result.usage.of(provider)
        calls, credits, cost_usd = gate.spent(provider)
        assert calls == usage.calls
        assert credits == pytest.approx(usage.credits) and cost_usd == pytest.approx(usage.cost_usd)
    assert gate.tally.credits == 2 and gate.tally.cost_usd == pytest.approx(0.005)


async def test_a_refusal_makes_no_call_and_defers_without_an_attempt(script: Script) -> None:
    perplexity_then_permutations(script)
    gate = CappedGate(script.log, max_credits=0)
    result = await make_enricher(script).enrich(Lead(domain="acme.com"), budget=gate)
    assert script.log == []
    assert result.status is LeadStatus.DEFERRED and result.budget_reached and not result.attempt_consumed
    assert result.reason == "budget_reached: max_credits"
    assert result.usage.paid_calls == 0 and gate.recorded == []


async def test_a_cap_reached_mid_lead_keeps_the_spend_and_a_raised_cap_pays_nothing_twice(
    script: Script,
) -> None:
    perplexity_then_permutations(script)
    enricher = make_enricher(script)
    tally = Tally()
    stopped = await enricher.enrich(
        Lead(domain="acme.com"), budget=CappedGate(script.log, tally, max_credits=1)
    )
    # The first verification took the job to its cap: the second one is never sent.
    assert [c.method for c in script.log][-1] == "email_verifier"
    assert len(script.calls("email_verifier")) == 1
    assert stopped.budget_reached and stopped.reason == "budget_reached: max_credits"
    assert stopped.status is LeadStatus.DEFERRED and not stopped.attempt_consumed
    assert stopped.usage.hunter.credits == 1 and stopped.usage.perplexity.cost_usd == pytest.approx(0.005)
    assert tally.credits == 1

    before = len(script.log)
    raised = CappedGate(script.log, tally, max_credits=10)
    resumed = await enricher.enrich(Lead(domain="acme.com"), budget=raised)
    assert resumed.status is LeadStatus.FOUND and resumed.primary is not None
    assert resumed.primary.email == "jane@acme.com"
    # Only the verification that was refused is paid now: search, names, finder, first verdict are cached.
    assert [c.args.get("email") for c in script.log[before:]] == ["jane@acme.com"]
    assert raised.asked == [(Provider.HUNTER, before)]
    assert tally.credits == 2 and resumed.usage.hunter.credits == 1


async def test_a_dollar_cap_stops_before_perplexity(script: Script) -> None:
    perplexity_then_permutations(script)
    gate = CappedGate(script.log, Tally(cost_usd=0.01), max_cost_usd=0.01)
    result = await make_enricher(script).enrich(Lead(domain="acme.com"), budget=gate)
    assert result.reason == "budget_reached: max_cost_usd"
    assert script.log == []  # the gate counts every cap before every call, Hunter's included


async def test_cache_hits_ask_nothing(script: Script) -> None:
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "CEO", 95)]
    script.mailboxes = {"olivia.martin@acme.com"}
    enricher = make_enricher(script)
    first = CappedGate(script.log)
    await enricher.enrich(Lead(domain="acme.com"), budget=first)
    assert len(first.asked) == len(script.log) == 2  # domain search, verification
    before = len(script.log)
    second = CappedGate(script.log, max_credits=0)  # would refuse anything it is asked
    again = await enricher.enrich(Lead(domain="acme.com"), budget=second)
    assert again.status is LeadStatus.FOUND and not again.budget_reached
    assert second.asked == [] and second.recorded == [] and len(script.log) == before


async def test_a_shared_call_is_asked_for_once_by_the_lead_that_makes_it(script: Script) -> None:
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "CEO", 95)]
    script.mailboxes = {"olivia.martin@acme.com"}
    script.latency = 0.05  # long enough for the second lead to find the first one's calls in flight
    enricher = make_enricher(script)
    tally = Tally()
    gates = [CappedGate(script.log, tally), CappedGate(script.log, tally)]
    results = await asyncio.gather(*(enricher.enrich(Lead(domain="acme.com"), budget=gate) for gate in gates))
    assert all(r.status is LeadStatus.FOUND for r in results)
    assert len(script.log) == 2  # one search, one verification, for both leads
    assert sum(len(g.asked) for g in gates) == 2 and sum(len(g.recorded) for g in gates) == 2
    assert tally.credits == sum(r.usage.hunter.credits for r in results) == 2


async def test_a_lead_waiting_on_a_refused_call_makes_it_under_its_own_gate(script: Script) -> None:
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "CEO", 95)]
    script.mailboxes = {"olivia.martin@acme.com"}
    enricher = make_enricher(script)
    capped = CappedGate(script.log, max_credits=0, delay=0.02)  # the other lead joins while this one asks
    free = CappedGate(script.log)
    stopped, found = await asyncio.gather(
        enricher.enrich(Lead(domain="acme.com"), budget=capped),
        enricher.enrich(Lead(domain="acme.com"), budget=free),
    )
    assert stopped.budget_reached and stopped.usage.paid_calls == 0
    assert found.status is LeadStatus.FOUND and not found.budget_reached
    assert len(script.calls("domain_search")) == 1
    assert [p for p, _ in free.asked] == [Provider.HUNTER, Provider.HUNTER] and capped.recorded == []


async def test_a_failed_perplexity_run_is_billed_and_recorded(script: Script) -> None:
    script.problems["find_decision_makers"] = Problem(
        Outcome.TRANSIENT, 200, "the answer was not the requested JSON", retry_after=30.0, cost_usd=0.004
    )
    gate = CappedGate(script.log)
    result = await make_enricher(script).enrich(Lead(domain="acme.com"), budget=gate)
    assert result.status is LeadStatus.DEFERRED and not result.budget_reached
    calls, credits, cost_usd = gate.spent(Provider.PERPLEXITY)
    assert (calls, credits) == (1, 0.0) and cost_usd == pytest.approx(0.004)
    assert result.usage.perplexity.cost_usd == pytest.approx(0.004)


async def test_a_call_refused_before_sending_is_not_recorded(script: Script) -> None:
    from leadenrich.deadline import Deadline

    gate = CappedGate(script.log)
    result = await make_enricher(script).enrich(Lead(domain="acme.com"), Deadline.after(0.1), budget=gate)
    assert result.status is LeadStatus.DEFERRED and not result.budget_reached
    assert script.log == [] and gate.recorded == []  # asked, but nothing was sent: nothing to record

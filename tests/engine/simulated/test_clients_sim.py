"""Both clients over real HTTP against the simulator: one test for each provider status we handle."""

from __future__ import annotations

import asyncio

import pytest

from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from leadenrich.deadline import Deadline
from leadenrich.engine.providers.hunter import HunterClient
from leadenrich.engine.providers.outcomes import DeadlineReached, Outcome, ProviderProblem
from leadenrich.engine.providers.perplexity import PerplexityClient

DOMAIN = SHOWCASE_DOMAINS[0]


def a_mailbox(sim: SimulatorServer) -> str:
    return sorted(sim.world.truth(DOMAIN).mailboxes)[0]


async def outcome_of(call: object) -> ProviderProblem:
    with pytest.raises(ProviderProblem) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_domain_search_result_shape(sim: SimulatorServer, hunter: HunterClient) -> None:
    result = await hunter.domain_search(DOMAIN, deadline=Deadline.after(10))
    truth = sim.world.truth(DOMAIN)
    assert result.domain == DOMAIN
    assert result.emails
    assert all(e.value.endswith("@" + DOMAIN) for e in result.emails)
    assert {e.value for e in result.emails} & truth.mailboxes
    assert result.accept_all == truth.accept_all
    assert sim.ledger.snapshot()["credits_search"] == result.credits


async def test_verifier_202_is_pending_then_a_result_billed_once(
    sim: SimulatorServer, hunter: HunterClient
) -> None:
    sim.configure(share_202=1.0, polls_202=1)
    email = a_mailbox(sim)
    problem = await outcome_of(hunter.email_verifier(email, deadline=Deadline.after(10)))
    assert problem.outcome is Outcome.PENDING and problem.http_status == 202
    result = await hunter.email_verifier(email, deadline=Deadline.after(10))
    assert result.status == "valid"
    assert sim.ledger.snapshot()["credits_verification"] == 1


async def test_verifier_222_is_transient(sim: SimulatorServer, hunter: HunterClient) -> None:
    sim.configure(share_222=1.0)
    problem = await outcome_of(hunter.email_verifier(a_mailbox(sim), deadline=Deadline.after(10)))
    assert (problem.outcome, problem.http_status) == (Outcome.TRANSIENT, 222)


async def test_unknown_key_is_permanent(sim: SimulatorServer) -> None:
    sim.configure(accept_any_key=False)
    bad = HunterClient("wrong-key", base_url=sim.hunter_base_url)
    problem = await outcome_of(bad.domain_search(DOMAIN, deadline=Deadline.after(10)))
    assert (problem.outcome, problem.http_status) == (Outcome.PERMANENT, 401)
    assert problem.is_auth


@pytest.mark.parametrize("mode", ["402", "429"])
async def test_exhausted_credits_are_quota_in_both_modes(
    sim: SimulatorServer, hunter: HunterClient, mode: str
) -> None:
    sim.configure(search_credits=0, quota_mode=mode)
    problem = await outcome_of(hunter.domain_search(DOMAIN, deadline=Deadline.after(10)))
    assert problem.outcome is Outcome.QUOTA_EXHAUSTED and problem.http_status == int(mode)


@pytest.mark.parametrize(("mode", "retry_after"), [("403", False), ("429", True)])
async def test_rate_limits_are_throttling(
    sim: SimulatorServer, hunter: HunterClient, mode: str, retry_after: bool
) -> None:
    sim.configure(rate_limit_mode=mode, retry_after=retry_after, domain_search_rps=1)
    await hunter.domain_search(DOMAIN, deadline=Deadline.after(10))
    problem = await outcome_of(hunter.domain_search(DOMAIN, deadline=Deadline.after(10)))
    assert problem.outcome is Outcome.THROTTLED and problem.http_status == int(mode)
    assert problem.retry_after is not None and problem.retry_after > 0


async def test_opted_out_person_is_451(sim: SimulatorServer, hunter: HunterClient) -> None:
    claimed = next(e for c in sim.world.companies for e in sim.world.truth(c.domain).claimed_emails)
    problem = await outcome_of(hunter.email_verifier(claimed, deadline=Deadline.after(10)))
    assert (problem.outcome, problem.http_status) == (Outcome.OPTED_OUT, 451)


async def test_html_server_errors_are_transient(sim: SimulatorServer, hunter: HunterClient) -> None:
    sim.configure(share_5xx=1.0, share_html_5xx=1.0)
    problem = await outcome_of(hunter.domain_search(DOMAIN, deadline=Deadline.after(10)))
    assert (
        problem.outcome is Outcome.TRANSIENT
        and problem.http_status is not None
        and problem.http_status >= 500
    )


async def test_a_slow_provider_is_cut_at_the_deadline(sim: SimulatorServer, hunter: HunterClient) -> None:
    sim.configure(time_scale=1.0, latency_domain_search=(3.0, 3.0))
    with pytest.raises(DeadlineReached) as caught:
        await hunter.domain_search(DOMAIN, deadline=Deadline.after(1.0))
    assert caught.value.sent  # the call went out: it counts as a call, but costs the item no attempt
    # The provider finishes the abandoned request and bills it all the same: our own count cannot see
    # that credit (docs/engine.md, cost accounting). Wait for it so no later test's ledger gets it.
    for _ in range(60):
        if sim.ledger.snapshot()["credits_search"]:
            break
        await asyncio.sleep(0.1)
    assert sim.ledger.snapshot()["credits_search"] == 1


async def test_bad_parameters_are_permanent(sim: SimulatorServer, hunter: HunterClient) -> None:
    problem = await outcome_of(hunter.email_verifier("not-an-address", deadline=Deadline.after(10)))
    assert (problem.outcome, problem.http_status) == (Outcome.PERMANENT, 400)


async def test_agent_api_answer_agrees_with_the_world(
    sim: SimulatorServer, perplexity: PerplexityClient
) -> None:
    domain = SHOWCASE_DOMAINS[1]
    answer = await perplexity.find_decision_makers(domain, None, deadline=Deadline.after(30))
    truth = sim.world.truth(domain)
    sourced = [p.name for p in answer.people if p.sourced]
    assert sourced and set(sourced) & set(truth.decision_maker_names)
    assert answer.cost_usd > 0


@pytest.mark.parametrize("knob", ["share_fenced", "share_think"])
async def test_agent_api_wrapped_json_is_read(
    sim: SimulatorServer, perplexity: PerplexityClient, knob: str
) -> None:
    sim.configure(**{knob: 1.0})
    answer = await perplexity.find_decision_makers(SHOWCASE_DOMAINS[1], None, deadline=Deadline.after(30))
    assert answer.people


@pytest.mark.parametrize(
    ("knobs", "outcome", "http_status"),
    [
        ({"perplexity_share_failed": 1.0}, Outcome.TRANSIENT, 200),
        ({"share_truncated": 1.0}, Outcome.TRANSIENT, 200),
        ({"perplexity_share_5xx": 1.0}, Outcome.TRANSIENT, None),
        ({"accept_any_key": False, "html_401": True}, Outcome.PERMANENT, 401),
    ],
)
async def test_agent_api_failures(
    sim: SimulatorServer, knobs: dict[str, object], outcome: Outcome, http_status: int | None
) -> None:
    sim.configure(**knobs)
    client = PerplexityClient(
        "pplx-wrong" if "accept_any_key" in knobs else "sim-pplx-key", base_url=sim.perplexity_base_url
    )
    problem = await outcome_of(
        client.find_decision_makers(SHOWCASE_DOMAINS[1], None, deadline=Deadline.after(30))
    )
    assert problem.outcome is outcome
    if http_status is not None:
        assert problem.http_status == http_status
    else:
        assert problem.http_status is not None and problem.http_status >= 500


async def test_agent_api_rate_limit_is_throttling(sim: SimulatorServer, perplexity: PerplexityClient) -> None:
    sim.configure(perplexity_qps=1.0, perplexity_rpm=1)
    await perplexity.find_decision_makers(SHOWCASE_DOMAINS[1], None, deadline=Deadline.after(30))
    problem = await outcome_of(
        perplexity.find_decision_makers(SHOWCASE_DOMAINS[2], None, deadline=Deadline.after(30))
    )
    assert (problem.outcome, problem.http_status) == (Outcome.THROTTLED, 429)
    assert problem.retry_after is not None and problem.retry_after > 0

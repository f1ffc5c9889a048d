"""The verifier's decisions, one verdict each, against scripted providers behind the engine's ports.

The same over real HTTP against the simulator is in tests/engine/simulated/test_verification_sim.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from leadenrich.deadline import Deadline
from leadenrich.engine.budget import BudgetReached
from leadenrich.engine.models import (
    Contact,
    Deliverability,
    EmailStatus,
    EnrichmentResult,
    HunterStatus,
    Lead,
    LeadStatus,
    Method,
    Provider,
)
from leadenrich.engine.providers.hunter_models import VerifierResult
from leadenrich.engine.providers.outcomes import Outcome
from leadenrich.engine.verification import Verifier
from tests.support.scripted_providers import (
    KEY_REFUSED,
    OPTED_OUT,
    QUOTA_EXHAUSTED,
    RATE_LIMITED,
    STILL_VERIFYING,
    Problem,
    Script,
    ScriptedHunter,
    make_enricher,
    row,
    sighting,
)

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)  # the scripted enricher's clock
ADDRESS = "jane.doe@acme.com"


class AnsweringHunter(ScriptedHunter):
    """The scripted Hunter, with whole verifier answers for some addresses (score, sources, flags)."""

    def __init__(self, script: Script, answers: dict[str, dict[str, Any]]) -> None:
        super().__init__(script)
        self.answers = answers

    async def email_verifier(self, email: str, *, deadline: Deadline) -> VerifierResult:
        scripted = await super().email_verifier(email, deadline=deadline)
        if email not in self.answers:
            return scripted
        return VerifierResult.model_validate({"email": email} | self.answers[email])


def verifier_for(script: Script, answers: dict[str, dict[str, Any]] | None = None) -> Verifier:
    enricher = make_enricher(script, with_perplexity=False)
    if answers:
        enricher.calls.hunter = AnsweringHunter(script, answers)
    return Verifier.beside(enricher)


async def verify(verifier: Verifier, email: str = ADDRESS, **kwargs: Any) -> EnrichmentResult:
    return await verifier.enrich(Lead.of_address(email), **kwargs)


# --- the lead that carries an address ----------------------------------------------------------------------


def test_a_lead_with_an_address_is_lower_cased_and_takes_the_addresses_domain() -> None:
    lead = Lead.of_address("  Jane.Doe@ACME.com ")
    assert (lead.email, lead.domain) == ("jane.doe@acme.com", "acme.com")
    assert Lead.of_address("jane@München.de").email == "jane@xn--mnchen-3ya.de"  # the domain as IDNA


@pytest.mark.parametrize(
    "email",
    ["jane", "jane@", "@acme.com", "jane doe@acme.com", "jane@acme", "jane@acme.com/x", "a..b@acme.com"],
)
def test_a_malformed_address_is_refused_naming_the_field_never_quoting_it(email: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Lead.of_address(email)
    [error] = refused.value.errors()
    assert error["loc"] == ("email",)
    assert email not in str(error["msg"])


def test_an_address_on_another_domain_than_the_leads_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        Lead(domain="globex.com", email=ADDRESS)
    assert refused.value.errors()[0]["loc"] == ("email",)
    assert Lead(domain="https://www.ACME.com/team", email=ADDRESS).email == ADDRESS  # the same company


# --- Hunter's verdicts -------------------------------------------------------------------------------------


async def test_a_verified_mailbox_is_found_active_and_costs_one_verification(script: Script) -> None:
    script.mailboxes = {ADDRESS}
    result = await verify(verifier_for(script))
    assert result.status is LeadStatus.FOUND and result.reason is None
    [email] = result.emails
    assert (email.email, email.hunter_status, email.deliverability, email.status) == (
        ADDRESS,
        HunterStatus.DELIVERABLE,
        Deliverability.VERIFIED,
        EmailStatus.ACTIVE,
    )
    assert email.confidence_score == 95 and email.verified_at == NOW
    assert email.contact is Contact.NAMED_PERSON
    assert result.domain == "acme.com"
    assert [c.args for c in script.log] == [{"email": ADDRESS}]
    assert (result.usage.hunter.calls, result.usage.hunter.credits) == (1, 1.0)


@dataclass
class Case:
    answer: dict[str, Any]
    status: LeadStatus
    hunter_status: HunterStatus
    deliverability: Deliverability
    credits: float
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


CASES = {
    "invalid": Case(
        {"status": "invalid", "score": 3},
        LeadStatus.INVALID,
        HunterStatus.UNDELIVERABLE,
        Deliverability.UNDELIVERABLE,
        1.0,
        "does not exist",
    ),
    "disposable": Case(
        {"status": "disposable", "score": 10},
        LeadStatus.INVALID,
        HunterStatus.RISKY,
        Deliverability.UNDELIVERABLE,
        0.0,
        "disposable",
    ),
    "webmail": Case(
        {"status": "webmail", "score": 70},
        LeadStatus.RISKY,
        HunterStatus.RISKY,
        Deliverability.UNKNOWN,
        0.0,
        "webmail",
    ),
    "valid-but-unsure": Case(
        {"status": "valid", "score": 80},
        LeadStatus.RISKY,
        HunterStatus.DELIVERABLE,
        Deliverability.UNKNOWN,
        1.0,
        "score of 80",
    ),
    "catch-all-unseen": Case(
        {"status": "accept_all", "score": 60, "accept_all": True},
        LeadStatus.RISKY,
        HunterStatus.RISKY,
        Deliverability.CATCH_ALL,
        1.0,
        "catch-all",
    ),
    "catch-all-seen-live": Case(
        {"status": "accept_all", "score": 80, "sources": [sighting(still_on_page=True, days_ago=10)]},
        LeadStatus.RISKY,
        HunterStatus.RISKY,
        Deliverability.HIGH_PROBABILITY,
        1.0,
        "catch-all",
    ),
    "catch-all-seen-long-ago": Case(
        {"status": "accept_all", "score": 80, "sources": [sighting(still_on_page=False, days_ago=10)]},
        LeadStatus.RISKY,
        HunterStatus.RISKY,
        Deliverability.CATCH_ALL,
        1.0,
        "catch-all",
    ),
    "valid-on-a-catch-all-server": Case(  # accept_all set: a "valid" proves nothing there
        {"status": "valid", "score": 95, "accept_all": True},
        LeadStatus.RISKY,
        HunterStatus.RISKY,
        Deliverability.CATCH_ALL,
        1.0,
        "catch-all",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_each_verdict_maps_to_its_tier_and_status(script: Script, case: Case) -> None:
    result = await verify(verifier_for(script, {ADDRESS: case.answer}))
    assert result.status is case.status
    assert case.reason in (result.reason or "")
    [email] = result.emails
    assert (email.email, email.hunter_status, email.deliverability) == (
        ADDRESS,
        case.hunter_status,
        case.deliverability,
    )
    assert email.status is EmailStatus.INACTIVE and email.verified_at is None  # only `verified` is active
    assert email.confidence_score == case.answer["score"]
    assert result.usage.hunter.credits == case.credits  # only valid, invalid and accept_all are billed


async def test_a_webmail_address_is_verified_not_screened_out(script: Script) -> None:
    script.mailboxes = {"jane.doe@gmail.com"}
    result = await verify(verifier_for(script), "Jane.Doe@Gmail.com")
    assert result.status is LeadStatus.FOUND  # the waterfall refuses gmail.com as a *company* domain
    assert [c.args["email"] for c in script.log] == ["jane.doe@gmail.com"]


async def test_a_role_address_is_marked_generic(script: Script) -> None:
    script.mailboxes = {"info@acme.com"}
    [email] = (await verify(verifier_for(script), "info@acme.com")).emails
    assert (email.contact, email.method) == (Contact.GENERIC, Method.GENERIC)


async def test_unknown_defers_with_the_address_and_settles_as_risky_on_the_last_try(script: Script) -> None:
    script.verdicts[ADDRESS] = "unknown"
    result = await verify(verifier_for(script))
    assert result.status is LeadStatus.DEFERRED and result.retry_after == 600.0
    assert result.attempt_consumed
    [email] = result.emails
    assert (email.hunter_status, email.deliverability) == (HunterStatus.UNKNOWN, Deliverability.UNKNOWN)
    assert result.usage.hunter.credits == 0.0  # an unknown verdict is not billed
    settled = result.settled()
    assert settled.status is LeadStatus.RISKY and settled.emails == [email]


# --- the waterfall's rules: cache, 202, 451, throttles, switching Hunter off, budgets, deadlines ---------


async def test_a_verdict_the_waterfall_paid_for_is_free_here(script: Script) -> None:
    script.rows["acme.com"] = [row(ADDRESS, "CEO", 85)]
    script.mailboxes = {ADDRESS}
    enricher = make_enricher(script, with_perplexity=False)
    assert (await enricher.enrich(Lead(domain="acme.com"))).status is LeadStatus.FOUND
    before = len(script.calls("email_verifier"))
    result = await Verifier.beside(enricher).enrich(Lead.of_address(ADDRESS))
    assert result.status is LeadStatus.FOUND
    assert len(script.calls("email_verifier")) == before == 1
    assert (result.usage.hunter.calls, result.usage.hunter.cache_hits) == (0, 1)


async def test_202_defers_the_item_and_the_next_try_gets_the_verdict(script: Script) -> None:
    script.verdicts[ADDRESS] = STILL_VERIFYING
    verifier = verifier_for(script)
    first = await verify(verifier)
    assert first.status is LeadStatus.DEFERRED and first.retry_after == 15.0
    assert first.emails == [] and "202" in (first.reason or "")
    script.verdicts[ADDRESS] = "valid"
    second = await verify(verifier)
    assert second.status is LeadStatus.FOUND
    assert len(script.calls("email_verifier")) == 2  # a pending answer is never cached


async def test_451_returns_nothing_about_the_address_and_is_never_asked_again(
    script: Script, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    script.verdicts[ADDRESS] = OPTED_OUT
    verifier = verifier_for(script)
    for _ in range(2):
        result = await verify(verifier)
        assert result.status is LeadStatus.NOT_FOUND and result.emails == []
        assert "451" in (result.reason or "") and ADDRESS not in (result.reason or "")
    assert len(script.calls("email_verifier")) == 1  # remembered as opted out
    assert result.usage.hunter.cache_hits == 1
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "address verified" in logged and ADDRESS not in logged and "j***@acme.com" in logged


async def test_a_throttle_hands_the_item_back_without_charging_an_attempt(script: Script) -> None:
    script.verdicts[ADDRESS] = RATE_LIMITED
    result = await verify(verifier_for(script))
    assert result.status is LeadStatus.DEFERRED and not result.attempt_consumed
    assert result.retry_after == 2.0


@pytest.mark.parametrize("problem", [KEY_REFUSED, QUOTA_EXHAUSTED], ids=["401", "402"])
async def test_a_refused_key_or_a_spent_quota_fails_and_switches_hunter_off(
    script: Script, problem: Problem
) -> None:
    script.verdicts[ADDRESS] = problem
    verifier = verifier_for(script)
    first = await verify(verifier)
    assert first.status is LeadStatus.FAILED
    assert Provider.HUNTER in verifier.calls.disabled
    second = await verify(verifier, "sam.lee@acme.com")
    assert second.status is LeadStatus.FAILED and second.usage.hunter.calls == 0
    assert len(script.log) == 1


async def test_hunter_refusing_the_address_makes_it_invalid(script: Script) -> None:
    script.verdicts[ADDRESS] = Problem(Outcome.PERMANENT, 400, "rejected parameters", "invalid_email")
    result = await verify(verifier_for(script))
    assert result.status is LeadStatus.INVALID and "invalid_email" in (result.reason or "")


class Gate:
    """A spend gate that allows `left` paid calls and records what they cost."""

    def __init__(self, left: int) -> None:
        self.left = left
        self.recorded: list[tuple[Provider, float]] = []

    async def allow(self, provider: Provider) -> None:
        if self.left <= 0:
            raise BudgetReached("job credits")
        self.left -= 1

    async def record(self, provider: Provider, *, credits: float, cost_usd: float) -> None:
        self.recorded.append((provider, credits))


async def test_the_budget_is_asked_before_the_call_and_told_its_cost(script: Script) -> None:
    script.mailboxes = {ADDRESS}
    verifier = verifier_for(script)
    spent = Gate(left=0)
    refused = await verify(verifier, budget=spent)
    assert refused.status is LeadStatus.DEFERRED and refused.budget_reached
    assert not refused.attempt_consumed and script.log == []  # stopped before the call
    gate = Gate(left=1)
    assert (await verify(verifier, budget=gate)).status is LeadStatus.FOUND
    assert gate.recorded == [(Provider.HUNTER, 1.0)]
    cached = Gate(left=0)
    assert (await verify(verifier, budget=cached)).status is LeadStatus.FOUND  # a cache hit asks nothing


async def test_too_little_time_left_hands_the_item_back_unsent(script: Script) -> None:
    script.mailboxes = {ADDRESS}
    result = await verify(verifier_for(script), deadline=Deadline.after(0.1))
    assert result.status is LeadStatus.DEFERRED and not result.attempt_consumed
    assert script.log == []


async def test_a_lead_without_an_address_is_invalid_for_nothing(script: Script) -> None:
    result = await verifier_for(script).enrich(Lead(domain="acme.com"))
    assert result.status is LeadStatus.INVALID and "email" in (result.reason or "")
    assert script.log == []

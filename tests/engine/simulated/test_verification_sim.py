"""The verifier over real HTTP against the simulator, judged by the world's ground truth and its ledger."""

from __future__ import annotations

import pytest

from enrich_tools.simulator import SimulatorServer
from leadenrich.deadline import Deadline
from leadenrich.engine.models import (
    Deliverability,
    EmailStatus,
    EnrichmentResult,
    HunterStatus,
    Lead,
    LeadStatus,
)
from leadenrich.engine.verification import Verifier
from leadenrich.engine.waterfall import Enricher

CATCH_ALL = "globex-analytics.io"  # a showcase company whose mail server accepts every address
OPTED_OUT = "aoife.osullivan@brightlane.co.uk"  # a showcase co-founder who asked Hunter to forget her


@pytest.fixture
def verifier(enricher: Enricher) -> Verifier:
    return Verifier.beside(enricher)


async def verify(verifier: Verifier, email: str) -> EnrichmentResult:
    return await verifier.enrich(Lead.of_address(email), Deadline.after(30))


async def test_a_real_mailbox_is_verified_and_a_made_up_one_is_invalid(
    sim: SimulatorServer, verifier: Verifier
) -> None:
    real = sorted(sim.world.truth("acme-robotics.com").mailboxes)[0]
    made_up = "nobody.here@acme-robotics.com"
    assert sim.world.is_real_mailbox(real) and not sim.world.is_real_mailbox(made_up)
    found = await verify(verifier, real.upper())
    assert found.status is LeadStatus.FOUND
    [email] = found.emails
    assert (email.email, email.deliverability, email.status) == (
        real,
        Deliverability.VERIFIED,
        EmailStatus.ACTIVE,
    )
    invalid = await verify(verifier, made_up)
    assert invalid.status is LeadStatus.INVALID
    assert invalid.emails[0].hunter_status is HunterStatus.UNDELIVERABLE
    assert invalid.emails[0].deliverability is Deliverability.UNDELIVERABLE


async def test_a_catch_all_address_that_bounces_is_only_ever_risky_catch_all(
    sim: SimulatorServer, verifier: Verifier
) -> None:
    bounces = f"nobody@{CATCH_ALL}"
    assert sim.world.truth(CATCH_ALL).accept_all and not sim.world.is_real_mailbox(bounces)
    result = await verify(verifier, bounces)
    assert result.status is LeadStatus.RISKY  # the server said yes; the mailbox does not exist
    [email] = result.emails
    assert (email.hunter_status, email.deliverability, email.status) == (
        HunterStatus.RISKY,
        Deliverability.CATCH_ALL,
        EmailStatus.INACTIVE,
    )


async def test_a_catch_all_address_hunter_sees_live_is_high_probability(
    sim: SimulatorServer, verifier: Verifier
) -> None:
    """ethan@ is on a page Hunter re-crawled last month; marco@'s page no longer shows him."""
    graded = {
        e: (await verify(verifier, f"{e}@{CATCH_ALL}")).emails[0].deliverability for e in ("ethan", "marco")
    }
    assert graded == {"ethan": Deliverability.HIGH_PROBABILITY, "marco": Deliverability.CATCH_ALL}
    assert sim.world.is_real_mailbox(f"ethan@{CATCH_ALL}")


async def test_202_defers_then_the_verdict_comes_and_is_billed_once(
    sim: SimulatorServer, verifier: Verifier
) -> None:
    sim.configure(share_202=1.0, polls_202=1)
    mailbox = sorted(sim.world.truth("brightlane.co.uk").mailboxes - {OPTED_OUT})[0]
    first = await verify(verifier, mailbox)
    assert first.status is LeadStatus.DEFERRED and first.attempt_consumed
    assert first.retry_after is not None and first.retry_after > 0
    second = await verify(verifier, mailbox)
    assert second.status is LeadStatus.FOUND
    ledger = sim.ledger.snapshot()
    assert ledger["calls"]["hunter.email_verifier"] == 2 and ledger["credits_verification"] == 1
    assert first.usage.hunter.credits + second.usage.hunter.credits == 1


async def test_451_returns_nothing_and_is_not_asked_twice(sim: SimulatorServer, verifier: Verifier) -> None:
    for _ in range(2):
        result = await verify(verifier, OPTED_OUT)
        assert result.status is LeadStatus.NOT_FOUND and result.emails == []
        assert OPTED_OUT not in (result.reason or "")
    ledger = sim.ledger.snapshot()
    assert ledger["statuses"]["hunter.email_verifier"] == {"451": 1}
    assert ledger["credits_verification"] == 0


async def test_a_webmail_address_is_risky_and_not_billed(sim: SimulatorServer, verifier: Verifier) -> None:
    result = await verify(verifier, "jane.doe@gmail.com")
    assert result.status is LeadStatus.RISKY
    assert result.emails[0].deliverability is Deliverability.UNKNOWN
    assert sim.ledger.snapshot()["credits_verification"] == 0


async def test_own_accounting_matches_what_the_provider_billed(
    sim: SimulatorServer, verifier: Verifier
) -> None:
    sim.configure(duplicate_requests_free=False, share_unknown=0.2)
    addresses = [
        address
        for company in sim.world.companies[:40]
        for address in sorted(sim.world.truth(company.domain).mailboxes)[:2]
    ] + [f"nobody@{c.domain}" for c in sim.world.companies[:10]]
    results = [await verify(verifier, address) for address in addresses]
    billed = sim.ledger.snapshot()
    assert sum(r.usage.hunter.credits for r in results) == pytest.approx(billed["credits_verification"])
    assert sum(r.usage.hunter.calls for r in results) == billed["hunter_calls"]
    for address, r in zip(addresses, results, strict=True):
        if r.status is LeadStatus.FOUND:
            assert sim.world.is_real_mailbox(address), "an active address must exist"
    assert any(r.status is LeadStatus.DEFERRED for r in results)  # the unknown share

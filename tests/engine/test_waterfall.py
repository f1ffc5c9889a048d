"""The waterfall's decisions, one path each, against scripted providers behind the engine's ports.

The whole waterfall over real HTTP against the simulator is in tests/engine/simulated, and how the clients
classify HTTP answers is in test_hunter_client.py and test_perplexity_client.py; these pin down the exact
calls each decision costs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

import pytest

from leadenrich.deadline import Deadline
from leadenrich.engine.models import (
    EmailSource,
    EmailStatus,
    EmailType,
    HunterStatus,
    Lead,
    LeadStatus,
    Method,
)
from tests.support.scripted_providers import (
    FORBIDDEN,
    KEY_REFUSED,
    NOT_THE_REQUESTED_JSON,
    OPTED_OUT,
    PERPLEXITY_KEY_REFUSED,
    QUOTA_EXHAUSTED,
    RATE_LIMITED,
    RECENT,
    SERVER_ERROR,
    STILL_VERIFYING,
    TODAY,
    TOO_MANY_REQUESTS,
    Problem,
    Script,
    make_enricher,
    row,
)


async def test_webmail_disposable_and_malformed_domains_cost_nothing(script: Script) -> None:
    enricher = make_enricher(script)
    for domain in ("gmail.com", "https://mail.Mailinator.com/inbox", "not a domain", "acme"):
        result = await enricher.enrich(Lead(domain=domain))
        assert result.status is LeadStatus.INVALID, domain
        assert result.reason
    assert script.log == []


async def test_a_recently_verified_confident_row_needs_no_second_verification(script: Script) -> None:
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "Founder & CEO", 96, "valid", RECENT)]
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    assert result.status is LeadStatus.FOUND
    [email] = result.emails
    assert (email.email, email.source, email.status, email.hunter_status) == (
        "olivia.martin@acme.com",
        EmailSource.HUNTER_DIRECT,
        EmailStatus.ACTIVE,
        HunterStatus.DELIVERABLE,
    )
    assert email.confidence_score == 96 and email.email_type is EmailType.PRIMARY
    assert script.calls("email_verifier") == []
    assert result.usage.hunter.calls == 1 and result.usage.hunter.credits == 1.0


async def test_old_or_less_confident_verifications_are_verified_again(script: Script) -> None:
    old = (TODAY - timedelta(days=90)).isoformat()
    script.rows["acme.com"] = [
        row("olivia.martin@acme.com", "CEO", 96, "valid", old),
        row("sam.lee@acme.com", "CTO", 80, "valid", RECENT),
    ]
    script.mailboxes = {"olivia.martin@acme.com"}
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    assert [c.args["email"] for c in script.calls("email_verifier")] == ["olivia.martin@acme.com"]
    assert result.primary is not None and result.primary.email == "olivia.martin@acme.com"


async def test_rows_are_ranked_by_title_and_verified_until_the_first_deliverable(script: Script) -> None:
    script.rows["acme.com"] = [
        row("vp.sales@acme.com", "VP Sales", 99),
        row("ex.ceo@acme.com", "CEO", 90),
        row("real.founder@acme.com", "Co-founder", 88),
        row("eng.one@acme.com", "Software Engineer", 99),
    ]
    script.mailboxes = {"real.founder@acme.com", "vp.sales@acme.com"}
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    verified = [c.args["email"] for c in script.calls("email_verifier")]
    assert verified == ["ex.ceo@acme.com", "real.founder@acme.com"]  # tier 1 first; stop at first deliverable
    assert result.primary is not None and result.primary.email == "real.founder@acme.com"
    assert result.usage.hunter.credits == 1 + 2  # one search page, two billed verifications


async def test_accept_all_domains_are_never_active_and_never_reverified(script: Script) -> None:
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "CEO", 91)]
    script.accept_all.add("acme.com")
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    assert result.status is LeadStatus.RISKY  # `found` is for verified addresses only
    assert result.emails[0].status is EmailStatus.INACTIVE
    assert result.emails[0].hunter_status is HunterStatus.RISKY
    assert script.calls("email_verifier") == []


async def test_a_sourced_perplexity_name_goes_through_the_known_pattern_first(script: Script) -> None:
    script.pattern["acme.com"] = "{first}.{last}"
    script.people["acme.com"] = [
        {"name": "Dr. José Müller-Lüdenscheidt", "title": "CEO", "source_urls": ["https://acme.com/about"]}
    ]
    script.mailboxes = {"jose.mueller-luedenscheidt@acme.com", "jose.muller-ludenscheidt@acme.com"}
    result = await make_enricher(script).enrich(Lead(domain="acme.com", company_name="Acme"))
    assert result.status is LeadStatus.FOUND
    primary = result.primary
    assert primary is not None and primary.method is Method.KNOWN_PATTERN
    assert primary.source is EmailSource.PERPLEXITY_GENERATED and primary.status is EmailStatus.ACTIVE
    assert len(script.calls("email_verifier")) == 1
    assert script.calls("email_finder") == []
    assert result.usage.perplexity.calls == 1 and result.usage.perplexity.cost_usd == pytest.approx(0.005)


async def test_permutations_stop_at_the_first_deliverable_one(script: Script) -> None:
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "Founder", "source_urls": ["https://acme.com/about"]}
    ]
    script.mailboxes = {"jane@acme.com"}
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    verified = [c.args["email"] for c in script.calls("email_verifier")]
    assert result.primary is not None and result.primary.email == "jane@acme.com"
    assert verified == ["jane.doe@acme.com", "jane@acme.com"]  # the two most common formats, in order
    assert len(script.calls("email_finder")) == 1  # the finder is asked before any permutation
    assert result.primary.method is Method.PERMUTATION


async def test_rarer_formats_are_not_paid_for(script: Script) -> None:
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "Founder", "source_urls": ["https://acme.com/about"]}
    ]
    script.mailboxes = {"jdoe@acme.com"}  # the third format: more credits than it is worth (engine.md)
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    assert result.status is LeadStatus.NOT_FOUND
    assert len(script.calls("email_verifier")) == 2


async def test_only_the_first_name_gets_permutations(script: Script) -> None:
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "Founder", "source_urls": ["https://acme.com/about"]},
        {"name": "Sam Lee", "title": "CTO", "source_urls": ["https://acme.com/about"]},
    ]
    script.mailboxes = {"sam.lee@acme.com"}  # only a permutation of the second name would find it
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    verified = [c.args["email"] for c in script.calls("email_verifier")]
    assert verified == ["jane.doe@acme.com", "jane@acme.com"]
    assert [c.args["first_name"] for c in script.calls("email_finder")] == ["Jane", "Sam"]
    assert result.status is LeadStatus.NOT_FOUND


async def test_an_unsourced_name_gets_no_permutation_storm(script: Script) -> None:
    script.people["acme.com"] = [
        {"name": "Ghost Writer", "title": "CEO", "source_urls": ["https://fabricated.example/x"]}
    ]
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    assert result.status is LeadStatus.NOT_FOUND
    assert script.calls("email_verifier") == []


async def test_accept_all_without_pattern_asks_the_finder_and_never_permutes(script: Script) -> None:
    script.accept_all.add("acme.com")
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "CEO", "source_urls": ["https://acme.com/about"]}
    ]
    script.finder[("jane", "doe")] = {"email": "jane@acme.com", "score": 71, "accept_all": True}
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    assert result.primary is not None and result.primary.email == "jane@acme.com"
    assert result.primary.status is EmailStatus.INACTIVE and result.primary.method is Method.EMAIL_FINDER
    assert script.calls("email_verifier") == []


async def test_an_opted_out_address_is_never_stored_and_the_next_is_tried(script: Script) -> None:
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "CEO", 95), row("sam.lee@acme.com", "CTO", 90)]
    script.verdicts["olivia.martin@acme.com"] = OPTED_OUT
    script.mailboxes = {"sam.lee@acme.com"}
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    assert [e.email for e in result.emails] == ["sam.lee@acme.com"]
    assert "olivia.martin@acme.com" not in json.dumps(result.as_record())


async def test_a_pending_verification_defers_and_the_retry_pays_no_second_search(script: Script) -> None:
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "CEO", 95)]
    script.verdicts["olivia.martin@acme.com"] = STILL_VERIFYING
    enricher = make_enricher(script)
    first = await enricher.enrich(Lead(domain="acme.com"))
    assert first.status is LeadStatus.DEFERRED and first.retry_after and first.retry_after > 0
    assert first.attempt_consumed
    del script.verdicts["olivia.martin@acme.com"]
    script.mailboxes = {"olivia.martin@acme.com"}
    second = await enricher.enrich(Lead(domain="acme.com"))
    assert second.status is LeadStatus.FOUND
    assert len(script.calls("domain_search")) == 1
    assert second.usage.hunter.cache_hits == 1


async def test_quota_exhaustion_fails_the_lead_and_stops_calling_hunter(script: Script) -> None:
    script.hunter_problem = QUOTA_EXHAUSTED
    enricher = make_enricher(script)
    first = await enricher.enrich(Lead(domain="acme.com"))
    second = await enricher.enrich(Lead(domain="globex.com"))
    assert first.status is LeadStatus.FAILED and second.status is LeadStatus.FAILED
    assert "quota" in (second.reason or "")
    assert len(script.log) == 1


@pytest.mark.parametrize(
    ("problem", "lead_status"),
    [
        (TOO_MANY_REQUESTS, LeadStatus.DEFERRED),
        (SERVER_ERROR, LeadStatus.DEFERRED),
        (KEY_REFUSED, LeadStatus.FAILED),
    ],
    ids=["429", "503", "401"],
)
async def test_hunter_errors_map_to_the_lead_status(
    script: Script, problem: Problem, lead_status: LeadStatus
) -> None:
    script.hunter_problem = problem
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    assert result.status is lead_status


async def test_refused_perplexity_key_falls_back_to_a_generic_secondary(script: Script) -> None:
    script.problems["find_decision_makers"] = PERPLEXITY_KEY_REFUSED
    script.generic_rows["acme.com"] = [
        row("support@acme.com", None, 92, kind="generic"),
        row("info@acme.com", None, 90, kind="generic"),
    ]
    script.mailboxes = {"info@acme.com", "support@acme.com"}
    enricher = make_enricher(script)
    result = await enricher.enrich(Lead(domain="acme.com"))
    assert [e.email for e in result.emails] == ["info@acme.com"]  # info@ before support@
    assert result.emails[0].email_type is EmailType.SECONDARY and result.emails[0].method is Method.GENERIC
    await enricher.enrich(Lead(domain="other.com"))
    assert len(script.calls("find_decision_makers")) == 1  # switched off after the refusal


async def test_the_same_domain_twice_costs_nothing_the_second_time(script: Script) -> None:
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "CEO", 95)]
    script.mailboxes = {"olivia.martin@acme.com"}
    enricher = make_enricher(script)
    await enricher.enrich(Lead(domain="acme.com"))
    before = len(script.log)
    again = await enricher.enrich(Lead(domain="https://www.ACME.com/"))
    assert again.status is LeadStatus.FOUND and len(script.log) == before
    assert again.usage.hunter.calls == 0 and again.usage.hunter.credits == 0


async def test_nothing_found_is_remembered(script: Script) -> None:
    enricher = make_enricher(script)
    first = await enricher.enrich(Lead(domain="acme.com"))
    before = len(script.log)
    second = await enricher.enrich(Lead(domain="acme.com"))
    assert first.status is second.status is LeadStatus.NOT_FOUND
    assert len(script.log) == before


async def test_a_named_lead_uses_the_matching_row_or_the_finder(script: Script) -> None:
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "CEO", 95, "valid", RECENT)]
    script.finder[("sam", "lee")] = {
        "email": "sam.lee@acme.com",
        "score": 93,
        "verification": {"status": "valid", "date": RECENT},
    }
    enricher = make_enricher(script)
    olivia = await enricher.enrich(Lead(domain="acme.com", first_name="OLIVIA", last_name="Martin"))
    assert olivia.primary is not None and olivia.primary.email == "olivia.martin@acme.com"
    sam = await enricher.enrich(Lead(domain="acme.com", first_name="Sam", last_name="Lee"))
    assert sam.primary is not None and sam.primary.email == "sam.lee@acme.com"
    assert sam.primary.method is Method.EMAIL_FINDER and sam.primary.status is EmailStatus.ACTIVE
    assert script.calls("email_verifier") == [] and script.calls("find_decision_makers") == []


async def test_no_time_left_hands_the_lead_back_without_calls_or_attempt(script: Script) -> None:
    result = await make_enricher(script).enrich(Lead(domain="acme.com"), Deadline.after(0.1))
    assert result.status is LeadStatus.DEFERRED and not result.attempt_consumed
    assert script.log == [] and result.usage.hunter.calls == 0


async def test_a_named_person_who_is_not_there_falls_back_to_the_decision_makers(script: Script) -> None:
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "CEO", 95, "valid", RECENT)]
    script.pattern["acme.com"] = "{first}.{last}"
    result = await make_enricher(script).enrich(Lead(domain="acme.com", first_name="Tom", last_name="Weber"))
    assert result.status is LeadStatus.FOUND
    assert [e.email for e in result.emails] == ["olivia.martin@acme.com"]
    assert result.reason and "Tom Weber not found" in result.reason
    # the finder and the named person's pattern address were tried first, and nothing else was verified
    assert len(script.calls("email_finder")) == 1
    assert [c.args["email"] for c in script.calls("email_verifier")] == ["tom.weber@acme.com"]


# -- regressions found in review ------------------------------------------------------------------------


async def test_an_odd_perplexity_body_defers_the_lead_and_never_raises(script: Script) -> None:
    # The odd body itself (no search results, no message content) is read by the client's own test.
    script.problems["find_decision_makers"] = NOT_THE_REQUESTED_JSON
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    assert result.status is LeadStatus.DEFERRED


async def test_an_opted_out_person_gets_no_guessed_address_and_is_asked_for_once(script: Script) -> None:
    script.accept_all.add("acme.com")
    script.pattern["acme.com"] = "{first}.{last}"
    script.problems["email_finder"] = OPTED_OUT
    enricher = make_enricher(script)
    for _ in range(2):
        result = await enricher.enrich(Lead(domain="acme.com", first_name="John", last_name="Smith"))
        assert "john.smith@acme.com" not in [e.email for e in result.emails]
    assert len(script.calls("email_finder")) == 1  # the 451 is remembered


async def test_a_hunter_verified_row_on_an_accept_all_domain_is_not_active(script: Script) -> None:
    script.accept_all.add("acme.com")
    script.rows["acme.com"] = [
        row("olivia.martin@acme.com", "CEO", 95, "valid", RECENT),
        row("sam.lee@acme.com", "CTO", 95, "valid", RECENT),
    ]
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    assert result.emails and all(e.status is EmailStatus.INACTIVE for e in result.emails)


async def test_concurrent_leads_of_one_company_pay_once(script: Script) -> None:
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "CEO", 95)]
    script.mailboxes = {"olivia.martin@acme.com"}
    script.latency = 0.01  # answers take time, so the five leads really overlap
    enricher = make_enricher(script)
    results = await asyncio.gather(*(enricher.enrich(Lead(domain="acme.com")) for _ in range(5)))
    assert all(r.status is LeadStatus.FOUND for r in results)
    assert len(script.calls("domain_search")) == 1 and len(script.calls("email_verifier")) == 1
    assert sum(r.usage.hunter.credits for r in results) == 2.0
    assert sum(r.usage.hunter.cache_hits for r in results) >= 4


async def test_nothing_found_is_not_remembered_when_perplexity_was_off(script: Script) -> None:
    enricher = make_enricher(script, with_perplexity=False)
    await enricher.enrich(Lead(domain="acme.com"))
    assert not await enricher.cache.nothing_found("acme.com", "")


async def test_a_forbidden_endpoint_does_not_switch_hunter_off(script: Script) -> None:
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "CEO", 95)]
    script.rows["globex.com"] = [row("ann.lee@globex.com", "CEO", 95, "valid", RECENT)]
    script.problems["email_verifier"] = FORBIDDEN
    enricher = make_enricher(script)
    assert (await enricher.enrich(Lead(domain="acme.com"))).status is LeadStatus.FAILED
    assert (await enricher.enrich(Lead(domain="globex.com"))).status is LeadStatus.FOUND


async def test_a_perplexity_call_refused_by_the_deadline_is_not_counted(script: Script) -> None:
    script.rows["acme.com"] = []
    result = await make_enricher(script).enrich(Lead(domain="acme.com"), Deadline.after(1.5))
    assert result.status is LeadStatus.DEFERRED and result.usage.perplexity.calls == 0
    assert script.calls("find_decision_makers") == []


async def test_a_pasted_address_never_reaches_the_reason_or_the_log(
    script: Script, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    result = await make_enricher(script).enrich(Lead(domain="John Smith <john.smith@acme.com>"))
    assert result.status is LeadStatus.INVALID
    assert "john.smith@" not in (result.reason or "")
    assert not [r for r in caplog.records if "john.smith@" in r.getMessage() + str(r.__dict__)]


async def test_a_named_person_who_opted_out_is_not_taken_from_the_search_page(script: Script) -> None:
    script.rows["acme.com"] = [row("john.smith@acme.com", "CEO", 95, "valid", RECENT)]
    script.problems["email_finder"] = OPTED_OUT
    result = await make_enricher(script).enrich(Lead(domain="acme.com", first_name="John", last_name="Smith"))
    assert "john.smith@acme.com" not in [e.email for e in result.emails]


async def test_a_throttled_call_defers_without_charging_an_attempt(script: Script) -> None:
    """Given Hunter's rate limiter answering 403 (not billed, not a failed try), when a lead meets it, then
    the lead is handed back with no attempt charged, after the provider's wait, and nothing is cached as
    not found: the next try searches again."""
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "CEO", 95)]
    script.mailboxes = {"olivia.martin@acme.com"}
    script.problems["domain_search"] = RATE_LIMITED
    enricher = make_enricher(script)

    throttled = await enricher.enrich(Lead(domain="acme.com"))

    assert throttled.status is LeadStatus.DEFERRED and not throttled.attempt_consumed
    assert throttled.retry_after is not None and throttled.retry_after > 0
    assert "rate limit" in (throttled.reason or "")
    del script.problems["domain_search"]
    again = await enricher.enrich(Lead(domain="acme.com"))
    assert again.status is LeadStatus.FOUND and len(script.calls("domain_search")) == 2


class SlotsUntil:
    """A rate limiter (the port) with a slot free at `free_at` seconds from now: it grants it only when the
    caller's deadline, as passed, lies at or after it, and records what each key asked for."""

    def __init__(self, free_in: float) -> None:
        self.free_in = free_in
        self.asked: dict[str, float] = {}

    async def acquire(self, key: str, deadline: Deadline) -> bool:
        self.asked[key] = deadline.remaining()
        return deadline.remaining() >= self.free_in


async def test_a_slot_too_late_to_use_is_not_taken_and_the_lead_goes_back_without_an_attempt(
    script: Script,
) -> None:
    """Given a lead that needs Perplexity and 3 s left, with the next Perplexity slot 1.5 s away, then the
    limiter is asked for a slot usable with the 2 s an Agent run needs (so none), nothing is sent, and the
    lead is deferred without an attempt charged."""
    script.people["acme.com"] = [{"name": "Jane Doe", "title": "CEO", "source_urls": ["https://acme.com/a"]}]
    limiter = SlotsUntil(free_in=1.5)
    result = await make_enricher(script, limiter=limiter).enrich(Lead(domain="acme.com"), Deadline.after(3.0))
    assert limiter.asked["perplexity.responses"] < 1.5  # 3 s less the 2 s a run needs
    assert limiter.asked["hunter.domain_search"] > 2.0  # Hunter's calls need 0.5 s
    assert script.calls("find_decision_makers") == []
    assert result.status is LeadStatus.DEFERRED and not result.attempt_consumed

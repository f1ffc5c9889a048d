"""A domain whose pattern guess bounced (`ResultCache.put_pattern_bounced`, written by bounce feedback:
docs/bounces.md): the engine verifies instead of trusting the pattern. Each case side by side with the
same script without the fact, so the difference is the fact's."""

from __future__ import annotations

from leadenrich.engine.models import Deliverability, EmailStatus, Lead, LeadStatus, Method
from tests.support.scripted_providers import Script, make_enricher

LEAD = Lead(domain="acme.com", company_name="Acme")


def jane(script: Script) -> None:
    script.pattern["acme.com"] = "{first}.{last}"
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "CEO", "source_urls": ["https://acme.com/about"]}
    ]


async def test_on_a_catch_all_domain_a_doubted_pattern_guess_is_never_returned_unverified(
    script: Script,
) -> None:
    jane(script)
    script.accept_all.add("acme.com")
    trusted = await make_enricher(script).enrich(LEAD)
    assert [(e.email, e.method, e.deliverability) for e in trusted.emails] == [
        ("jane.doe@acme.com", Method.KNOWN_PATTERN, Deliverability.CATCH_ALL)
    ]
    assert script.calls("email_finder") == []  # the free guess was taken as it is

    script.log.clear()
    doubting = make_enricher(script)
    await doubting.cache.put_pattern_bounced("acme.com")
    doubted = await doubting.enrich(LEAD)
    assert doubted.status is LeadStatus.NOT_FOUND and doubted.emails == []
    assert [c.args["first_name"] for c in script.calls("email_finder")] == ["Jane"]  # asked Hunter instead
    assert script.calls("email_verifier") == []  # a catch-all server would accept the guess: nothing to buy
    assert doubted.reason is not None and "pattern is doubted" in doubted.reason


async def test_on_a_catch_all_domain_a_doubted_pattern_leaves_the_finder_s_own_answer(script: Script) -> None:
    jane(script)
    script.accept_all.add("acme.com")
    script.finder[("jane", "doe")] = {"email": "jdoe@acme.com", "score": 88, "accept_all": True}
    doubting = make_enricher(script)
    await doubting.cache.put_pattern_bounced("acme.com")
    result = await doubting.enrich(LEAD)
    assert [(e.email, e.method) for e in result.emails] == [("jdoe@acme.com", Method.EMAIL_FINDER)]


async def test_a_doubted_pattern_that_misses_is_no_reason_to_skip_the_permutations(script: Script) -> None:
    jane(script)
    script.mailboxes = {"jane@acme.com"}  # the pattern's jane.doe@ does not exist (it bounced)
    trusted = await make_enricher(script).enrich(LEAD)
    assert trusted.status is LeadStatus.NOT_FOUND  # pattern and finder missed: permutations not paid for
    assert [c.args["email"] for c in script.calls("email_verifier")] == ["jane.doe@acme.com"]

    script.log.clear()
    doubting = make_enricher(script)
    await doubting.cache.put_pattern_bounced("acme.com")
    doubted = await doubting.enrich(LEAD)
    assert [(e.email, e.method, e.status) for e in doubted.emails] == [
        ("jane@acme.com", Method.PERMUTATION, EmailStatus.ACTIVE)
    ]
    assert [c.args["email"] for c in script.calls("email_verifier")] == ["jane.doe@acme.com", "jane@acme.com"]


async def test_a_doubted_pattern_still_counts_when_it_verifies(script: Script) -> None:
    jane(script)
    script.mailboxes = {"jane.doe@acme.com"}
    doubting = make_enricher(script)
    await doubting.cache.put_pattern_bounced("acme.com")
    result = await doubting.enrich(LEAD)
    assert [(e.email, e.method, e.status) for e in result.emails] == [
        ("jane.doe@acme.com", Method.KNOWN_PATTERN, EmailStatus.ACTIVE)
    ]

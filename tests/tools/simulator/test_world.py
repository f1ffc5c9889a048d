"""The synthetic world: deterministic, shaped as documented, and consistent with its own ground truth."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from enrich_tools.simulator import KIND_SHARES, SHOWCASE_DOMAINS, World
from enrich_tools.simulator.domains import WEBMAIL_DOMAINS, normalise_domain
from enrich_tools.simulator.names import match_key, render_local

AS_OF = date(2026, 6, 15)


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(7, 1205, as_of=AS_OF)


def test_same_seed_gives_the_same_world_and_another_seed_another() -> None:
    first = World.generate(11, 120, as_of=AS_OF)
    assert first == World.generate(11, 120, as_of=AS_OF)
    other = World.generate(12, 120, as_of=AS_OF)
    assert other != first
    assert [c.domain for c in other.companies[5:]] != [c.domain for c in first.companies[5:]]


def test_the_date_moves_only_dates() -> None:
    early = World.generate(3, 60, as_of=date(2026, 1, 1))
    late = World.generate(3, 60, as_of=date(2026, 3, 1))
    assert [c.domain for c in early.companies] == [c.domain for c in late.companies]
    assert [p.email for c in early.companies for p in c.people] == [
        p.email for c in late.companies for p in c.people
    ]


def test_kind_shares_are_roughly_as_documented(world: World) -> None:
    generated = [c for c in world.companies if not c.showcase]
    counts = Counter(c.kind for c in generated)
    for kind, share in KIND_SHARES.items():
        assert counts[kind] / len(generated) == pytest.approx(share, abs=0.04), kind


def test_kinds_mean_what_they_say(world: World) -> None:
    for company in world.companies:
        indexed_dms = [p for p in company.decision_makers if p.indexed_by_hunter]
        if company.kind == "indexed":
            assert indexed_dms
        if company.kind in ("dm_unindexed", "generic_only", "unknown", "no_mx"):
            assert not indexed_dms
        if company.kind == "dm_unindexed":
            assert all(p.seniority == "junior" for p in company.people if p.indexed_by_hunter)
        if company.kind in ("unknown", "no_mx", "generic_only"):
            assert not company.pattern_known_to_hunter
        assert company.accept_all == (company.kind == "accept_all")
        assert company.has_mx == (company.kind != "no_mx")
        if not company.has_mx:
            assert world.truth(company.domain).mailboxes == frozenset()


def test_addresses_follow_the_company_pattern_with_a_few_exceptions(world: World) -> None:
    people = [(c, p) for c in world.companies for p in c.people if p.email]
    following = [
        (c, p)
        for c, p in people
        if p.email == f"{render_local(c.pattern, p.first_name, p.last_name, c.transliteration)}@{c.domain}"
    ]
    assert 0.90 < len(following) / len(people) < 0.99
    assert any(p.email and p.email.split("@")[0][-1].isdigit() for _, p in people)  # name collisions


def test_tricky_names_appear_at_a_realistic_rate(world: World) -> None:
    names = [p.full_name for c in world.companies for p in c.people]
    tricky = [n for n in names if not n.isascii() or "'" in n or "-" in n or " van " in n or " de " in n]
    assert 0.15 < len(tricky) / len(names) < 0.6
    assert any(p.last_name == "" for c in world.companies for p in c.people)  # mononyms
    assert any(p.middle_name for c in world.companies for p in c.people)
    german = [c for c in world.companies if c.domain.endswith(".de")]
    assert Counter(c.transliteration.umlauts for c in german).most_common(1)[0][0] == "expand"


def test_showcase_companies_exist_whatever_the_seed() -> None:
    for seed in (1, 99):
        world = World.generate(seed, 10, as_of=AS_OF)
        assert [c.domain for c in world.companies[:5]] == list(SHOWCASE_DOMAINS)
        nordlicht = world.truth("nordlicht-energie.de")
        assert "j.mueller@nordlicht-energie.de" in nordlicht.decision_maker_emails
        assert nordlicht.kind == "dm_unindexed"
        assert nordlicht.pattern == "{f}.{last}"
        assert world.truth("globex-analytics.io").accept_all
        assert world.truth("maison-dupont.fr").decision_maker_emails == frozenset()
        assert world.is_real_mailbox("contact@maison-dupont.fr")
        assert "pieter.vanderberg@brightlane.co.uk" in world.truth("brightlane.co.uk").decision_maker_emails
        assert "aoife.osullivan@brightlane.co.uk" in world.truth("brightlane.co.uk").claimed_emails
        assert world.is_real_mailbox("sarah.obrien@acme-robotics.com")
        assert not world.is_real_mailbox("robert.miller@acme-robotics.com")  # left the company


def test_truth_counts_only_real_mailboxes(world: World) -> None:
    for company in world.companies:
        truth = world.truth(company.domain)
        for person in company.people:
            if person.email and person.left_company and person.email not in truth.mailboxes:
                assert not world.is_real_mailbox(person.email)
        assert truth.decision_maker_emails <= truth.mailboxes
        assert truth.claimed_emails <= truth.mailboxes
    gmail = world.truth("gmail.com")
    assert gmail.kind == "webmail"
    assert not gmail.mailboxes
    assert world.truth("no-such-company-here.com").kind == "nonexistent"
    assert world.company("HTTPS://WWW.Acme-Robotics.com/about") is not None


def test_perplexity_knowledge_is_mostly_right_and_sometimes_wrong(world: World) -> None:
    answers = [(c, a) for c in world.companies for a in c.perplexity]
    unknown = [c for c in world.companies if not c.perplexity]
    assert 0.05 < len(unknown) / len(world.companies) < 0.25
    labels = Counter(a.label for _, a in answers)
    assert labels["current"] / len(answers) > 0.75
    assert labels["hallucinated"]
    assert labels["former"]
    assert labels["misattributed"]
    for company, answer in answers:
        urls = {page.url for page in company.search_pages}
        assert answer.cited == (answer.source_url is not None and answer.source_url in urls)
        real = {match_key(p.full_name) for p in company.people}
        if answer.label == "hallucinated":
            assert match_key(answer.name) not in real
            assert not answer.cited
        if answer.label == "current":
            dm_keys = {match_key(p.full_name) for p in company.decision_makers}
            dm_keys |= {
                match_key(f"{p.first_name} {p.middle_name} {p.last_name}") for p in company.decision_makers
            }
            assert match_key(answer.name) in dm_keys
    sourced = [a for _, a in answers if a.label == "current"]
    assert 0.75 < sum(a.cited for a in sourced) / len(sourced) < 0.95


def test_wrong_answer_share_is_a_knob() -> None:
    clean = World.generate(5, 300, as_of=AS_OF, wrong_share=0.0)
    assert not [a for c in clean.companies if not c.showcase for a in c.perplexity if a.label != "current"]


def test_sample_leads_mix(world: World) -> None:
    leads = world.sample_leads(1000, seed=1)
    assert leads == world.sample_leads(1000, seed=1)
    assert leads != world.sample_leads(1000, seed=2)
    assert len({lead.external_id for lead in leads}) == len(leads)
    named = [lead for lead in leads if lead.first_name]
    assert 0.15 < len(named) / len(leads) < 0.25
    webmail = [lead for lead in leads if normalise_domain(lead.domain) in WEBMAIL_DOMAINS]
    malformed = [lead for lead in leads if lead.true_domain is None]
    assert webmail
    assert malformed
    assert all(normalise_domain(lead.domain) is None for lead in malformed)
    messy = [lead for lead in leads if lead.true_domain and lead.domain != lead.true_domain]
    assert messy
    assert all(normalise_domain(lead.domain) == lead.true_domain for lead in messy)
    domains = [lead.true_domain for lead in leads if lead.true_domain]
    repeats = len(domains) - len(set(domains))
    assert 0.08 < repeats / len(domains) < 0.25
    with_email = [lead for lead in named if lead.person_email]
    assert with_email
    assert all(world.is_real_mailbox(lead.person_email or "") for lead in with_email)

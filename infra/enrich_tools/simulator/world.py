"""The synthetic world both fake providers answer from, and the ground truth a benchmark scores against.

`World.generate(seed, companies)` is deterministic: one `random.Random(seed)` drives every draw in a fixed
order (no global random, no `hash()` of strings); only dates move with `as_of` (default: today). The
world always contains the five showcase companies (showcase.py) plus `companies - 5` generated ones.

Kind shares of generated companies (generate.py has the reasoning): indexed 42%, dm_unindexed 20%,
accept_all 15%, unknown to Hunter 10%, generic_only 8%, no_mx 5%. Besides companies, the well-known
webmail and disposable providers exist (domains.py); any other domain does not exist (no MX). Perplexity's
knowledge and its wrong answers are described in knowledge.py, lead sampling in leads.py.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from enrich_tools.simulator.domains import DISPOSABLE_DOMAINS, WEBMAIL_DOMAINS, normalise_domain
from enrich_tools.simulator.entities import (
    Company,
    DomainClass,
    Kind,
    PerplexityAnswer,
    Person,
    SearchPage,
    SimLead,
    Truth,
)
from enrich_tools.simulator.generate import KIND_SHARES, generate_company
from enrich_tools.simulator.showcase import SHOWCASE_DOMAINS, showcase_companies

__all__ = [
    "KIND_SHARES",
    "SHOWCASE_DOMAINS",
    "Company",
    "Kind",
    "PerplexityAnswer",
    "Person",
    "SearchPage",
    "SimLead",
    "Truth",
    "World",
]


class World:
    """Companies indexed by domain and by mailbox; immutable once generated."""

    def __init__(self, seed: int, as_of: date, companies: tuple[Company, ...]) -> None:
        self.seed = seed
        self.as_of = as_of
        self.companies = companies
        self._by_domain = {c.domain: c for c in companies}
        self._by_name = {c.name.casefold(): c for c in companies}
        self._by_email: dict[str, tuple[Company, Person | None]] = {}
        for company in companies:
            for address in company.generic_mailboxes:
                self._by_email[address] = (company, None)
            for person in company.people:
                if person.email and not (person.left_company and person.email in self._by_email):
                    self._by_email.setdefault(person.email, (company, person))

    @classmethod
    def generate(
        cls, seed: int = 7, companies: int = 400, *, as_of: date | None = None, wrong_share: float = 0.15
    ) -> World:
        """A world of `companies` companies (at least the five showcase ones)."""
        as_of = as_of or datetime.now(UTC).date()
        rng = random.Random(seed)
        fixed = showcase_companies(as_of)
        taken = {c.domain for c in fixed}
        generated = [
            generate_company(rng, as_of=as_of, taken=taken, wrong_share=wrong_share)
            for _ in range(max(0, companies - len(fixed)))
        ]
        return cls(seed, as_of, tuple(fixed + generated))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, World):
            return NotImplemented
        return (self.seed, self.as_of, self.companies) == (other.seed, other.as_of, other.companies)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking container semantics: not hashable

    def __repr__(self) -> str:
        return f"World(seed={self.seed}, companies={len(self.companies)}, as_of={self.as_of})"

    # --- lookups

    def company(self, domain: str) -> Company | None:
        normalised = normalise_domain(domain)
        return self._by_domain.get(normalised) if normalised else None

    def company_by_name(self, name: str) -> Company | None:
        """Hunter's `company=` parameter: case-insensitive name, with or without the legal form."""
        wanted = name.strip().casefold()
        if wanted in self._by_name:
            return self._by_name[wanted]
        for company in self.companies:
            if company.name.casefold().startswith(wanted + " ") or company.name.casefold() == wanted:
                return company
        return None

    def classify(self, domain: str) -> DomainClass:
        normalised = normalise_domain(domain) or ""
        if normalised in WEBMAIL_DOMAINS:
            return "webmail"
        if normalised in DISPOSABLE_DOMAINS:
            return "disposable"
        company = self._by_domain.get(normalised)
        return company.kind if company else "nonexistent"

    def mailbox_owner(self, email: str) -> tuple[Company, Person | None] | None:
        """The company and person (None for a role address) an address belongs or belonged to."""
        return self._by_email.get(email.strip().lower())

    def is_real_mailbox(self, email: str) -> bool:
        owner = self.mailbox_owner(email)
        if owner is None:
            return False
        company, person = owner
        return company.has_mx and (person is None or not person.left_company)

    def is_claimed(self, email: str) -> bool:
        owner = self.mailbox_owner(email)
        return bool(owner and owner[1] and owner[1].claimed)

    # --- ground truth

    def truth(self, domain: str) -> Truth:
        normalised = normalise_domain(domain) or domain.strip().lower()
        company = self._by_domain.get(normalised)
        if company is None:
            return Truth(
                domain=normalised,
                kind=self.classify(normalised),
                decision_maker_emails=frozenset(),
                mailboxes=frozenset(),
                claimed_emails=frozenset(),
                accept_all=False,
                has_mx=normalised in WEBMAIL_DOMAINS or normalised in DISPOSABLE_DOMAINS,
                pattern=None,
                pattern_known_to_hunter=False,
                decision_maker_names=(),
            )
        current = [p for p in company.current_people if p.email]
        return Truth(
            domain=company.domain,
            kind=company.kind,
            decision_maker_emails=frozenset(p.email for p in current if p.email and p.is_decision_maker),
            mailboxes=frozenset([*(p.email for p in current if p.email), *company.generic_mailboxes]),
            claimed_emails=frozenset(p.email for p in current if p.email and p.claimed),
            accept_all=company.accept_all,
            has_mx=company.has_mx,
            pattern=company.pattern,
            pattern_known_to_hunter=company.pattern_known_to_hunter,
            decision_maker_names=tuple(p.full_name for p in company.decision_makers),
        )

    def sample_leads(self, n: int, seed: int) -> list[SimLead]:
        """Benchmark input rows drawn from this world (see leads.py for the mix)."""
        from enrich_tools.simulator.leads import sample_leads

        return sample_leads(self, n, seed)

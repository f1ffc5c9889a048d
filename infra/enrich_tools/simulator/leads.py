"""Benchmark leads drawn from a world, messy the way real CRM exports are.

Mix: ~2% webmail domains (gmail.com ...), ~0.7% disposable ones, ~1.3% not a domain at all ("foo",
"n/a"). The rest name world companies, drawn without replacement until the world is used up; ~10% of
them repeat a company already drawn, ~5% write the domain as a URL or in capitals, 70% carry the company
name, and ~20% name a person: a current decision-maker (55%), another employee (25%), someone who has
left (12%, when the company has such a person) or a name nobody there has (8%). Named people are
written as a CRM would: a quarter without diacritics, some in lower case, some with the middle name
glued to the first name.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from anyascii import anyascii

from enrich_tools.simulator.domains import DISPOSABLE_DOMAINS, WEBMAIL_DOMAINS
from enrich_tools.simulator.entities import Company, Person, SimLead
from enrich_tools.simulator.names import FIRST_NAMES, LAST_NAMES

if TYPE_CHECKING:
    from enrich_tools.simulator.world import World

_MALFORMED = ("foo", "n/a", "acme", "not a domain", "-", "www.", "http://", "tbd")


def sample_leads(world: World, n: int, seed: int) -> list[SimLead]:
    rng = random.Random(f"leads|{world.seed}|{seed}")
    webmail, disposable = sorted(WEBMAIL_DOMAINS), sorted(DISPOSABLE_DOMAINS)
    drawn: list[Company] = []
    fresh: list[Company] = []
    leads: list[SimLead] = []
    for index in range(n):
        external_id = f"L{index + 1:05d}"
        draw = rng.random()
        if draw < 0.027:
            domain = rng.choice(webmail if draw < 0.02 else disposable)
            first, last = _random_name(rng)
            leads.append(SimLead(external_id, domain, None, first, last, true_domain=domain))
            continue
        if draw < 0.04:
            leads.append(SimLead(external_id, rng.choice(_MALFORMED), None, None, None))
            continue
        if drawn and rng.random() < 0.10:
            company = rng.choice(drawn)
        else:
            if not fresh:
                fresh = list(world.companies)
                rng.shuffle(fresh)
            company = fresh.pop()
        drawn.append(company)
        domain = _messy(rng, company.domain) if rng.random() < 0.05 else company.domain
        company_name = company.name if rng.random() < 0.7 else None
        first = last = person_email = None
        if rng.random() < 0.20:
            first, last, person = _named_person(rng, company)
            if person is not None and not person.left_company:
                person_email = person.email
        leads.append(
            SimLead(external_id, domain, company_name, first, last, company.domain, person_email=person_email)
        )
    return leads


def _messy(rng: random.Random, domain: str) -> str:
    return rng.choice(
        (f"https://www.{domain}/about", f"WWW.{domain.upper()}", f" {domain} ", f"http://{domain}/")
    )


def _random_name(rng: random.Random) -> tuple[str | None, str | None]:
    if rng.random() < 0.5:
        return None, None
    return rng.choice(FIRST_NAMES["us"][rng.choice(("m", "f"))]), rng.choice(LAST_NAMES["us"])


def _named_person(rng: random.Random, company: Company) -> tuple[str | None, str | None, Person | None]:
    dms = list(company.decision_makers)
    staff = [p for p in company.current_people if not p.is_decision_maker]
    gone = [p for p in company.people if p.left_company]
    draw = rng.random()
    person: Person | None
    if draw < 0.55 and dms:
        person = rng.choice(dms)
    elif draw < 0.80 and staff:
        person = rng.choice(staff)
    elif draw < 0.92 and gone:
        person = rng.choice(gone)
    elif draw < 0.92:
        person = rng.choice(company.people)
    else:
        first, last = _random_name(rng)
        return first or "Alex", last or "Morgan", None
    first, last = person.first_name, person.last_name or None
    style = rng.random()
    if style < 0.25:
        first, last = anyascii(first), anyascii(last) if last else None
    elif style < 0.35:
        first, last = first.lower(), last.lower() if last else None
    elif style < 0.40 and person.middle_name:
        first = f"{first} {person.middle_name}"
    return first, last, person

"""Hunter's view of the world turned into v2 payloads (Domain Search, Email Finder, Email Verifier, Count).

Shapes follow providers.md §1.2-1.6. Realism choices:
- Domain Search lists indexed, non-claimed people (stale ex-staff included) and role addresses, ordered by
  confidence; `verification` is always present and filled only for a verification under 30 days old.
- Email Finder returns an indexed person's address (score = Hunter's confidence, 15-25 lower on accept-all
  domains; a stale row is still returned; its verification only when under 30 days old), finds 85% of
  non-indexed people who follow the pattern (score 75-97, verified `valid` today by the SMTP probe that
  found them), and on accept-all domains guesses from the known pattern (or first.last) with a score of 25-55
  even for names nobody has. Otherwise it finds nothing.
- Email Verifier answers from the mail server's truth: valid (85-99) for real mailboxes, invalid for
  others and for domains without MX, accept_all (35-65, or 65-85 when the address is on the web) for
  every address of an accept-all domain, webmail/disposable for those providers, and `unknown`
  (a blocked SMTP check) at the configured share. `result`: valid -> deliverable, invalid ->
  undeliverable, everything else -> risky.
- Sources: people who left keep a live-looking page 30% of the time, and people who stayed lose theirs 15%
  of the time (`_sources`).
Scores and source dates are drawn from generators seeded by the address, so repeating a call gives the
same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from enrich_tools.simulator.domains import DISPOSABLE_DOMAINS, WEBMAIL_DOMAINS, stable_rng
from enrich_tools.simulator.entities import Company, Person
from enrich_tools.simulator.generate import RECENT_VERIFICATION_DAYS
from enrich_tools.simulator.names import HUNTER_SPELLING, match_key, render_local, surname_keys
from enrich_tools.simulator.roles import DEPARTMENTS
from enrich_tools.simulator.world import World

TEST_KEY = "test-api-key"
STALE_PAGE_SHARE = 0.3  # of people who left, still shown on a page that was never updated
DROPPED_PAGE_SHARE = 0.15  # of people still there, no longer on any page Hunter re-crawled
_GENERIC_DEPARTMENTS = {
    "sales": "sales",
    "vertrieb": "sales",
    "ventas": "sales",
    "verkoop": "sales",
    "support": "support",
    "service": "support",
    "commercial": "sales",
}


def _verification(on: date | None, status: str, as_of: date) -> dict[str, Any]:
    if on is not None and (as_of - on).days < RECENT_VERIFICATION_DAYS:
        return {"date": on.isoformat(), "status": status}
    return {"date": None, "status": None}


def _sources(world: World, domain: str, email: str, still_there: bool) -> list[dict[str, Any]]:
    """The pages Hunter saw the address on. A page is only a witness: a team page nobody updated still
    shows someone who left (STALE_PAGE_SHARE), and a redesigned site drops someone who stayed
    (DROPPED_PAGE_SHARE), so a live sighting is strong evidence, never proof."""
    rng = stable_rng(world.seed, "sources", email)
    pages: tuple[str, ...] = ("about/team", "team", "contact", "blog", "press", "careers")
    if domain.endswith(".de"):
        pages = ("impressum", "team", "kontakt", "presse")
    if rng.random() < (DROPPED_PAGE_SHARE if still_there else STALE_PAGE_SHARE):
        still_there = not still_there
    out = []
    for _ in range(rng.randint(1, 3)):
        extracted = world.as_of - timedelta(days=rng.randint(60, 900))
        seen = world.as_of - timedelta(days=rng.randint(0, 45) if still_there else rng.randint(200, 600))
        out.append(
            {
                "domain": domain,
                "uri": f"http://{domain}/{rng.choice(pages)}",
                "extracted_on": extracted.isoformat(),
                "last_seen_on": max(seen, extracted).isoformat(),
                "still_on_page": still_there,
            }
        )
    return out


def person_row(world: World, company: Company, person: Person) -> dict[str, Any]:
    assert person.email is not None
    status = "accept_all" if company.accept_all else "invalid" if person.left_company else "valid"
    labelled = person.hunter_has_position
    return {
        "value": person.email,
        "type": "personal",
        "confidence": person.hunter_confidence,
        "sources": _sources(world, company.domain, person.email, not person.left_company),
        "first_name": person.first_name,
        "last_name": person.last_name or None,
        "position": person.position if labelled else None,
        "position_raw": person.position if labelled else None,
        "seniority": person.seniority if labelled else None,
        "department": person.department if labelled else None,
        "linkedin": person.linkedin_url,
        "twitter": None,
        "phone_number": None,
        "verification": _verification(person.hunter_verified_on, status, world.as_of),
    }


def generic_row(world: World, company: Company, address: str) -> dict[str, Any]:
    rng = stable_rng(world.seed, "generic", address)
    verified = world.as_of - timedelta(days=rng.randint(0, 90)) if rng.random() < 0.5 else None
    return {
        "value": address,
        "type": "generic",
        "confidence": rng.randint(75, 97),
        "sources": _sources(world, company.domain, address, True),
        "first_name": None,
        "last_name": None,
        "position": None,
        "position_raw": None,
        "seniority": None,
        "department": _GENERIC_DEPARTMENTS.get(address.split("@")[0]),
        "linkedin": None,
        "twitter": None,
        "phone_number": None,
        "verification": _verification(verified, "accept_all" if company.accept_all else "valid", world.as_of),
    }


def domain_rows(world: World, company: Company | None) -> list[dict[str, Any]]:
    """Every row Domain Search knows for a company, best confidence first."""
    if company is None:
        return []
    rows = [
        person_row(world, company, p)
        for p in company.people
        if p.indexed_by_hunter and p.email and not p.claimed
    ]
    if company.generic_indexed_by_hunter:
        rows += [generic_row(world, company, address) for address in company.generic_mailboxes]
    return sorted(rows, key=lambda row: (-int(row["confidence"]), str(row["value"])))


def filter_rows(
    rows: list[dict[str, Any]],
    kind: str | None,
    seniorities: set[str],
    departments: set[str],
    required_field: str | None,
) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        if kind and row["type"] != kind:
            continue
        if seniorities and row["seniority"] not in seniorities:
            continue
        if departments and row["department"] not in departments:
            continue
        if required_field and not row.get("first_name" if required_field == "full_name" else required_field):
            continue
        out.append(row)
    return out


def domain_facts(world: World, domain: str | None, company: Company | None) -> dict[str, Any]:
    """The domain-level part of a Domain Search answer (everything but `emails`)."""
    known = company is not None and company.kind not in ("unknown", "no_mx")
    return {
        "domain": domain,
        "disposable": domain in DISPOSABLE_DOMAINS,
        "webmail": domain in WEBMAIL_DOMAINS,
        "accept_all": bool(company and company.accept_all),
        "pattern": company.pattern if company and company.pattern_known_to_hunter else None,
        "organization": company.name if company and known else None,
        "description": None,
        "industry": None,
        "country": company.country if company and known else None,
        "state": None,
        "linked_domains": [],
    }


def count_data(world: World, company: Company | None, kind: str | None) -> dict[str, Any]:
    rows = filter_rows(domain_rows(world, company), kind, set(), set(), None)
    departments = dict.fromkeys(DEPARTMENTS, 0)
    seniority = {"junior": 0, "senior": 0, "executive": 0}
    for row in rows:
        if row["department"] in departments:
            departments[row["department"]] += 1
        if row["seniority"] in seniority:
            seniority[row["seniority"]] += 1
    personal = sum(1 for row in rows if row["type"] == "personal")
    return {
        "total": len(rows),
        "personal_emails": personal,
        "generic_emails": len(rows) - personal,
        "department": departments,
        "seniority": seniority,
    }


@dataclass(frozen=True)
class FinderResult:
    email: str | None
    score: int | None
    person: Person | None
    verification: dict[str, Any]
    sources: list[dict[str, Any]]


_NOTHING = {"date": None, "status": None}


def find_person(company: Company, first: str, last: str) -> Person | None:
    """The person a first/last name means, tolerant to case, diacritics, ue/ü, particles and hyphens."""
    first_key = match_key(first)
    last_keys = surname_keys(last)
    matches = [
        person
        for person in company.people
        if match_key(person.first_name) == first_key and surname_keys(person.last_name) & last_keys
    ]
    matches.sort(key=lambda p: (p.left_company, not p.indexed_by_hunter))
    return matches[0] if matches else None


def find_email(world: World, company: Company, first: str, last: str) -> FinderResult:
    person = find_person(company, first, last)
    rng = stable_rng(world.seed, "finder", company.domain, match_key(first), match_key(last))
    if person and person.email and person.indexed_by_hunter:
        score = person.hunter_confidence
        if company.accept_all:
            score = max(10, score - rng.randint(15, 25))
        status = "accept_all" if company.accept_all else "invalid" if person.left_company else "valid"
        return FinderResult(
            person.email,
            min(score, 99),
            person,
            _verification(person.hunter_verified_on, status, world.as_of),
            _sources(world, company.domain, person.email, not person.left_company),
        )
    if person and person.email and not person.left_company and person.findable_by_hunter:
        # Found by Hunter's own pattern + SMTP probe: the probe is a verification, dated today (providers.md
        # §5: the finder's answer carries it); the score still varies, and some finds score 80 or less.
        verified = {"date": world.as_of.isoformat(), "status": "valid"}
        return FinderResult(person.email, rng.randint(75, 97), person, verified, [])
    if company.accept_all:
        pattern = company.pattern if company.pattern_known_to_hunter else "{first}.{last}"
        local = render_local(pattern, first, last, HUNTER_SPELLING)
        if local:
            return FinderResult(f"{local}@{company.domain}", rng.randint(25, 55), None, dict(_NOTHING), [])
    return FinderResult(None, None, None, dict(_NOTHING), [])


def verify(world: World, email: str, unknown: bool) -> dict[str, Any]:
    """The `data` of an Email Verifier answer (claimed addresses are handled before this)."""
    domain = email.split("@", 1)[1]
    rng = stable_rng(world.seed, "verifier", email)
    owner = world.mailbox_owner(email)
    company = world.company(domain)
    base: dict[str, Any] = {
        "email": email,
        "regexp": True,
        "gibberish": False,
        "disposable": domain in DISPOSABLE_DOMAINS,
        "webmail": domain in WEBMAIL_DOMAINS,
        "mx_records": True,
        "smtp_server": True,
        "smtp_check": True,
        "accept_all": False,
        "block": False,
        "sources": [],
    }
    if owner and owner[0].has_mx and not (owner[1] and owner[1].left_company):
        base["sources"] = _sources(world, domain, email, True) if _on_the_web(owner[0], owner[1]) else []
    if domain in WEBMAIL_DOMAINS:
        status, score = "webmail", rng.randint(50, 90)
    elif domain in DISPOSABLE_DOMAINS:
        status, score = "disposable", rng.randint(0, 20)
    elif company is None or not company.has_mx:
        base.update(mx_records=False, smtp_server=False, smtp_check=False)
        status, score = "invalid", 0
    elif company.accept_all:
        base["accept_all"] = True
        on_web = bool(owner and _on_the_web(owner[0], owner[1]))
        status, score = "accept_all", rng.randint(65, 85) if on_web else rng.randint(35, 65)
    elif unknown:
        base.update(smtp_check=False, block=True)
        status, score = "unknown", None
    elif world.is_real_mailbox(email):
        status, score = "valid", rng.randint(85, 99)
    else:
        base["smtp_check"] = False
        status, score = "invalid", rng.randint(0, 15)
    result = {"valid": "deliverable", "invalid": "undeliverable"}.get(status, "risky")
    return {
        "status": status,
        "result": result,
        "_deprecation_notice": "Using result is deprecated, use status instead",
        "score": score,
        **base,
    }


def _on_the_web(company: Company, person: Person | None) -> bool:
    return person.indexed_by_hunter if person else company.generic_indexed_by_hunter


# Fixed answers for the documented `test-api-key` (same payload whatever the parameters).
_TEST_SOURCE = {
    "domain": "acme.com",
    "uri": "http://acme.com/about/team",
    "extracted_on": "2026-02-11",
    "last_seen_on": "2026-06-02",
    "still_on_page": True,
}
TEST_DOMAIN_SEARCH: dict[str, Any] = {
    "data": {
        "domain": "acme.com",
        "disposable": False,
        "webmail": False,
        "accept_all": False,
        "pattern": "{first}.{last}",
        "organization": "Acme Inc",
        "description": None,
        "industry": None,
        "country": None,
        "state": None,
        "linked_domains": [],
        "emails": [
            {
                "value": "olivia.martin@acme.com",
                "type": "personal",
                "confidence": 96,
                "sources": [_TEST_SOURCE],
                "first_name": "Olivia",
                "last_name": "Martin",
                "position": "Head of Sales",
                "position_raw": "Head of Sales",
                "seniority": "executive",
                "department": "sales",
                "linkedin": "https://www.linkedin.com/in/olivia-martin",
                "twitter": None,
                "phone_number": None,
                "verification": {"date": "2026-06-10", "status": "valid"},
            }
        ],
    },
    "meta": {
        "results": 1,
        "limit": 10,
        "offset": 0,
        "params": {
            "domain": "acme.com",
            "company": None,
            "type": None,
            "seniority": None,
            "department": None,
        },
    },
}
TEST_EMAIL_FINDER: dict[str, Any] = {
    "data": {
        "first_name": "Olivia",
        "last_name": "Martin",
        "email": "olivia.martin@acme.com",
        "score": 96,
        "domain": "acme.com",
        "accept_all": False,
        "position": "Head of Sales",
        "twitter": None,
        "linkedin_url": "https://www.linkedin.com/in/olivia-martin",
        "phone_number": None,
        "company": "Acme Inc",
        "sources": [_TEST_SOURCE],
        "verification": {"date": "2026-06-10", "status": "valid"},
    },
    "meta": {
        "params": {
            "first_name": "Olivia",
            "last_name": "Martin",
            "full_name": None,
            "domain": "acme.com",
            "company": None,
            "max_duration": None,
        }
    },
}
TEST_EMAIL_VERIFIER: dict[str, Any] = {
    "data": {
        "status": "valid",
        "result": "deliverable",
        "_deprecation_notice": "Using result is deprecated, use status instead",
        "score": 96,
        "email": "olivia.martin@acme.com",
        "regexp": True,
        "gibberish": False,
        "disposable": False,
        "webmail": False,
        "mx_records": True,
        "smtp_server": True,
        "smtp_check": True,
        "accept_all": False,
        "block": False,
        "sources": [_TEST_SOURCE],
    },
    "meta": {"params": {"email": "olivia.martin@acme.com"}},
}

"""The simulated Hunter's company directory: the firmographics `/companies/find` answers, and the names
`/discover` lists, both derived deterministically from the world.

Realism choices:
- Hunter has a company record for every world company but those it does not know at all (kind
  `unknown`: 10% of generated companies), which answer 404 "no company";
- fields are drawn per domain (the same in every run and process): the industry follows the sector word of
  the name ("Brightlane Analytics" is software), the size the staff count (1-10 ... 201-500), the city
  one of the country's business cities; 15% of records miss each optional field (description, city,
  founding year, LinkedIn, technologies), as real databases do, so completeness varies. The five showcase
  companies have every field;
- brand twins: two companies sharing a brand name, the case a name-only lead cannot be resolved in. About
  5% of generated companies have a twin (same brand, another legal form and country, another domain),
  and the showcase's Brightlane Ltd (brightlane.co.uk) always has one, Brightlane Inc. (brightlane.io).
  Twins exist only in the directory: Domain Search by company name picks the world's company, as Hunter
  picks one;
- Discover's organization-name filter matches a company whose name, legal form aside and case and accents
  ignored, is the name asked for or starts with it as whole words ("Acme" lists "Acme Robotics Inc.").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from anyascii import anyascii

from enrich_tools.simulator.domains import stable_rng
from enrich_tools.simulator.entities import Company
from enrich_tools.simulator.world import World

TWIN_SHARE = 0.05
MISSING_SHARE = 0.15
_FIXED_TWINS = {"brightlane.co.uk": ("brightlane.io", "Inc.", "US")}
_LEGAL_WORDS = frozenset(
    "inc llc ltd llp gmbh ag kg co sas sarl sa bv sl plc corp limited".split()  # noqa: SIM905 - a word table
)
_TWIN_TLDS = ((".io", "Inc.", "US"), (".de", "GmbH", "DE"), (".fr", "SAS", "FR"), (".co.uk", "Ltd", "GB"))
_COUNTRIES = {
    "US": ("United States", ("New York", "Austin", "Boston", "San Francisco", "Chicago"), "America/New_York"),
    "GB": ("United Kingdom", ("London", "Manchester", "Bristol", "Edinburgh"), "Europe/London"),
    "DE": ("Germany", ("Berlin", "Hamburg", "München", "Köln"), "Europe/Berlin"),
    "FR": ("France", ("Paris", "Lyon", "Nantes", "Bordeaux"), "Europe/Paris"),
    "NL": ("Netherlands", ("Amsterdam", "Rotterdam", "Utrecht"), "Europe/Amsterdam"),
    "ES": ("Spain", ("Madrid", "Barcelona", "Valencia", "Sevilla"), "Europe/Madrid"),
}
# The sector word of a name -> (sector, industry group, industry).
_SOFTWARE = ("Information Technology", "Software & Services", "Software")
_INDUSTRIES: dict[str, tuple[str, str, str]] = {
    **dict.fromkeys(
        "analytics software data digital systems numérique tecnología labs".split(),  # noqa: SIM905
        _SOFTWARE,
    ),
    **dict.fromkeys(
        "robotics technik techniek maschinenbau ingénierie ingeniería industries werke".split(),  # noqa: SIM905
        ("Industrials", "Capital Goods", "Machinery"),
    ),
    **dict.fromkeys(
        "logistics logistik logistique logistiek logística".split(),  # noqa: SIM905
        ("Industrials", "Transportation", "Logistics"),
    ),
    **dict.fromkeys(
        "energy energie énergie energía solar".split(),  # noqa: SIM905
        ("Utilities", "Utilities", "Renewable Energy"),
    ),
    **dict.fromkeys(
        "consulting beratung conseil advies consultores partners solutions soluciones".split(),  # noqa: SIM905
        ("Industrials", "Commercial & Professional Services", "Consulting"),
    ),
    **dict.fromkeys(
        "media medien studio design druck diseño".split(),  # noqa: SIM905
        ("Communication Services", "Media & Entertainment", "Media"),
    ),
    **dict.fromkeys(
        "bau holzbau bouw immobilier installaties".split(),  # noqa: SIM905
        ("Industrials", "Capital Goods", "Construction"),
    ),
    "health": ("Health Care", "Health Care Equipment & Services", "Health Care Services"),
    "biotech": ("Health Care", "Pharmaceuticals & Biotechnology", "Biotechnology"),
    "foods": ("Consumer Staples", "Food, Beverage & Tobacco", "Food Products"),
    "capital": ("Financials", "Diversified Financials", "Investment Management"),
    "security": ("Information Technology", "Software & Services", "Cybersecurity"),
    "études": ("Industrials", "Commercial & Professional Services", "Research & Consulting"),
}
_FALLBACK_INDUSTRIES = (_SOFTWARE, ("Consumer Discretionary", "Retailing", "Specialty Retail"))
_TECH = (
    "Google Workspace", "Microsoft 365", "HubSpot", "Salesforce", "Slack", "Stripe", "Shopify", "WordPress",
    "Cloudflare", "Amazon Web Services", "Zendesk", "Intercom", "Google Analytics", "Mailchimp",
)  # fmt: skip
_SIZES = ((8, "1-10"), (30, "11-50"), (60, "51-200"), (10**9, "201-500"))


@dataclass(frozen=True)
class Entry:
    """A company the directory knows: a world company, or a twin that shares a world company's brand."""

    domain: str
    name: str
    country_code: str
    company: Company  # the world company (the twin's original, for a twin)
    twin: bool = False


def name_key(name: str) -> str:
    """A name as Discover compares it: ASCII, lower case, no punctuation, no legal form."""
    words = "".join(c if c.isalnum() else " " for c in anyascii(name).lower()).split()
    return " ".join(w for w in words if w not in _LEGAL_WORDS)


class Directory:
    def __init__(self, world: World) -> None:
        self.world = world
        entries = [Entry(c.domain, c.name, c.country, c) for c in world.companies if c.kind != "unknown"]
        taken = {c.domain for c in world.companies}
        for company in world.companies:
            twin = _twin(world, company, taken)
            if twin is not None:
                taken.add(twin.domain)
                entries.append(twin)
        self.entries = tuple(entries)
        self._by_domain = {e.domain: e for e in entries}

    def entry(self, domain: str) -> Entry | None:
        return self._by_domain.get(domain)

    def named(self, name: str) -> list[Entry]:
        """Discover's organization-name filter (see the module docstring), best match first."""
        wanted = name_key(name)
        if not wanted:
            return []
        matching = [e for e in self.entries if _matches(name_key(e.name), wanted)]
        return sorted(matching, key=lambda e: (name_key(e.name) != wanted, e.domain))

    def twins(self) -> list[tuple[Entry, Entry]]:
        """(world company, twin) pairs: the ambiguous names of this world."""
        return [(self._by_domain[e.company.domain], e) for e in self.entries if e.twin]

    def company_data(self, domain: str) -> dict[str, Any] | None:
        """`/companies/find`'s `data` for `domain` (Clearbit-shaped), or None: Hunter has no company."""
        entry = self._by_domain.get(domain)
        return None if entry is None else _company_data(self.world, entry)


def _matches(key: str, wanted: str) -> bool:
    return key == wanted or key.startswith(wanted + " ")


def _twin(world: World, company: Company, taken: set[str]) -> Entry | None:
    fixed = _FIXED_TWINS.get(company.domain)
    if fixed is None:
        if company.showcase or company.kind == "unknown":
            return None
        if stable_rng("twin", world.seed, company.domain).random() >= TWIN_SHARE:
            return None
        choices = [
            t for t in _TWIN_TLDS if not company.domain.endswith(t[0]) and not company.name.endswith(t[1])
        ]
        fixed_tld, legal, country = stable_rng("twin-tld", world.seed, company.domain).choice(choices)
        base = company.domain.split(".", 1)[0]
        domain = f"{base}{fixed_tld}"
    else:
        domain, legal, country = fixed
    if domain in taken:
        domain = domain.replace(".", "-group.", 1)
        if domain in taken:
            return None
    brand = " ".join(w for w in company.name.split() if name_key(w) not in _LEGAL_WORDS and name_key(w))
    return Entry(domain, f"{brand} {legal}", country, company, twin=True)


def _company_data(world: World, entry: Entry) -> dict[str, Any]:
    rng = stable_rng("firmographics", world.seed, entry.domain)
    company = entry.company
    complete = company.showcase and not entry.twin

    def kept(value: Any) -> Any:
        """The value, or None for the share of records that miss it (never on showcase companies)."""
        return value if complete or rng.random() >= MISSING_SHARE else None

    country_name, cities, time_zone = _COUNTRIES.get(entry.country_code, _COUNTRIES["US"])
    city = rng.choice(cities)
    words = [w.lower() for w in entry.name.split()]
    sector, group, industry = next(
        (_INDUSTRIES[w] for w in words if w in _INDUSTRIES), rng.choice(_FALLBACK_INDUSTRIES)
    )
    staff = len(company.people) * (3 if entry.twin else 1)
    employees = next(label for limit, label in _SIZES if staff <= limit)
    founded = rng.randint(1952, 2021)
    slug = entry.domain.split(".", 1)[0]
    description = (
        f"{entry.name} is a {industry.lower()} company based in {city}, {country_name}, "
        f"founded in {founded}, with {employees} employees."
    )
    tech = sorted(rng.sample(_TECH, rng.randint(2, 6)))
    city_kept = kept(city)
    return {
        "id": hashlib.sha256(f"{world.seed}|{entry.domain}".encode()).hexdigest()[:24],
        "name": entry.name,
        "legalName": entry.name,
        "domain": entry.domain,
        "domainAliases": [],
        "site": {"phoneNumbers": [], "emailAddresses": sorted(company.generic_mailboxes)[:3]},
        "category": {
            "sector": sector,
            "industryGroup": group,
            "industry": industry,
            "subIndustry": None,
            "gicsCode": None,
            "sicCode": None,
            "sic4Codes": [],
            "naicsCode": None,
            "naics6Codes": [],
            "naics6Codes2022": [],
        },
        "tags": [industry],
        "description": kept(description),
        "foundedYear": kept(founded),
        "location": f"{city_kept}, {country_name}" if city_kept else country_name,
        "timeZone": time_zone,
        "utcOffset": None,
        "geo": {
            "streetNumber": None,
            "streetName": None,
            "subPremise": None,
            "streetAddress": None,
            "city": city_kept,
            "postalCode": None,
            "state": None,
            "stateCode": None,
            "country": country_name,
            "countryCode": entry.country_code,
            "lat": None,
            "lng": None,
        },
        "logo": f"https://logos.hunter.io/{entry.domain}",
        "facebook": {"handle": None, "likes": None},
        "linkedin": {"handle": kept(f"company/{slug}")},
        "twitter": {"handle": None, "id": None, "bio": None, "followers": None, "following": None},
        "crunchbase": {"handle": None},
        "emailProvider": None,
        "type": "private",
        "company_type": "privately held",
        "ticker": None,
        "identifiers": {"usEIN": None},
        "phone": None,
        "metrics": {
            "alexaUsRank": None,
            "alexaGlobalRank": None,
            "trafficRank": None,
            "employees": employees,
            "marketCap": None,
            "raised": None,
            "annualRevenue": None,
            "estimatedAnnualRevenue": None,
            "fiscalYearEnd": None,
        },
        "indexedAt": world.as_of.isoformat(),
        "tech": kept(tech) or [],
        "techCategories": [],
        "parent": {"domain": None},
        "ultimateParent": {"domain": None},
    }


_DIRECTORIES: list[tuple[World, Directory]] = []


def directory_of(world: World) -> Directory:
    """The directory of `world`, built once per world (the last few kept: worlds change with their knobs)."""
    for known, directory in _DIRECTORIES:
        if known is world:
            return directory
    directory = Directory(world)
    _DIRECTORIES.insert(0, (world, directory))
    del _DIRECTORIES[4:]
    return directory


__all__ = ["MISSING_SHARE", "TWIN_SHARE", "Directory", "Entry", "directory_of", "name_key"]

"""Which country a lead is in, and what a workspace's region rules say about it (docs/privacy.md, "Lawful
basis and region").

A workspace may refuse leads in some countries (`WorkspaceSettings.refused_countries`: the item ends
`invalid`, reason `region refused: XX`, before any paid call) or flag them (`flagged_countries`: processed,
the result record carries `region_flag: "XX"`). Seed 004 asks for region-aware processing; this is the
part a B2B enrichment service can decide on its own, from what it knows before spending anything.

Where the country comes from, and why:
- the domain's country-code TLD (`acme.de` -> DE, `acme.co.uk` -> GB): known before any call and free, so
  a refused lead costs nothing. Generic TLDs (`.com`, `.org`, `.io` as sold to start-ups) say nothing;
- the company's country as a provider reports it (`company_country`), used only when the TLD says
  nothing. Hunter's Domain Search answer has one, but `engine.providers.hunter_models.DomainSearch` does
  not carry it today and it is known only after a paid call: the check before the call uses the TLD, and a
  caller that knows a company country passes it here.
A refused country wins over a flagged one when a workspace lists it in both.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadenrich.engine.domains import DomainError, normalize_domain
from leadenrich.privacy.settings import ISO_COUNTRIES, country_code

# Two-letter TLDs that are country codes on paper but sold and used as generic names (`acme.io`,
# `acme.ai`, `acme.co`, `acme.tv`): taking them as countries would refuse or flag start-ups for the
# island their registry sits on. Also the codes that are no country: the EU, the Soviet Union's.
GENERIC_COUNTRY_CODES = frozenset(
    {"ac", "ai", "cc", "co", "eu", "fm", "gg", "io", "la", "ly", "me", "nu", "sh", "so", "su", "tk", "to",
     "tv", "ws"}
)  # fmt: skip
# TLDs that are not their country's ISO 3166-1 alpha-2 code.
TLD_COUNTRY = {"uk": "GB"}


def tld_country(domain: str) -> str | None:
    """The country a domain's TLD names (`acme.de` -> DE, `shop.acme.co.uk` -> GB); None for a generic TLD,
    a two-letter one used as generic (`GENERIC_COUNTRY_CODES`) or no longer assigned (`.an`), an IDN TLD,
    or a domain that is not one."""
    try:
        host = normalize_domain(domain)
    except DomainError:
        return None
    tld = host.rsplit(".", 1)[-1]
    if tld in TLD_COUNTRY:
        return TLD_COUNTRY[tld]
    if tld in GENERIC_COUNTRY_CODES or tld.upper() not in ISO_COUNTRIES:
        return None
    return tld.upper()


def country_of(domain: str, company_country: str | None = None) -> str | None:
    """The lead's country: its TLD's, else the company country a provider reported (when it is a valid
    code), else None (unknown: neither refused nor flagged)."""
    found = tld_country(domain)
    if found is not None or not company_country:
        return found
    try:
        return country_code(company_country.strip().upper())  # providers' case varies
    except ValueError:
        return None


@dataclass(frozen=True)
class RegionVerdict:
    """What the workspace's rules say about one lead: `refused` or `flagged` carry the country."""

    country: str | None = None
    refused: str | None = None
    flagged: str | None = None

    @property
    def reason(self) -> str | None:
        """The item's reason when refused (`region refused: DE`)."""
        return f"region refused: {self.refused}" if self.refused is not None else None


def screen(
    domain: str,
    refused_countries: tuple[str, ...] | frozenset[str],
    flagged_countries: tuple[str, ...] | frozenset[str],
    company_country: str | None = None,
) -> RegionVerdict:
    """The verdict for a lead at `domain` under a workspace's lists (codes compared upper-cased)."""
    country = country_of(domain, company_country)
    if country is None:
        return RegionVerdict()
    if country in {c.upper() for c in refused_countries}:
        return RegionVerdict(country, refused=country)
    if country in {c.upper() for c in flagged_countries}:
        return RegionVerdict(country, flagged=country)
    return RegionVerdict(country)


__all__ = [
    "GENERIC_COUNTRY_CODES",
    "TLD_COUNTRY",
    "RegionVerdict",
    "country_of",
    "screen",
    "tld_country",
]

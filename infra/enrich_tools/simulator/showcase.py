"""Five hand-written companies present in every world, whatever the seed, for the README demo and tests.

Each shows one path of the waterfall: acme-robotics.com (decision-maker in Domain Search, a stale former
CEO row, O'Brien), nordlicht-energie.de (leader only via Perplexity, known pattern f.last, Müller written
mueller), maison-dupont.fr (generic addresses only), globex-analytics.io (accept-all), brightlane.co.uk
(van der Berg, Hart-Lewis, a name collision oliver.smith2 and an opted-out co-founder).
The first and last are in showcase_indexed.py (Hunter lists their decision-makers), the other three in
showcase_fallbacks.py.
"""

from __future__ import annotations

from datetime import date

from enrich_tools.simulator.entities import Company
from enrich_tools.simulator.showcase_fallbacks import globex, maison, nordlicht
from enrich_tools.simulator.showcase_indexed import acme, brightlane

SHOWCASE_DOMAINS: tuple[str, ...] = (
    "acme-robotics.com",
    "nordlicht-energie.de",
    "maison-dupont.fr",
    "globex-analytics.io",
    "brightlane.co.uk",
)


def showcase_companies(as_of: date) -> list[Company]:
    """The fixed companies; only verification dates move with `as_of`."""
    return [acme(as_of), nordlicht(as_of), maison(as_of), globex(as_of), brightlane(as_of)]

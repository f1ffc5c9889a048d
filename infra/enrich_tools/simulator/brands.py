"""Fictional company names and domains that look like the real thing, per country.

Realism choices: TLD shares .com 50%, .co.uk 10%, .de 10%, .io 10%, .fr 8%, .nl 6%, .es 6%; names are
brand compounds ("Brightlane Analytics" -> brightlane-analytics.com or brightlane.com), family names
("Müller Bau GmbH" -> mueller-bau.de) or local words ("Atelier Soleil SAS"), with the legal form in the
company name but never in the domain, and startup-style prefixes (get-, try-, -hq) when the plain name is
taken. All words are invented combinations; any clash with a real company is accidental.
"""

from __future__ import annotations

import random

from enrich_tools.simulator.names import LAST_NAMES, Culture, Spelling, render_local


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


TLD_SHARES: dict[str, float] = {
    ".com": 0.50, ".co.uk": 0.10, ".de": 0.10, ".io": 0.10, ".fr": 0.08, ".nl": 0.06, ".es": 0.06,
}  # fmt: skip
TLD_CULTURE: dict[str, Culture] = {
    ".com": "us",
    ".co.uk": "uk",
    ".de": "de",
    ".fr": "fr",
    ".nl": "nl",
    ".es": "es",
}
TLD_COUNTRY: dict[str, str] = {
    ".com": "US",
    ".co.uk": "GB",
    ".de": "DE",
    ".fr": "FR",
    ".nl": "NL",
    ".es": "ES",
}

_WORDS: dict[str, tuple[str, ...]] = {
    "en": _words(
        "Bright North Blue Silver Clear Swift Iron Maple Cedar Harbor Summit Lumen Nova Vertex Atlas Copper "
        "Granite Willow Falcon Orbit Redoak Open True Bold Quiet Keystone Pioneer Evergreen Bluebird Sparrow "
        "Hollow Amber Beacon Crescent Driftwood Ember Fable Glacier Juniper"
    ),
    "de": _words(
        "Nordlicht Sonnen Berg Wald Stern Blau Eichen Alpen Rhein Elb Hansa Falken Lichtblick Grün Stahl "
        "Linden Morgen Weitblick Kiesel Heide"
    ),
    "fr": _words(
        "Atelier Maison Lumière Soleil Horizon Azur Étoile Rivage Bocage Clair Mistral Ardoise Pivoine Cèdre "
        "Garance"
    ),
    "nl": _words("Groen Zee Polder Tulp Molen Noord Kust Duin Oranje Helder Wind Eiland Vonk"),
    "es": _words("Sol Mar Sierra Luna Olivo Brisa Costa Norte Faro Roble Alba Cumbre Ría"),
}
_SUFFIXES = _words("lane field stone wave point ridge path works forge gate light bridge brook peak line")
_SECTORS: dict[str, tuple[str, ...]] = {
    "en": _words(
        "Analytics Labs Robotics Logistics Software Consulting Health Energy Studio Systems Media Partners "
        "Foods Design Capital Solutions Digital Data Security Biotech"
    ),
    "de": _words(
        "Energie Technik Logistik Beratung Werke Bau Software Systeme Medien Maschinenbau Solar Holzbau Druck"
    ),
    "fr": _words(
        "Conseil Solutions Études Numérique Industries Logistique Design Immobilier Énergie Ingénierie"
    ),
    "nl": _words("Techniek Advies Bouw Logistiek Software Media Installaties Energie"),
    "es": _words("Soluciones Consultores Tecnología Logística Energía Digital Ingeniería Diseño"),
}
_LEGAL: dict[str, tuple[str, ...]] = {
    "us": ("Inc.", "LLC", "", ""),
    "uk": ("Ltd", "Ltd", "LLP", ""),
    "de": ("GmbH", "GmbH", "AG", "GmbH & Co. KG"),
    "fr": ("SAS", "SARL", "SA"),
    "nl": ("B.V.", "B.V."),
    "es": ("S.L.", "S.L.", "S.A."),
}
_DOMAIN_SPELLING = Spelling(umlauts="expand", particles="join", hyphens="keep")


def draw_tld(rng: random.Random) -> str:
    return rng.choices(list(TLD_SHARES), list(TLD_SHARES.values()))[0]


def _slug(text: str) -> str:
    return render_local("{first}", text.replace(" ", "-"), "", _DOMAIN_SPELLING)


def draw_brand(rng: random.Random, tld: str, culture: Culture, taken: set[str]) -> tuple[str, str]:
    """A (company name, domain) pair whose domain is not in `taken`; adds it to `taken`."""
    language = "en" if tld in {".com", ".io", ".co.uk"} else culture
    legal_culture = "us" if tld == ".io" else culture
    for attempt in range(200):
        style = rng.random()
        if style < 0.55:
            brand = rng.choice(_WORDS[language]) + (rng.choice(_SUFFIXES) if language == "en" else "")
            sector = rng.choice(_SECTORS[language])
            if rng.random() < 0.45:
                base = f"{_slug(brand)}-{_slug(sector)}"
            elif rng.random() < 0.6:
                base = _slug(brand)
            else:
                base = _slug(brand) + _slug(sector)
            display = f"{brand} {sector}"
        elif style < 0.8:
            family = rng.choice(LAST_NAMES.get(culture, LAST_NAMES["us"]))
            sector = rng.choice(_SECTORS[language])
            display = f"{family} {sector}" if rng.random() < 0.8 else f"{family} & Partners"
            base = f"{_slug(family)}-{_slug(sector if 'Partners' not in display else 'partners')}"
        else:
            first, second = rng.sample(_WORDS[language], 2)
            display = f"{first} {second}"
            base = _slug(first + second)
        if attempt > 2:
            base = rng.choice((f"get{base}", f"{base}-hq", f"try{base}", f"{base}-group", f"{base}{attempt}"))
        domain = f"{base}{tld}"
        if domain not in taken and len(base) <= 40:
            taken.add(domain)
            legal = rng.choice(_LEGAL.get(legal_culture, ("",)))
            return (f"{display} {legal}".strip(), domain)
    raise RuntimeError("could not draw a free domain")  # pragma: no cover - 200 attempts never all collide

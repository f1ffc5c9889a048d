"""Five hand-written companies present in every world, whatever the seed, for the README demo and tests.

Each shows one path of the waterfall: acme-robotics.com (decision-maker in Domain Search, a stale former
CEO row, O'Brien), nordlicht-energie.de (leader only via Perplexity, known pattern f.last, Müller written
mueller), maison-dupont.fr (generic addresses only), globex-analytics.io (accept-all), brightlane.co.uk
(van der Berg, Hart-Lewis, a name collision oliver.smith2 and an opted-out co-founder).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from enrich_tools.simulator.entities import Company, Kind, PerplexityAnswer, Person, SearchPage
from enrich_tools.simulator.names import Spelling

SHOWCASE_DOMAINS: tuple[str, ...] = (
    "acme-robotics.com",
    "nordlicht-energie.de",
    "maison-dupont.fr",
    "globex-analytics.io",
    "brightlane.co.uk",
)

_STRIP = Spelling()


def _person(
    as_of: date,
    domain: str | None,
    name: tuple[str, str],
    position: str,
    seniority: Literal["junior", "senior", "executive"],
    department: str,
    local: str,
    *,
    dm: bool = False,
    confidence: int = 0,
    verified_days_ago: int | None = None,
    claimed: bool = False,
    left: bool = False,
    follows: bool = True,
    gender: Literal["m", "f"] = "m",
) -> Person:
    return Person(
        first_name=name[0],
        last_name=name[1],
        position=position,
        seniority=seniority,
        department=department,
        email=f"{local}@{domain}" if domain else None,
        is_decision_maker=dm,
        indexed_by_hunter=confidence > 0,
        hunter_confidence=confidence,
        hunter_verified_on=None if verified_days_ago is None else as_of - timedelta(days=verified_days_ago),
        claimed=claimed,
        left_company=left,
        gender=gender,
        follows_pattern=follows,
        findable_by_hunter=follows,
    )


def _company(
    domain: str,
    name: str,
    kind: Kind,
    country: str,
    culture: str,
    pattern: str,
    people: list[Person],
    generics: tuple[str, ...],
    answers: list[PerplexityAnswer],
    pages: list[SearchPage],
    spelling: Spelling = _STRIP,
) -> Company:
    return Company(
        domain=domain,
        name=name,
        kind=kind,
        country=country,
        culture=culture,
        pattern=pattern,
        pattern_known_to_hunter=kind in ("indexed", "dm_unindexed", "accept_all"),
        accept_all=kind == "accept_all",
        has_mx=True,
        people=tuple(people),
        generic_mailboxes=tuple(f"{g}@{domain}" for g in generics),
        transliteration=spelling,
        perplexity=tuple(answers),
        search_pages=tuple(pages),
        showcase=True,
    )


def showcase_companies(as_of: date) -> list[Company]:
    """The fixed companies; only verification dates move with `as_of`."""
    return [_acme(as_of), _nordlicht(as_of), _maison(as_of), _globex(as_of), _brightlane(as_of)]


def _acme(as_of: date) -> Company:
    d = "acme-robotics.com"
    news = f"https://www.techbizdaily.com/{as_of.year - 5}/03/acme-robotics-appoints-robert-miller"
    return _company(
        d,
        "Acme Robotics Inc.",
        "indexed",
        "US",
        "us",
        "{first}.{last}",
        [
            _person(
                as_of,
                d,
                ("Sarah", "O'Brien"),
                "CEO",
                "executive",
                "executive",
                "sarah.obrien",
                dm=True,
                confidence=97,
                verified_days_ago=5,
                gender="f",
            ),
            _person(
                as_of,
                d,
                ("Daniel", "Kim"),
                "Co-founder & CTO",
                "executive",
                "it",
                "daniel.kim",
                dm=True,
                confidence=94,
            ),
            _person(
                as_of,
                d,
                ("Megan", "Carter"),
                "VP Sales",
                "senior",
                "sales",
                "megan.carter",
                confidence=91,
                gender="f",
            ),
            _person(
                as_of,
                d,
                ("Tyler", "Brooks"),
                "Software Engineer",
                "junior",
                "it",
                "tyler.brooks",
                confidence=88,
            ),
            _person(
                as_of,
                d,
                ("Ashley", "Nguyen"),
                "Office Manager",
                "junior",
                "management",
                "ashley.nguyen",
                gender="f",
            ),
            _person(
                as_of,
                d,
                ("Robert", "Miller"),
                "Founder & CEO",
                "executive",
                "executive",
                "robert.miller",
                dm=True,
                confidence=62,
                left=True,
            ),
        ],
        ("info", "sales"),
        [
            PerplexityAnswer(
                "Sarah O'Brien", "Chief Executive Officer", f"https://{d}/about", "current", True
            ),
            PerplexityAnswer(
                "Daniel Kim",
                "Co-founder and CTO",
                "https://www.linkedin.com/in/daniel-kim-acme",
                "current",
                True,
            ),
            PerplexityAnswer("Robert Miller", "Founder & CEO", news, "former", True),
        ],
        [
            SearchPage(f"https://{d}/", "Acme Robotics – Home", "Welcome to Acme Robotics Inc."),
            SearchPage(
                f"https://{d}/about", "Acme Robotics – About", "Sarah O'Brien, CEO, leads Acme Robotics."
            ),
            SearchPage(
                "https://www.linkedin.com/in/daniel-kim-acme",
                "Daniel Kim – CTO – Acme Robotics | LinkedIn",
                "Co-founder and CTO at Acme Robotics.",
            ),
            SearchPage(
                news,
                "Acme Robotics appoints Robert Miller as CEO",
                "Robert Miller takes the helm.",
                as_of - timedelta(days=5 * 365),
            ),
        ],
    )


def _nordlicht(as_of: date) -> Company:
    d = "nordlicht-energie.de"
    return _company(
        d,
        "Nordlicht Energie GmbH",
        "dm_unindexed",
        "DE",
        "de",
        "{f}.{last}",
        [
            _person(
                as_of,
                d,
                ("Jürgen", "Müller"),
                "Geschäftsführer",
                "executive",
                "management",
                "j.mueller",
                dm=True,
            ),
            _person(
                as_of,
                d,
                ("Anna-Lena", "Weiß"),
                "Mitgründerin",
                "executive",
                "executive",
                "a.weiss",
                dm=True,
                gender="f",
            ),
            _person(
                as_of,
                d,
                ("Lena", "Schröder"),
                "Werkstudentin",
                "junior",
                "operations",
                "l.schroeder",
                confidence=90,
                verified_days_ago=12,
                gender="f",
            ),
            _person(
                as_of,
                d,
                ("Tobias", "Krüger"),
                "Vertriebsmitarbeiter",
                "junior",
                "sales",
                "t.krueger",
                confidence=87,
            ),
            _person(as_of, d, ("Jonas", "Becker"), "Softwareentwickler", "junior", "it", "j.becker"),
        ],
        ("info", "kontakt"),
        [
            PerplexityAnswer("Jürgen Müller", "Geschäftsführer", f"https://{d}/impressum", "current", True),
            PerplexityAnswer("Anna-Lena Weiss", "Co-founder", None, "current", False),
        ],
        [
            SearchPage(f"https://{d}/", "Nordlicht Energie – Startseite", "Solarenergie für den Norden."),
            SearchPage(
                f"https://{d}/impressum",
                "Nordlicht Energie – Impressum",
                "Nordlicht Energie GmbH, Geschäftsführer: Jürgen Müller.",
            ),
        ],
        Spelling(umlauts="expand"),
    )


def _maison(as_of: date) -> Company:
    d = "maison-dupont.fr"
    return _company(
        d,
        "Maison Dupont SARL",
        "generic_only",
        "FR",
        "fr",
        "{first}.{last}",
        [
            _person(
                as_of,
                None,
                ("Hélène", "de la Fontaine"),
                "Gérante",
                "executive",
                "management",
                "",
                dm=True,
                gender="f",
            ),
            _person(as_of, None, ("Jean-Pierre", "Lefèvre"), "Commercial", "junior", "sales", ""),
        ],
        ("contact", "info"),
        [
            PerplexityAnswer(
                "Hélène de la Fontaine", "Gérante", f"https://{d}/mentions-legales", "current", True
            )
        ],
        [
            SearchPage(f"https://{d}/", "Maison Dupont – Boulangerie", "Boulangerie artisanale depuis 1952."),
            SearchPage(
                f"https://{d}/mentions-legales",
                "Maison Dupont – Mentions légales",
                "Directrice de la publication : Hélène de la Fontaine, gérante.",
            ),
        ],
    )


def _globex(as_of: date) -> Company:
    d = "globex-analytics.io"
    return _company(
        d,
        "Globex Analytics Inc.",
        "accept_all",
        "US",
        "us",
        "{first}",
        [
            _person(
                as_of,
                d,
                ("Marco", "De Luca"),
                "Founder & CEO",
                "executive",
                "executive",
                "marco",
                dm=True,
                confidence=74,
                verified_days_ago=3,
            ),
            _person(
                as_of, d, ("Priya", "Sharma"), "COO", "executive", "operations", "priya", dm=True, gender="f"
            ),
            _person(as_of, d, ("Ethan", "Walker"), "Data Analyst", "junior", "it", "ethan", confidence=81),
        ],
        ("hello",),
        [
            PerplexityAnswer("Marco De Luca", "Founder and CEO", f"https://{d}/team", "current", True),
            PerplexityAnswer("Priya Sharma", "Chief Operating Officer", None, "current", False),
            PerplexityAnswer(
                "Mark Delaney", "President", f"https://{d}/team/mark-delaney", "hallucinated", False
            ),
        ],
        [
            SearchPage(f"https://{d}/", "Globex Analytics – Home", "Analytics for growing teams."),
            SearchPage(f"https://{d}/team", "Globex Analytics – Team", "Marco De Luca, Founder and CEO."),
        ],
    )


def _brightlane(as_of: date) -> Company:
    d = "brightlane.co.uk"
    return _company(
        d,
        "Brightlane Ltd",
        "indexed",
        "GB",
        "uk",
        "{first}.{last}",
        [
            _person(
                as_of,
                d,
                ("Pieter", "van der Berg"),
                "Co-founder & CEO",
                "executive",
                "executive",
                "pieter.vanderberg",
                dm=True,
                confidence=95,
                verified_days_ago=9,
            ),
            _person(
                as_of,
                d,
                ("Aoife", "O'Sullivan"),
                "Co-founder & CTO",
                "executive",
                "it",
                "aoife.osullivan",
                dm=True,
                claimed=True,
                gender="f",
            ),
            _person(
                as_of,
                d,
                ("Zoë", "Hart-Lewis"),
                "Head of Marketing",
                "senior",
                "marketing",
                "zoe.hart-lewis",
                confidence=93,
                gender="f",
            ),
            _person(
                as_of,
                d,
                ("Oliver", "Smith"),
                "Sales Representative",
                "junior",
                "sales",
                "oliver.smith",
                confidence=89,
            ),
            _person(
                as_of,
                d,
                ("Oliver", "Smith"),
                "Software Engineer",
                "junior",
                "it",
                "oliver.smith2",
                follows=False,
            ),
        ],
        ("info", "hello"),
        [
            PerplexityAnswer(
                "Pieter van der Berg", "Co-founder and CEO", f"https://{d}/about", "current", True
            ),
            PerplexityAnswer(
                "Aoife O'Sullivan",
                "Chief Technology Officer",
                "https://www.linkedin.com/in/aoife-osullivan-brightlane",
                "current",
                True,
            ),
        ],
        [
            SearchPage(f"https://{d}/", "Brightlane – Home", "Brightlane builds booking software."),
            SearchPage(
                f"https://{d}/about",
                "Brightlane – About us",
                "Founded by Pieter van der Berg (CEO) and Aoife O'Sullivan (CTO).",
            ),
            SearchPage(
                "https://www.linkedin.com/in/aoife-osullivan-brightlane",
                "Aoife O'Sullivan – CTO – Brightlane | LinkedIn",
                "Co-founder and CTO at Brightlane.",
            ),
        ],
    )

"""The showcase companies where Domain Search has no decision-maker, so the waterfall falls back:
nordlicht-energie.de (leader only via Perplexity, known pattern f.last, Müller written mueller),
maison-dupont.fr (generic addresses only) and globex-analytics.io (accept-all, a hallucinated president).
"""

from __future__ import annotations

from datetime import date

from enrich_tools.simulator.entities import Company, PerplexityAnswer, SearchPage
from enrich_tools.simulator.names import Spelling
from enrich_tools.simulator.showcase_builders import company, person


def nordlicht(as_of: date) -> Company:
    d = "nordlicht-energie.de"
    return company(
        d,
        "Nordlicht Energie GmbH",
        "dm_unindexed",
        "DE",
        "de",
        "{f}.{last}",
        [
            person(
                as_of,
                d,
                ("Jürgen", "Müller"),
                "Geschäftsführer",
                "executive",
                "management",
                "j.mueller",
                dm=True,
            ),
            person(
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
            person(
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
            person(
                as_of,
                d,
                ("Tobias", "Krüger"),
                "Vertriebsmitarbeiter",
                "junior",
                "sales",
                "t.krueger",
                confidence=87,
            ),
            person(as_of, d, ("Jonas", "Becker"), "Softwareentwickler", "junior", "it", "j.becker"),
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


def maison(as_of: date) -> Company:
    d = "maison-dupont.fr"
    return company(
        d,
        "Maison Dupont SARL",
        "generic_only",
        "FR",
        "fr",
        "{first}.{last}",
        [
            person(
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
            person(as_of, None, ("Jean-Pierre", "Lefèvre"), "Commercial", "junior", "sales", ""),
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


def globex(as_of: date) -> Company:
    d = "globex-analytics.io"
    return company(
        d,
        "Globex Analytics Inc.",
        "accept_all",
        "US",
        "us",
        "{first}",
        [
            person(
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
            person(
                as_of, d, ("Priya", "Sharma"), "COO", "executive", "operations", "priya", dm=True, gender="f"
            ),
            person(as_of, d, ("Ethan", "Walker"), "Data Analyst", "junior", "it", "ethan", confidence=81),
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

"""The showcase companies Hunter indexes, where Domain Search lists the decision-maker:
acme-robotics.com (a stale former-CEO row, O'Brien) and brightlane.co.uk (van der Berg, Hart-Lewis, a name
collision oliver.smith2 and an opted-out co-founder).
"""

from __future__ import annotations

from datetime import date, timedelta

from enrich_tools.simulator.entities import Company, PerplexityAnswer, SearchPage
from enrich_tools.simulator.showcase_builders import company, person


def acme(as_of: date) -> Company:
    d = "acme-robotics.com"
    news = f"https://www.techbizdaily.com/{as_of.year - 5}/03/acme-robotics-appoints-robert-miller"
    return company(
        d,
        "Acme Robotics Inc.",
        "indexed",
        "US",
        "us",
        "{first}.{last}",
        [
            person(
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
            person(
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
            person(
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
            person(
                as_of,
                d,
                ("Tyler", "Brooks"),
                "Software Engineer",
                "junior",
                "it",
                "tyler.brooks",
                confidence=88,
            ),
            person(
                as_of,
                d,
                ("Ashley", "Nguyen"),
                "Office Manager",
                "junior",
                "management",
                "ashley.nguyen",
                gender="f",
            ),
            person(
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


def brightlane(as_of: date) -> Company:
    d = "brightlane.co.uk"
    return company(
        d,
        "Brightlane Ltd",
        "indexed",
        "GB",
        "uk",
        "{first}.{last}",
        [
            person(
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
            person(
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
            person(
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
            person(
                as_of,
                d,
                ("Oliver", "Smith"),
                "Sales Representative",
                "junior",
                "sales",
                "oliver.smith",
                confidence=89,
            ),
            person(
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

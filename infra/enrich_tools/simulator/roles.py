"""Job titles with Hunter's seniority and department labels, per language.

Realism choices: decision-makers are the people a seller wants (CEO, founders, owner, managing director,
president, C-level); VPs and heads of department are `senior` but not decision-makers. Titles in German,
French, Dutch and Spanish companies are in the local language about half of the time (Geschäftsführerin,
Gérant, Directeur, Director General), as Hunter shows them, with the gendered form where the language has
one. Hunter's department for C-level roles follows the function (CTO -> it, CFO -> finance), so a
`department=executive` filter does not catch every decision-maker, as in reality.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

Seniority = Literal["junior", "senior", "executive"]
Language = Literal["en", "de", "fr", "nl", "es"]

DEPARTMENTS = (
    "executive", "it", "finance", "management", "sales", "legal", "support", "hr", "marketing",
    "communication", "education", "design", "health", "operations",
)  # fmt: skip
SENIORITIES: tuple[Seniority, ...] = ("junior", "senior", "executive")


@dataclass(frozen=True)
class Role:
    """One title; `title` holds "masculine|feminine" forms when the language genders it."""

    title: str
    seniority: Seniority
    department: str
    decision_maker: bool

    def for_gender(self, gender: str) -> str:
        forms = self.title.split("|")
        return forms[1] if gender == "f" and len(forms) > 1 else forms[0]


def _roles(spec: str, seniority: Seniority, decision_maker: bool) -> tuple[Role, ...]:
    """Roles written as "title:department;title:department" to keep the tables compact."""
    out = []
    for item in spec.split(";"):
        title, department = item.rsplit(":", 1)
        out.append(Role(title.strip(), seniority, department, decision_maker))
    return tuple(out)


# The person at the top of the company.
TOP_ROLES: dict[Language, tuple[Role, ...]] = {
    "en": _roles(
        "CEO:executive;Founder & CEO:executive;Co-founder & CEO:executive;Founder:executive;Owner:executive;"
        "Managing Director:management;President:executive;Chief Executive Officer:executive",
        "executive",
        True,
    ),
    "de": _roles(
        "Geschäftsführer|Geschäftsführerin:management;Gründer & CEO|Gründerin & CEO:executive;"
        "Inhaber|Inhaberin:executive;CEO:executive;"
        "Geschäftsführender Gesellschafter|Geschäftsführende Gesellschafterin:management",
        "executive",
        True,
    ),
    "fr": _roles(
        "Président|Présidente:executive;Directeur Général|Directrice Générale:management;"
        "Gérant|Gérante:management;Fondateur & CEO|Fondatrice & CEO:executive;CEO:executive;PDG:executive",
        "executive",
        True,
    ),
    "nl": _roles(
        "Directeur:management;Eigenaar:executive;Oprichter & CEO:executive;CEO:executive;"
        "Algemeen directeur:management",
        "executive",
        True,
    ),
    "es": _roles(
        "Director General|Directora General:management;Fundador & CEO|Fundadora & CEO:executive;"
        "CEO:executive;Gerente:management;Socio fundador|Socia fundadora:executive",
        "executive",
        True,
    ),
}

# Other decision-makers (co-founders, C-level, a second managing director).
OTHER_DM_ROLES: dict[Language, tuple[Role, ...]] = {
    "en": _roles(
        "Co-founder & CTO:it;CTO:it;COO:operations;CFO:finance;Chief Revenue Officer:sales;"
        "Co-founder:executive;Chief Marketing Officer:marketing",
        "executive",
        True,
    ),
    "de": _roles(
        "Geschäftsführer|Geschäftsführerin:management;CTO:it;Mitgründer|Mitgründerin:executive;CFO:finance",
        "executive",
        True,
    ),
    "fr": _roles(
        "Directeur Technique|Directrice Technique:it;Co-fondateur|Co-fondatrice:executive;"
        "Directeur Financier|Directrice Financière:finance;Directeur Général Délégué|"
        "Directrice Générale Déléguée:management",
        "executive",
        True,
    ),
    "nl": _roles("Mede-oprichter:executive;CTO:it;Financieel directeur:finance", "executive", True),
    "es": _roles(
        "Cofundador|Cofundadora:executive;Director Técnico|Directora Técnica:it;"
        "Director Financiero|Directora Financiera:finance",
        "executive",
        True,
    ),
}

SENIOR_ROLES: dict[Language, tuple[Role, ...]] = {
    "en": _roles(
        "VP Sales:sales;Head of Marketing:marketing;Head of Engineering:it;Sales Director:sales;"
        "Head of Operations:operations;Finance Manager:finance;Head of People:hr;Marketing Manager:marketing;"
        "Engineering Manager:it;Head of Customer Success:support;Legal Counsel:legal;Art Director:design",
        "senior",
        False,
    ),
    "de": _roles(
        "Vertriebsleiter|Vertriebsleiterin:sales;Leiter Marketing|Leiterin Marketing:marketing;"
        "Prokurist|Prokuristin:management;Teamleiter Entwicklung|Teamleiterin Entwicklung:it",
        "senior",
        False,
    ),
    "fr": _roles(
        "Directeur Commercial|Directrice Commerciale:sales;Responsable Marketing:marketing;"
        "Responsable Technique:it",
        "senior",
        False,
    ),
    "nl": _roles("Hoofd Verkoop:sales;Marketingmanager:marketing;Teamleider IT:it", "senior", False),
    "es": _roles(
        "Director Comercial|Directora Comercial:sales;Responsable de Marketing:marketing;Jefe de Proyecto|"
        "Jefa de Proyecto:it",
        "senior",
        False,
    ),
}

JUNIOR_ROLES: dict[Language, tuple[Role, ...]] = {
    "en": _roles(
        "Software Engineer:it;Sales Representative:sales;Account Executive:sales;Office Manager:management;"
        "Marketing Coordinator:marketing;Customer Support Specialist:support;Accountant:finance;"
        "Graphic Designer:design;HR Generalist:hr;Data Analyst:it;Communications Officer:communication;"
        "Operations Associate:operations;Business Development Representative:sales",
        "junior",
        False,
    ),
    "de": _roles(
        "Softwareentwickler|Softwareentwicklerin:it;Vertriebsmitarbeiter|Vertriebsmitarbeiterin:sales;"
        "Werkstudent|Werkstudentin:operations;Buchhalter|Buchhalterin:finance;Assistenz der Geschäftsführung:"
        "management",
        "junior",
        False,
    ),
    "fr": _roles(
        "Chargé de communication|Chargée de communication:communication;Développeur|Développeuse:it;"
        "Commercial|Commerciale:sales;Assistant administratif|Assistante administrative:management",
        "junior",
        False,
    ),
    "nl": _roles("Ontwikkelaar:it;Accountmanager:sales;Officemanager:management", "junior", False),
    "es": _roles(
        "Desarrollador|Desarrolladora:it;Ejecutivo de ventas|Ejecutiva de ventas:sales;"
        "Administrativo|Administrativa:management",
        "junior",
        False,
    ),
}

# How Perplexity tends to restate a title (it prefers English and long forms).
PERPLEXITY_TITLES: dict[str, tuple[str, ...]] = {
    "CEO": ("CEO", "Chief Executive Officer"),
    "Founder & CEO": ("Founder and CEO", "Founder & CEO", "CEO"),
    "Co-founder & CEO": ("Co-founder and CEO", "CEO"),
    "Co-founder & CTO": ("Co-founder and CTO", "Chief Technology Officer"),
    "CTO": ("CTO", "Chief Technology Officer"),
    "COO": ("COO", "Chief Operating Officer"),
    "CFO": ("CFO", "Chief Financial Officer"),
    "Geschäftsführer": ("Geschäftsführer", "Managing Director", "CEO"),
    "Geschäftsführerin": ("Geschäftsführerin", "Managing Director", "CEO"),
    "Président": ("Président", "President", "CEO"),
    "Présidente": ("Présidente", "President", "CEO"),
    "Directeur Général": ("Directeur Général", "CEO", "General Manager"),
    "Directrice Générale": ("Directrice Générale", "CEO", "General Manager"),
    "Gérant": ("Gérant", "Managing Director", "Owner"),
    "Gérante": ("Gérante", "Managing Director", "Owner"),
    "Directeur": ("Directeur", "Managing Director", "CEO"),
    "Eigenaar": ("Eigenaar", "Owner"),
    "Director General": ("Director General", "CEO", "General Manager"),
    "Directora General": ("Directora General", "CEO", "General Manager"),
}


def perplexity_title(position: str, rng: random.Random) -> str:
    options = PERPLEXITY_TITLES.get(position)
    return rng.choice(options) if options else position


def pick_role(rng: random.Random, table: dict[Language, tuple[Role, ...]], language: Language) -> Role:
    return rng.choice(table.get(language) or table["en"])

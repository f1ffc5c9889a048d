"""Who counts as a decision-maker, and in which order they are tried.

The order matters for cost: rows are verified one at a time and the first deliverable one wins, so the
person a salesperson most wants (founder, CEO, owner) must come first. Tiers are read from the job title
first, because Hunter's `seniority` is coarse ("executive" covers a Head of Sales and a CEO alike).
"""

from __future__ import annotations

import re

GENERIC_LOCAL_PARTS: frozenset[str] = frozenset(
    [
        "info",
        "contact",
        "contacts",
        "hello",
        "hi",
        "hey",
        "team",
        "office",
        "admin",
        "administrator",
        "support",
        "help",
        "helpdesk",
        "service",
        "customerservice",
        "customercare",
        "care",
        "sales",
        "marketing",
        "press",
        "media",
        "pr",
        "news",
        "newsletter",
        "billing",
        "accounts",
        "accounting",
        "finance",
        "invoices",
        "invoice",
        "hr",
        "jobs",
        "careers",
        "career",
        "recruiting",
        "recruitment",
        "talent",
        "legal",
        "privacy",
        "gdpr",
        "compliance",
        "security",
        "abuse",
        "postmaster",
        "hostmaster",
        "webmaster",
        "noreply",
        "no-reply",
        "donotreply",
        "mail",
        "email",
        "enquiries",
        "enquiry",
        "inquiries",
        "inquiry",
        "general",
        "reception",
        "partners",
        "partnerships",
        "business",
        "biz",
        "orders",
        "shop",
        "store",
        "bookings",
        "booking",
        "reservations",
        "events",
        "feedback",
        "ops",
        "operations",
        "it",
        "tech",
        "dev",
        "devops",
    ]
)

# (tier, pattern) — a lower tier is a stronger decision-maker. Matched against the lowercase title.
_TIERS: tuple[tuple[int, re.Pattern[str]], ...] = tuple(
    (tier, re.compile(pattern))
    for tier, pattern in (
        (1, r"\b(co-?)?founder\b|\bowner\b|\bproprietor\b|\bceo\b|chief executive|\bgesch[aä]ftsf[uü]hrer"),
        (1, r"(?<!vice )(?<!vice-)\bpresident\b|managing (director|partner)|\bpdg\b"),
        (1, r"directeur g[eé]n[eé]ral|\bgerente general\b|\bamministratore delegato\b"),
        (2, r"\bc[otfmir]o\b|\bchief\b|\bgeneral manager\b|\bpartner\b|\bprincipal\b|\bchair(man|woman)?\b"),
        (3, r"\b(s?vp|evp)\b|vice[- ]president|\bhead of\b|\bdirector\b|\bdirecteur\b|\bleiter\b"),
    )
)
_NOT_DECISION = re.compile(r"\b(assistant|intern|trainee|junior|associate to|to the ceo|office of)\b")

MAX_TIER = 4  # "executive" seniority with an unrecognised title
NOT_A_DECISION_MAKER = 99


def is_generic_address(email: str) -> bool:
    local = email.split("@", 1)[0].lower()
    base = re.sub(r"[\d._-]+$", "", local)
    return local in GENERIC_LOCAL_PARTS or base in GENERIC_LOCAL_PARTS


def decision_tier(position: str | None, seniority: str | None = None) -> int:
    """1 founder/CEO/owner, 2 other C-level, 3 VP/head/director, 4 executive by seniority only, 99 none."""
    title = (position or "").lower()
    if title and _NOT_DECISION.search(title):
        return NOT_A_DECISION_MAKER
    for tier, pattern in _TIERS:
        if pattern.search(title):
            return tier
    if (seniority or "").lower() == "executive":
        return MAX_TIER
    return NOT_A_DECISION_MAKER


def is_decision_maker(position: str | None, seniority: str | None = None) -> bool:
    return decision_tier(position, seniority) <= MAX_TIER

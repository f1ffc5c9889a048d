"""Candidate e-mail addresses for a person at a domain, in the order worth verifying them.

We verify one address at a time and stop at the first deliverable one, so the order is the cost.

Placeholders. Hunter's domain search returns ``pattern`` built from ``{first}``, ``{last}``, ``{f}`` (first
initial) and ``{l}`` (last initial) joined by literal separators ("." "_" "-" or none). Evidence: Hunter's
API documentation and OpenAPI descriptions show only examples such as "{first}.{last}" and "{f}{last}";
public Hunter clients and fixtures use nothing else; Tomba's format legend, which mirrors Hunter's,
lists exactly these four. No middle-name or numbered placeholder was found, so any other placeholder is
unknown and renders to None.

Permutation order (``RANKED_PATTERNS``). Vendor surveys of B2B domains (Hunter, Mailsfinder, Prospeo and
others) agree on the head of the distribution: first.last is by far the most common (roughly half of
domains and more among large companies), then first, flast, firstlast, f.last, first_last and firstl /
first.l; last-name-first forms and bare last names are rare. We put {first} second although it trails
flast in some surveys, because our targets are decision-makers, who at small companies very often own
the first-name mailbox. The rare tail is kept so that a full sweep still covers it.

Across name variants the cost of a candidate is its pattern rank plus ``VARIANT_STEP`` per variant
rank, so "jose.muller" (second spelling, top pattern) is tried before "jose_mueller" (first spelling,
sixth pattern): transliteration doubts are about as likely as the mid-list patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from leadenrich.engine.domains import DomainError, normalize_domain
from leadenrich.engine.names import NameVariant, PersonName

__all__ = [
    "PATTERN_PLACEHOLDERS",
    "RANKED_PATTERNS",
    "VARIANT_STEP",
    "Candidate",
    "infer_pattern",
    "ranked_candidates",
    "render_pattern",
]


@dataclass(frozen=True)
class Candidate:
    """One address to verify."""

    email: str
    pattern: str
    from_known_pattern: bool


PATTERN_PLACEHOLDERS: frozenset[str] = frozenset({"{first}", "{last}", "{f}", "{l}"})

RANKED_PATTERNS: tuple[str, ...] = (
    "{first}.{last}",
    "{first}",
    "{f}{last}",
    "{first}{last}",
    "{f}.{last}",
    "{first}_{last}",
    "{first}{l}",
    "{first}.{l}",
    "{last}",
    "{first}-{last}",
    "{last}.{first}",
    "{last}{f}",
    "{last}{first}",
    "{f}_{last}",
    "{last}_{first}",
    "{f}-{last}",
    "{last}.{f}",
    "{first}_{l}",
    "{l}{first}",
    "{f}{l}",
)

VARIANT_STEP = 3

_MAX_LOCAL = 64
_MAX_EMAIL = 254
_LOCAL_RE = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
_PATTERN_PIECE = re.compile(r"\{([^{}]*)\}|([a-z0-9._-]+)")


@lru_cache(maxsize=512)
def _parse_pattern(pattern: str) -> tuple[tuple[bool, str], ...] | None:
    """(is_placeholder, name-or-literal) pieces; None for anything that is not a name pattern."""
    text = pattern.strip().lower()
    pieces: list[tuple[bool, str]] = []
    position = 0
    while position < len(text):
        match = _PATTERN_PIECE.match(text, position)
        if match is None:
            return None
        if match.group(1) is not None:
            if "{" + match.group(1) + "}" not in PATTERN_PLACEHOLDERS:
                return None
            pieces.append((True, match.group(1)))
        else:
            pieces.append((False, match.group(2)))
        position = match.end()
    if not any(is_placeholder for is_placeholder, _ in pieces):
        return None
    return tuple(pieces)


def _valid_local(local: str) -> bool:
    return len(local) <= _MAX_LOCAL and _LOCAL_RE.fullmatch(local) is not None


def render_pattern(pattern: str, variant: NameVariant) -> str | None:
    """The local part for this spelling, or None if the pattern needs a missing part or is not understood."""
    if not isinstance(pattern, str):
        return None
    pieces = _parse_pattern(pattern)
    if pieces is None:
        return None
    values = {"first": variant.first, "last": variant.last, "f": variant.first[:1], "l": variant.last[:1]}
    rendered = []
    for is_placeholder, text in pieces:
        if not is_placeholder:
            rendered.append(text)
            continue
        value = values[text]
        if not value:
            return None
        rendered.append(value)
    local = "".join(rendered)
    return local if _valid_local(local) else None


def _normalize_domain(domain: str) -> str | None:
    """The host, when `domain` is a bare host; a URL or an address here is a caller's mistake."""
    if not isinstance(domain, str) or any(ch in domain for ch in "/@:"):
        return None
    try:
        return normalize_domain(domain)
    except DomainError:
        return None


def ranked_candidates(
    name: PersonName, domain: str, pattern: str | None = None, limit: int | None = None
) -> list[Candidate]:
    """Addresses to verify in order: the domain's known pattern first, then the ranked permutations."""
    if limit is not None and limit <= 0:
        return []
    host = _normalize_domain(domain)
    if host is None:
        return []
    variants = name.variants()
    result: list[Candidate] = []
    seen: set[str] = set()

    def add(local: str | None, used: str, known: bool) -> bool:
        """Append if new and valid; True once the limit is reached."""
        if local is None:
            return False
        email = f"{local}@{host}"
        if email in seen or len(email) > _MAX_EMAIL:
            return False
        seen.add(email)
        result.append(Candidate(email=email, pattern=used, from_known_pattern=known))
        return limit is not None and len(result) >= limit

    if pattern:
        known_pattern = pattern.strip()
        for variant in variants:
            if add(render_pattern(known_pattern, variant), known_pattern, True):
                return result
    ordered = sorted(
        (pattern_rank + VARIANT_STEP * variant_rank, variant_rank, pattern_rank)
        for variant_rank in range(len(variants))
        for pattern_rank in range(len(RANKED_PATTERNS))
    )
    for _, variant_rank, pattern_rank in ordered:
        permutation = RANKED_PATTERNS[pattern_rank]
        if add(render_pattern(permutation, variants[variant_rank]), permutation, False):
            return result
    return result


def infer_pattern(local_part: str, name: PersonName) -> str | None:
    """The most likely pattern in RANKED_PATTERNS that yields this verified local part for this person."""
    if not isinstance(local_part, str):
        return None
    local = local_part.strip().lower().split("@", 1)[0]
    if not local:
        return None
    for variant in name.variants():
        for permutation in RANKED_PATTERNS:
            if render_pattern(permutation, variant) == local:
                return permutation
    return None

"""Company names as compared when a lead carries a name and no domain: the legal form, case, accents and
punctuation do not tell two companies apart, the brand does.

`name_score` (0-100) is how well a name a provider answered matches the name a lead gave:
- 100: the same brand once normalised ("Acme Robotics Inc." and "ACME robotics");
- 85: one is the other with words added after it ("Acme" and "Acme Robotics Ltd"): the brand as CRM
  exports often write it, or a different company that starts alike, which is why a rival within
  `AMBIGUITY_MARGIN` makes a name ambiguous (`resolution.decide`);
- otherwise the similarity of the two normalised names (difflib's ratio, a typo costs a few points),
  at most 84, so a spelling that is only alike never outranks a brand that matches.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

# Legal forms and filler words dropped before comparing (lower case, dots removed: "s.a.r.l." is "sarl").
LEGAL_FORMS = frozenset(
    """
    inc incorporated llc llp lp ltd limited plc corp corporation co company gmbh ag kg ug mbh ohg sas sarl sa
    sasu eurl bv nv vof sl slu srl spa oy ab as asa aps pty pte kk the
    """.split()  # noqa: SIM905 - a table of words reads better than forty quoted strings
)
EXACT = 100
PREFIX = 85
FUZZY_MAX = 84

_WORD = re.compile(r"[a-z0-9]+")


def company_key(name: str) -> str:
    """A name as compared: accents folded, lower case, "&" read as "and", legal forms and punctuation
    dropped ("Müller Bau GmbH & Co. KG" -> "muller bau and")."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    folded = folded.replace("&", " and ").replace(".", "")
    words = [w for w in _WORD.findall(folded) if w not in LEGAL_FORMS]
    while words and words[-1] == "and":  # "Smith & Co." -> "smith"
        words.pop()
    return " ".join(words)


def name_score(wanted: str, found: str) -> int:
    """How well `found` matches `wanted`, 0-100 (see the module docstring)."""
    a, b = company_key(wanted), company_key(found)
    if not a or not b:
        return 0
    if a == b:
        return EXACT
    short, long = sorted((a.split(), b.split()), key=len)
    if long[: len(short)] == short:
        return PREFIX
    return min(FUZZY_MAX, round(100 * difflib.SequenceMatcher(None, a, b).ratio()))


__all__ = ["EXACT", "FUZZY_MAX", "LEGAL_FORMS", "PREFIX", "company_key", "name_score"]

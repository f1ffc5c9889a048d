"""A parsed person's name and its ASCII spellings for e-mail local parts, the likely one first.

Every spelling offered can cost a verification, so they are ranked and capped (MAX_VARIANTS) rather than
multiplied out; the package docstring lists the conventions behind the order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

from anyascii import anyascii

from leadenrich.engine.names.lexicon import (
    AMBIGUOUS,
    KOREAN_SURNAMES,
    PARTICLES,
    PLAIN_SIGNALS,
    east_asian_split,
    is_initial_text,
    key,
    leading_particles,
)

__all__ = ["MAX_VARIANTS", "NameVariant", "PersonName", "transliterations"]

MAX_VARIANTS = 8
# Words whose parts each have two spellings ("Ä-Ö-Ü"): up to this many ambiguous parts are combined
# freely; beyond it only the two consistent conventions are built, so the work per word stays bounded
# whatever untrusted text arrives (a full product would double with every part).
_MAX_AMBIGUOUS_PARTS = 3
_MAX_SPELLING_COMBINATIONS = 2**_MAX_AMBIGUOUS_PARTS


@dataclass(frozen=True)
class NameVariant:
    """One ASCII spelling of a name, ready for a local part: lowercase [a-z0-9] plus '-' inside tokens."""

    first: str
    last: str
    middle: str = ""


@dataclass(frozen=True)
class PersonName:
    """A person's name in display form; ``variants`` turns it into local-part material."""

    given: str
    family: str
    middles: tuple[str, ...] = ()
    family_first: bool = False  # native order puts the family name first (Vietnamese, CJK)

    @property
    def full(self) -> str:
        if self.family_first:
            joined = self.family + self.given
            if not self.middles and east_asian_split(joined) == (self.family, self.given):
                return joined
            return " ".join(x for x in (self.family, *self.middles, self.given) if x)
        return " ".join(x for x in (self.given, *self.middles, self.family) if x)

    def variants(self) -> list[NameVariant]:
        """Most likely spelling first, deduplicated, at most MAX_VARIANTS."""
        return list(_compute_variants(self))


# --------------------------------------------------------------------------------------------------
# Transliteration
# --------------------------------------------------------------------------------------------------

_NON_ASCII_ALNUM = re.compile(r"[^a-z0-9]")
_GREEK_DIPHTHONG = re.compile(r"([αεη])[υύ](?=([θκξπστφχψ])?)")


def _ascii_only(text: str) -> str:
    return _NON_ASCII_ALNUM.sub("", text.lower())


def _greek_digraphs(text: str) -> str:
    """Conventional Greek name romanisation where anyascii goes letter by letter (ου → ou, ευ → ev)."""
    text = re.sub("ο[υύ]", "ou", text).replace("γγ", "ng")

    def diphthong(match: re.Match[str]) -> str:
        vowel = {"α": "a", "ε": "e", "η": "i"}[match.group(1)]
        return vowel + ("f" if match.group(2) else "v")

    return _GREEK_DIPHTHONG.sub(diphthong, text)


def _char_ascii(char: str) -> str:
    if char.isascii():
        return char if char.isalnum() else ""
    if unicodedata.category(char)[0] == "M":
        return ""
    base = "".join(c for c in unicodedata.normalize("NFD", char) if unicodedata.category(c)[0] != "M")
    if base.isascii():
        return base
    return anyascii(char)


def _cyrillic_alternate(spelling: str) -> str:
    """The other common spelling of Russian endings: Dmitriy/Dmitry, Andrey/Andrei."""
    if spelling.endswith("iy"):
        return spelling[:-2] + "y"
    if spelling.endswith(("ey", "ay", "oy")):
        return spelling[:-1] + "i"
    return spelling


@lru_cache(maxsize=8192)
def _spellings(part: str, plain_first: bool) -> tuple[tuple[str, int | None], ...]:
    """ASCII spellings of one hyphen-free word: (text, mode); mode 0 preferred, 1 alternate, None sole."""
    text = unicodedata.normalize("NFC", part).casefold()
    if text in KOREAN_SURNAMES:
        conventional, raw = KOREAN_SURNAMES[text], _ascii_only(anyascii(text))
        return ((conventional, 0), (raw, 1)) if raw and raw != conventional else ((conventional, None),)
    if any("GREEK" in unicodedata.name(c, "") for c in text):
        text = _greek_digraphs(text)
    primary: list[str] = []
    alternate: list[str] = []
    ambiguous = False
    for char in text:
        pair = AMBIGUOUS.get(char)
        if pair is None:
            spelled = _char_ascii(char)
            primary.append(spelled)
            alternate.append(spelled)
            continue
        plain, digraph = pair
        preferred, other = (plain, digraph) if plain_first else (digraph, plain)
        primary.append(preferred)
        alternate.append(other)
        ambiguous = True
    first, second = _ascii_only("".join(primary)), _ascii_only("".join(alternate))
    if not ambiguous and any("CYRILLIC" in unicodedata.name(c, "") for c in text):
        second = _cyrillic_alternate(first)
    if not first:
        return ((second, None),) if second else ()
    if second and second != first:
        return ((first, 0), (second, 1))
    return ((first, None),)


def _prefers_plain(text: str) -> bool:
    folded = text.casefold()
    if any(c in PLAIN_SIGNALS for c in folded):
        return True
    return any(word.endswith("nen") for word in re.split(r"[\s\-']+", folded))


def transliterations(token: str) -> list[str]:
    """ASCII spellings of one token, most likely first (hyphens kept, apostrophes and dots dropped)."""
    if not isinstance(token, str):
        return []
    plain_first = _prefers_plain(token)
    parts = [p for p in re.split(r"[\s-]+", token) if p]
    options = [_spellings(p, plain_first) for p in parts]
    options = [o for o in options if o]
    if not options:
        return []
    result: list[str] = []
    for mode in (0, 1):
        chosen = [next((t for t, m in opts if m in (mode, None)), opts[0][0]) for opts in options]
        spelled = "-".join(chosen)
        if spelled not in result:
            result.append(spelled)
    return result


# --------------------------------------------------------------------------------------------------
# Variants: a person's spellings, ranked
# --------------------------------------------------------------------------------------------------

_Spelling = tuple[str, int | None]


def _spelling_combinations(options: Sequence[Sequence[_Spelling]]) -> list[tuple[_Spelling, ...]]:
    """Spellings of a word's parts to put together, at most _MAX_SPELLING_COMBINATIONS of them.

    Every mix while at most _MAX_AMBIGUOUS_PARTS parts have two spellings; beyond that only the two
    consistent ones (all preferred, all alternate), since mixes rank last anyway.
    """
    if any(not o for o in options):
        return []
    if sum(1 for o in options if len(o) > 1) <= _MAX_AMBIGUOUS_PARTS:
        return list(product(*options))
    combos: list[tuple[_Spelling, ...]] = []
    for mode in (0, 1):
        combo = tuple(next((s for s in o if s[1] in (mode, None)), o[0]) for o in options)
        if combo not in combos:
            combos.append(combo)
    return combos


@dataclass(frozen=True)
class _Form:
    rank: int
    text: str
    modes: frozenset[int]


def _sorted_unique(forms: Iterable[_Form]) -> list[_Form]:
    seen: set[str] = set()
    result: list[_Form] = []
    for form in sorted(forms, key=lambda f: f.rank):  # stable: generation order breaks ties
        if form.text and form.text not in seen:
            seen.add(form.text)
            result.append(form)
    return result


def _word_forms(
    parts: Sequence[str], plain_first: bool, spaced: bool = False, joined_only: bool = False
) -> list[_Form]:
    """Spellings of a word made of parts: hyphenated (kept, joined, first part) or spaced (joined first)."""
    kept = [(p, _spellings(p, plain_first)) for p in parts if p]
    kept = [(p, s) for p, s in kept if s]
    if not kept:
        return []
    spelled_parts = [s for _, s in kept]
    lead_is_particle = len(kept) > 1 and key(kept[0][0]) in PARTICLES
    forms: list[_Form] = []
    for combo in _spelling_combinations(spelled_parts):
        texts = [t for t, _ in combo]
        modes = frozenset(m for _, m in combo if m is not None)
        base = (1 if 1 in modes else 0) + (2 if len(modes) > 1 else 0)
        if len(texts) == 1 or joined_only:
            forms.append(_Form(base, "".join(texts), modes))
            continue
        head = "".join(texts[1:]) if lead_is_particle else texts[0]
        hyphenated, joined = "-".join(texts), "".join(texts)
        ordered = (joined, head, hyphenated) if spaced else (hyphenated, joined, head)
        forms.extend(_Form(base + i, text, modes) for i, text in enumerate(ordered))
    return _sorted_unique(forms)


def _family_forms(family: str, plain_first: bool) -> list[_Form]:
    words = family.split()
    n_particles = leading_particles([key(w) for w in words])
    particles, core = words[:n_particles], words[n_particles:]
    if len(core) == 1:
        core_forms = _word_forms(core[0].split("-"), plain_first)
    else:
        core_forms = _word_forms([p for w in core for p in w.split("-")], plain_first, spaced=True)
    tail: list[_Form] = []
    inner = next((i for i in range(1, len(core) - 1) if key(core[i]) in PARTICLES), None)
    if inner is not None:
        # "bin Rashid Al Maktoum": the trailing particle group is the family name in daily use.
        tail = [
            _Form(f.rank + 1, f.text, f.modes) for f in _family_forms(" ".join(core[inner:]), plain_first)
        ]
    if not particles:
        return _sorted_unique(core_forms + tail)
    prefix = "".join(s[0][0] for s in (_spellings(p, plain_first) for p in particles) if s)
    joined = [_Form(f.rank, prefix + f.text, f.modes) for f in core_forms]
    bare = [_Form(f.rank + 1, f.text, f.modes) for f in core_forms]
    return _sorted_unique(joined + bare + tail)


def _initials(words: Iterable[str], plain_first: bool) -> str:
    letters = []
    for word in words:
        spelled = _spellings(word.split("-")[0], plain_first)
        if spelled and spelled[0][0]:
            letters.append(spelled[0][0][0])
    return "".join(letters)


def _given_name_forms(given: str, plain_first: bool) -> list[_Form]:
    """A compound given name ("María del Carmen") goes by its first word; joined it is the next guess."""
    words = given.split()
    if not words:
        return []
    head = _word_forms(words[0].split("-"), plain_first)
    if len(words) == 1:
        return head
    worst = max((f.rank for f in head), default=0)
    joined = _word_forms([p for w in words for p in w.split("-")], plain_first, joined_only=True)
    return _sorted_unique(head + [_Form(f.rank + worst + 1, f.text, f.modes) for f in joined])


def _given_forms(person: PersonName, plain_first: bool) -> list[tuple[_Form, str]]:
    given_forms = _given_name_forms(person.given, plain_first)
    middles = person.middles
    if is_initial_text(person.given, False) and middles and not is_initial_text(middles[0], False):
        # "J. Robert Oppenheimer" goes by Robert; the initial is the second guess.
        goes_by = _word_forms(middles[0].split("-"), plain_first)
        rest = _initials(middles[1:], plain_first)
        worst = max((f.rank for f in goes_by), default=0)
        return [(f, rest) for f in goes_by] + [
            (_Form(f.rank + worst + 1, f.text, f.modes), _initials(middles, plain_first)) for f in given_forms
        ]
    middle = _initials(middles, plain_first)
    return [(f, middle) for f in given_forms]


@lru_cache(maxsize=4096)
def _compute_variants(person: PersonName) -> tuple[NameVariant, ...]:
    plain_first = _prefers_plain(" ".join((person.given, *person.middles, person.family)))
    firsts = _given_forms(person, plain_first)
    if person.family.strip():
        lasts = _family_forms(person.family, plain_first)
    else:
        lasts = [_Form(0, "", frozenset())]
    scored: list[tuple[tuple[int, int, int, int], NameVariant]] = []
    for i, (first_form, middle) in enumerate(firsts):
        for j, last_form in enumerate(lasts):
            mixed = len(first_form.modes | last_form.modes) > 1
            rank = first_form.rank + last_form.rank + (2 if mixed else 0)
            scored.append(
                ((rank, first_form.rank, i, j), NameVariant(first_form.text, last_form.text, middle))
            )
    scored.sort(key=lambda item: item[0])
    result: list[NameVariant] = []
    seen: set[tuple[str, str]] = set()
    for _, variant in scored:
        if (variant.first, variant.last) in seen:
            continue
        seen.add((variant.first, variant.last))
        result.append(variant)
        if len(result) == MAX_VARIANTS:
            break
    return tuple(result)

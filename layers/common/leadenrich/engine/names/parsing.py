"""A person's name from an LLM answer or a CSV row, or None when the text is not one person's name.

Every address guessed from a name costs a verification, so this refuses text that is not a name (an LLM
will happily answer "Not available", "Board of Directors" or a sentence) and decides which word is the
given and which the family name; the package docstring lists the conventions it follows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from anyascii import anyascii

from leadenrich.engine.names.lexicon import (
    COMPANY_WEAK,
    GIVEN_COMPLEMENTS,
    GIVEN_LINKS,
    HONORIFICS,
    JUNK_WORDS,
    PARTICLES,
    ROLE_WORDS,
    SUFFIXES,
    VN_MAJOR_SURNAMES,
    VN_MARKS,
    VN_MIDDLES,
    VN_SURNAMES,
    east_asian_split,
    is_east_asian,
    is_initial_text,
    key,
    leading_particles,
)
from leadenrich.engine.names.spellings import PersonName

__all__ = ["parse_person_name", "person_from_parts"]

_MAX_INPUT_CHARS = 300
_MAX_NAME_TOKENS = 5  # tokens that are not particles
_MAX_TOKENS = 8

# --------------------------------------------------------------------------------------------------
# Cleaning and tokenising
# --------------------------------------------------------------------------------------------------

_APOSTROPHES = str.maketrans(dict.fromkeys("’‘ʼ`´′＇", "'"))
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−﹘﹣－", "-"))
_QUOTES = str.maketrans(dict.fromkeys("“”„‟«»〝〞＂", '"'))
_CITATION = re.compile(r"\[\d{1,3}\]")
_PARENTHESISED = re.compile(r"\([^()]*\)")
_DOUBLE_QUOTED = re.compile(r'"[^"]*"')
_MAJOR_SEPARATOR = re.compile(r"\s*[;|]\s*|\s+-+\s*|\s*-+\s+")
_PUNCTUATION_OK = frozenset("-'.,;| ")


@dataclass(frozen=True)
class _Token:
    text: str  # display text without trailing dot
    key: str  # for word-list look-ups
    dotted: bool = False

    @property
    def is_initial(self) -> bool:
        return is_initial_text(self.text, self.dotted)


def _is_name_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM" or char in "-'"


def _clean(text: str) -> str | None:
    """Normalise one free-text field; None when it holds characters no name has."""
    if len(text) > _MAX_INPUT_CHARS:
        return None
    normalised = unicodedata.normalize("NFKC", text)
    chars = []
    for char in normalised:
        if char.isspace():
            chars.append(" ")
        elif unicodedata.category(char) != "Cf":  # zero-width joiners, BOMs, bidi marks
            chars.append(char)
    cleaned = "".join(chars).translate(_APOSTROPHES).translate(_DASHES).translate(_QUOTES)
    cleaned = _CITATION.sub("", cleaned.replace("*", ""))
    previous = None
    while previous != cleaned:
        previous = cleaned
        cleaned = _PARENTHESISED.sub(" ", cleaned)
    cleaned = _DOUBLE_QUOTED.sub(" ", cleaned)
    for char in cleaned:
        if char not in _PUNCTUATION_OK and unicodedata.category(char)[0] not in "LM":
            return None
    cleaned = " ".join(cleaned.split()).strip(" ,;|-.")
    return cleaned or None


def _is_one_case(text: str) -> bool:
    cased = [c for c in text if c.isalpha() and c.upper() != c.lower()]
    return bool(cased) and (all(c.isupper() for c in cased) or all(c.islower() for c in cased))


def _tokenize(text: str) -> list[_Token] | None:
    """Whitespace words split into tokens; None when a word cannot be part of a name."""
    tokens: list[_Token] = []
    for chunk in text.split():
        if chunk.casefold() == "'t":
            tokens.append(_Token(chunk, "'t"))
            continue
        if len(chunk) > 2 and chunk.startswith("'") and chunk.endswith("'"):
            continue  # 'Bill' as a nickname
        chunk = chunk.strip("-'")
        if not chunk.strip("."):
            continue
        whole_key = key(chunk)
        if whole_key in HONORIFICS or whole_key in SUFFIXES:
            tokens.append(_Token(chunk.rstrip("."), whole_key, chunk.endswith(".")))
            continue
        pieces = re.split(r"(?<=\.)(?=[^.])", chunk)
        if len(pieces) > 1:
            for head in pieces[:-1]:
                core = head.strip(".")
                if not (len(core) == 1 or key(core) in HONORIFICS or key(core) in {"st", "ste"}):
                    return None  # "www.acme.com", "Jane.Doe"
        for piece in pieces:
            core = re.sub(r"-{2,}", "-", piece.strip(".")).strip("-'")
            if not core:
                continue
            if "." in core or not all(_is_name_char(c) for c in core):
                return None
            if not any(unicodedata.category(c)[0] == "L" for c in core):
                return None
            tokens.append(_Token(core, key(core), piece.endswith(".")))
    return tokens


@dataclass
class _Segment:
    kind: str  # "name", "junk" or "empty"
    tokens: list[_Token]
    had_honorific: bool = False


def _strip_edges(tokens: list[_Token]) -> tuple[list[_Token], bool]:
    """Drop role words at either end, honorifics in front and suffixes behind."""
    had_honorific = False
    while tokens:
        if tokens[-1].key in ROLE_WORDS:
            tokens = tokens[:-1]
        elif tokens[0].key in ROLE_WORDS:
            tokens = tokens[1:]
        elif len(tokens) > 1 and _is_leading_honorific(tokens):
            tokens = tokens[1:]
            had_honorific = True
        elif len(tokens) > 1 and tokens[-1].key in SUFFIXES:
            tokens = tokens[:-1]
        else:
            break
    return tokens, had_honorific


def _is_leading_honorific(tokens: Sequence[_Token]) -> bool:
    first = tokens[0]
    if first.key in HONORIFICS:
        return True
    # French "M." (Monsieur) versus an initial: only with a dot and two full words after it, the first not a
    # particle ("M. te Ah" is the initial M. of Mr te Ah, as this module itself displays "Te Ah, M").
    second = tokens[1] if len(tokens) >= 3 else None
    return (
        first.text == "M"
        and first.dotted
        and second is not None
        and not second.is_initial
        and second.key not in PARTICLES
    )


def _classify(text: str) -> _Segment:
    tokens = _tokenize(text)
    if tokens is None:
        return _Segment("junk", [])
    if all(t.key in HONORIFICS or t.key in SUFFIXES for t in tokens):
        return _Segment("empty", [])
    tokens, had_honorific = _strip_edges(tokens)
    if not tokens or all(t.key in HONORIFICS or t.key in SUFFIXES for t in tokens):
        return _Segment("junk", [])  # nothing but a role and a title: "CEO", "Dr. CCO"
    if any(t.key in JUNK_WORDS for t in tokens):
        return _Segment("junk", [])
    last = tokens[-1]
    if last.key in COMPANY_WEAK and (last.dotted or last.text.isupper()):
        return _Segment("junk", [])
    if len(tokens) > _MAX_TOKENS or _core_count(tokens) > _MAX_NAME_TOKENS:
        return _Segment("junk", [])
    return _Segment("name", tokens, had_honorific)


def _core_count(tokens: Sequence[_Token]) -> int:
    return sum(1 for t in tokens if t.key not in PARTICLES)


# --------------------------------------------------------------------------------------------------
# Structure: which token is the given name, which the family name
# --------------------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return re.sub(r"[^a-z]", "", anyascii(text).lower())


def _has_vietnamese_letters(text: str) -> bool:
    for char in text.casefold():
        if char == "đ":
            return True
        marks = unicodedata.normalize("NFD", char)[1:]
        if any(m in VN_MARKS for m in marks) or "\u0302" in marks:  # circumflex: â ê ô
            return True
        if char in "ĩũ":
            return True
    return False


def _is_vietnamese_order(tokens: Sequence[_Token]) -> bool:
    if len(tokens) < 2:
        return False
    first, last = _fold(tokens[0].text), _fold(tokens[-1].text)
    if first not in VN_SURNAMES:
        return False
    vietnamese = any(_has_vietnamese_letters(t.text) for t in tokens) or (
        len(tokens) >= 3 and _fold(tokens[1].text) in VN_MIDDLES
    )
    if last in VN_SURNAMES:
        # Many given names are surnames too (Mai, Lâm, Hà, Lương): a Vietnamese name is still written
        # family-first, "Nguyễn Thị Mai", unless a minor surname precedes a major one, "Mai Nguyễn".
        return vietnamese and not (last in VN_MAJOR_SURNAMES and first not in VN_MAJOR_SURNAMES)
    return vietnamese


@dataclass
class _Parts:
    given: _Token
    middles: list[_Token]
    family: list[_Token]
    family_first: bool = False
    given_rest: list[_Token] = field(default_factory=list)  # "del Carmen" of "María del Carmen"


def _given_length(tokens: Sequence[_Token], whole: bool = False) -> int:
    """How many leading tokens form the given name: 1, or 3-4 for "María del Carmen", "José de Jesús".

    In a run of words the devotional phrase must be followed by another word ("María del Carmen" alone
    is María of the del Carmen family); ``whole`` drops that need where the tokens are known to be given
    names (a first-name cell, the part after the comma of "Ruiz, María del Carmen").
    """
    if not tokens or tokens[0].is_initial or tokens[0].key in PARTICLES:
        return 1
    for link in GIVEN_LINKS:
        end = 1 + len(link)
        if end >= len(tokens) or tuple(t.key for t in tokens[1:end]) != link:
            continue
        if tokens[end].key not in GIVEN_COMPLEMENTS:
            continue
        if whole or any(t.key not in PARTICLES for t in tokens[end + 1 :]):
            return end + 1
    return 1


def _east_asian_parts(tokens: Sequence[_Token]) -> _Parts | None:
    if len(tokens) > 1:
        rest = "".join(t.text for t in tokens[1:])
        return _Parts(_Token(rest, key(rest)), [], [tokens[0]], family_first=True)
    split = east_asian_split(tokens[0].text)
    if split is None:
        return None
    family, given = split
    return _Parts(_Token(given, key(given)), [], [_Token(family, key(family))], family_first=True)


def _sequence_parts(tokens: Sequence[_Token]) -> _Parts:
    """Structure of a name written in one run (no comma)."""
    if all(is_east_asian(t.text) for t in tokens):
        parts = _east_asian_parts(tokens)
        if parts is not None:
            return parts
    if len(tokens) == 1:
        return _Parts(tokens[0], [], [])
    if _is_vietnamese_order(tokens):
        return _Parts(tokens[-1], list(tokens[1:-1]), [tokens[0]], family_first=True)
    given_end = _given_length(tokens)
    start = len(tokens) - 1
    for index in range(given_end, len(tokens) - 1):
        if tokens[index].key in PARTICLES:
            start = index
            break
    return _Parts(
        tokens[0], list(tokens[given_end:start]), list(tokens[start:]), False, list(tokens[1:given_end])
    )


def _title(word: str) -> str:
    pieces = re.split(r"([-'])", word)
    titled = "".join(p if p in ("-", "'") else p[:1].upper() + p[1:].lower() for p in pieces)
    if len(titled) > 2 and titled.startswith("Mc") and titled[2].isalpha():
        titled = "Mc" + titled[2].upper() + titled[3:]
    return titled


def _display(token: _Token, one_case: bool, particle: bool = False) -> str:
    if token.is_initial:
        return token.text.upper() + "."
    if not one_case:
        return token.text
    return token.text.lower() if particle else _title(token.text)


def _finish(parts: _Parts) -> PersonName | None:
    tokens = (parts.given, *parts.given_rest, *parts.middles, *parts.family)
    if all(t.is_initial for t in tokens):
        return None  # "J." or "J. R.": nothing to build an address from
    # Judge the case on the name's words: not on a stripped "DR." or "CEO", nor on initials (always upper).
    one_case = _is_one_case(" ".join(t.text for t in tokens if not t.is_initial))
    n_particles = leading_particles([t.key for t in parts.family])
    family = " ".join(_display(t, one_case, i < n_particles) for i, t in enumerate(parts.family))
    rest = (_display(t, one_case, t.key in PARTICLES) for t in parts.given_rest)  # "del Carmen"
    given = " ".join((_display(parts.given, one_case), *rest))
    person = PersonName(
        given=given,
        family=family,
        middles=tuple(_display(t, one_case) for t in parts.middles),
        family_first=parts.family_first,
    )
    return person if person.variants() else None


def _comma_parts(family: Sequence[_Token], given: Sequence[_Token]) -> _Parts | None:
    """Read "Last, First" when the first segment is one surname behind optional particles, else None.

    Trailing particles of the given side belong to the family name ("Berg, Jan van der").
    """
    *leading, core = family
    if core.is_initial or core.key in PARTICLES or any(t.key not in PARTICLES for t in leading):
        return None
    given_side = list(given)
    # Same honorific rule as for a name in one run, where "M." counts the family name as a following word.
    while given_side and (given_side[0].key in HONORIFICS or _is_leading_honorific([*given_side, core])):
        given_side.pop(0)
    if not given_side:
        return None
    trailing: list[_Token] = []
    while len(given_side) > 1 and given_side[-1].key in PARTICLES:
        trailing.insert(0, given_side.pop())
    given_end = _given_length(given_side, whole=True)
    if len(given_side) - given_end > 3 or any(t.key in PARTICLES for t in given_side[given_end:]):
        return None
    sequence = [*given_side, *trailing, *leading, core]
    if all(is_east_asian(t.text) for t in sequence):
        given_text = "".join(t.text for t in given_side)
        return _Parts(_Token(given_text, key(given_text)), [], [*leading, core], family_first=True)
    if _is_vietnamese_order(sequence):
        # Its display form would read family-first; store it that way so a re-parse agrees.
        return _Parts(sequence[-1], sequence[1:-1], [sequence[0]], family_first=True)
    return _Parts(
        given_side[0], given_side[given_end:], [*trailing, *leading, core], False, given_side[1:given_end]
    )


def _parse_segment(segment: str) -> PersonName | None:
    segments = [_classify(m) for m in (x.strip() for x in segment.split(",")) if m]
    names = [s for s in segments if s.kind == "name"]
    if not names:
        return None
    head = names[0]
    comma_parts = _comma_parts(head.tokens, names[1].tokens) if len(names) >= 2 else None
    if comma_parts is not None:
        parts = comma_parts
        had_honorific = head.had_honorific or names[1].had_honorific
    else:
        parts = _sequence_parts(head.tokens)
        had_honorific = head.had_honorific
    if had_honorific and not parts.family:
        return None  # "Mr. Smith": a bare surname
    return _finish(parts)


def parse_person_name(text: str) -> PersonName | None:
    """A person's name from free text (an LLM answer), or None when the text is not one person's name."""
    if not isinstance(text, str):
        return None
    cleaned = _clean(text)
    if cleaned is None:
        return None
    fallback: PersonName | None = None
    for segment in _MAJOR_SEPARATOR.split(cleaned):
        if not segment.strip():
            continue
        person = _parse_segment(segment)
        if person is None:
            continue
        if person.family:
            return person
        fallback = fallback or person
    return fallback


_PLACEHOLDER_FIELD = re.compile(r"[\s\-_.?/*]*|n\s*/?\s*a|none|null|nil|unknown|not available|-+", re.I)


def _field(value: str | None) -> tuple[str, _Segment | None]:
    """("missing" | "bad" | "ok", segment) for one CSV cell."""
    if not isinstance(value, str) or _PLACEHOLDER_FIELD.fullmatch(value.strip()):
        return "missing", None
    cleaned = _clean(value)
    if cleaned is None:
        return "bad", None
    segment = _classify(cleaned.replace(",", " "))
    if segment.kind == "junk":
        return "bad", None
    if segment.kind == "empty":
        return "missing", None
    return "ok", segment


def person_from_parts(first: str | None, last: str | None) -> PersonName | None:
    """A person from CSV first_name/last_name cells; a single filled cell is parsed as a whole name."""
    first_status, first_segment = _field(first)
    last_status, last_segment = _field(last)
    if "bad" in (first_status, last_status):
        return None
    if first_segment is None or last_segment is None:
        if first_segment is not None and isinstance(first, str):
            return parse_person_name(first)
        if last_segment is not None and isinstance(last, str):
            return parse_person_name(last)
        return None
    given_tokens, family_tokens = list(first_segment.tokens), list(last_segment.tokens)
    tail = [t.key for t in given_tokens[-len(family_tokens) :]]
    if len(given_tokens) > len(family_tokens) and tail == [t.key for t in family_tokens]:
        given_tokens = given_tokens[: -len(family_tokens)]  # "John Smith" / "Smith"
    if all(is_east_asian(t.text) for t in given_tokens + family_tokens):
        given = "".join(t.text for t in given_tokens)
        family = "".join(t.text for t in family_tokens)
        parts = _Parts(_Token(given, key(given)), [], [_Token(family, key(family))], family_first=True)
    else:
        given_end = _given_length(given_tokens, whole=True)
        parts = _Parts(
            given_tokens[0], given_tokens[given_end:], family_tokens, False, given_tokens[1:given_end]
        )
    return _finish(parts)

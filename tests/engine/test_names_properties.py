"""Properties of name parsing that must hold for any input, checked with generated text."""

from __future__ import annotations

import re

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from leadenrich.engine.names import (
    MAX_VARIANTS,
    PersonName,
    parse_person_name,
    person_from_parts,
    transliterations,
)

TOKEN = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")

# Every code point, lone surrogates included.
any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=80)

# Fragments that reach the deeper branches: honorifics, particles, suffixes, roles, punctuation.
FRAGMENTS = [
    "Dr.", "Mr", "Prof.", "M.", "Jr.", "PhD", "III", "van", "der", "de", "la", "bin", "al-", "'t", "CEO",
    "Founder", "Inc", "GmbH", "AG", "the", "and", "Unknown", "J.", "R.", "Jean-Luc", "O'Brien", "Müller",
    "Søren", "Łukasz", "Nguyễn", "Văn", "王", "伟", "김", "Дмитрий", "Γιώργος", ",", ", ", " - ", "(", ")",
    "[1]", '"', "'", "’", "–", ".", "-", "  ", "|", ";", "McDonald", "SMITH", "jane", "Doe", "Ann", "Lê",
    "del", "Carmen", "de los", "Ángeles", "Mai", "Thị", "Lâm", "Ä-Ö-Ü-Ø",
]  # fmt: skip
name_like_text = st.lists(st.sampled_from(FRAGMENTS), max_size=8).map(" ".join) | st.lists(
    st.sampled_from(FRAGMENTS), max_size=8
).map("".join)

# Realistic Latin names with diacritics. Every word's first vowel is accented, so no generated word can
# be an English keyword ("The", "Dame", "Inc") that is rightly refused.
ACCENTED_VOWELS = "áàâäãåéèêëíìîïóòôöõøúùûüýÿ"
PLAIN_VOWELS = "aeiouy"
CONSONANTS = "bcdfghjklmnprstvwzçñłśźżčšžřđß"
syllable_head = st.builds(lambda c, v: c + v, st.sampled_from(CONSONANTS), st.sampled_from(ACCENTED_VOWELS))
syllable = st.builds(
    lambda c, v: c + v, st.sampled_from(CONSONANTS), st.sampled_from(PLAIN_VOWELS + ACCENTED_VOWELS)
)
word = st.builds(
    lambda head, rest: (head + "".join(rest)).capitalize(), syllable_head, st.lists(syllable, max_size=3)
)
hyphenated = st.one_of(word, st.builds(lambda a, b: f"{a}-{b}", word, word))
particle = st.sampled_from(["", "van ", "van der ", "von ", "de ", "de la ", "da ", "del ", "bin "])
initial = st.sampled_from("ABCDEFGHJKLMNOPRSTVW").map(lambda c: c + ".")
realistic_name = st.builds(
    lambda given_name, middles, part, family: " ".join([given_name, *middles, part + family]),
    hyphenated,
    st.lists(st.one_of(word, initial), max_size=2),
    particle,
    hyphenated,
)
cased = st.sampled_from([str, str.upper, str.lower])


def check_variants(person: PersonName) -> None:
    variants = person.variants()
    assert variants, person
    assert len(variants) <= MAX_VARIANTS
    assert len({(v.first, v.last) for v in variants}) == len(variants)
    for variant in variants:
        assert TOKEN.fullmatch(variant.first), variant
        if person.family:
            assert TOKEN.fullmatch(variant.last), variant
        else:
            assert variant.last == ""
        assert re.fullmatch(r"[a-z0-9]*", variant.middle), variant


@settings(max_examples=400)
@given(st.one_of(any_text, name_like_text))
def test_parse_never_raises_and_persons_have_clean_variants(text: str) -> None:
    person = parse_person_name(text)
    if person is not None:
        check_variants(person)


@settings(max_examples=300)
@given(st.one_of(any_text, name_like_text), st.one_of(st.none(), any_text, name_like_text))
def test_person_from_parts_never_raises(first: str, last: str | None) -> None:
    person = person_from_parts(first, last)
    if person is not None:
        check_variants(person)


@settings(max_examples=300)
@given(st.one_of(any_text, name_like_text))
@example("TE AH,M")  # displayed "M. te Ah", once read back as Monsieur te Ah
def test_parsing_the_display_form_again_is_stable(text: str) -> None:
    person = parse_person_name(text)
    if person is None:
        return
    again = parse_person_name(person.full)
    assert again is not None, person
    assert (again.given, again.family) == (person.given, person.family)


@settings(max_examples=400)
@given(realistic_name, cased)
def test_realistic_latin_names_always_parse(name: str, case: object) -> None:
    text = case(name)  # type: ignore[operator]
    person = parse_person_name(text)
    assert person is not None, text
    assert person.family, text
    check_variants(person)
    again = parse_person_name(person.full)
    assert again is not None
    assert (again.given, again.family) == (person.given, person.family)


@settings(max_examples=300)
@given(realistic_name)
def test_realistic_names_from_csv_cells_match_free_text(name: str) -> None:
    person = parse_person_name(name)
    assert person is not None
    assume(not person.family_first)  # CSV cells say which part is which; free text needs the guess
    words = name.split(" ")
    family_words = person.family.split(" ")
    given_words = words[: len(words) - len(family_words)]
    assume(given_words[-len(family_words) :] != family_words)  # "John Smith" / "Smith" is deduplicated
    from_cells = person_from_parts(" ".join(given_words), person.family)
    assert from_cells is not None
    assert from_cells.variants() == person.variants()


@settings(max_examples=300)
@given(st.one_of(any_text, word, hyphenated))
def test_transliterations_are_ascii_tokens(token: str) -> None:
    spellings = transliterations(token)
    assert len(spellings) == len(set(spellings))
    for spelling in spellings:
        assert TOKEN.fullmatch(spelling), spelling

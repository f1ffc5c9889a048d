"""Candidate addresses: pattern rendering, ranking, deduplication and pattern inference."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadenrich.engine.candidates import (
    PATTERN_PLACEHOLDERS,
    RANKED_PATTERNS,
    VARIANT_STEP,
    Candidate,
    infer_pattern,
    ranked_candidates,
    render_pattern,
)
from leadenrich.engine.names import NameVariant, PersonName, parse_person_name

LOCAL = re.compile(r"[a-z0-9]+([._-][a-z0-9]+)*")
JOHN = NameVariant("john", "smith")


def person(text: str) -> PersonName:
    parsed = parse_person_name(text)
    assert parsed is not None
    return parsed


def emails(candidates: list[Candidate]) -> list[str]:
    return [c.email for c in candidates]


def test_placeholders_are_the_four_hunter_uses() -> None:
    assert frozenset({"{first}", "{last}", "{f}", "{l}"}) == PATTERN_PLACEHOLDERS
    used = {p for pattern in RANKED_PATTERNS for p in re.findall(r"\{[^}]*\}", pattern)}
    assert used == PATTERN_PLACEHOLDERS


@pytest.mark.parametrize(
    ("pattern", "local"),
    [
        ("{first}", "john"),
        ("{last}", "smith"),
        ("{f}", "j"),
        ("{l}", "s"),
        ("{first}.{last}", "john.smith"),
        ("{f}{last}", "jsmith"),
        ("{first}_{last}", "john_smith"),
        ("{first}-{last}", "john-smith"),
        ("{last}{f}", "smithj"),
        ("{l}{first}", "sjohn"),
        ("{f}.{l}", "j.s"),
        ("{FIRST}.{Last}", "john.smith"),
        ("  {first}.{last}  ", "john.smith"),
    ],
)
def test_render_each_placeholder_and_separator(pattern: str, local: str) -> None:
    assert render_pattern(pattern, JOHN) == local


@pytest.mark.parametrize(
    "pattern",
    [
        "{middle}",
        "{first}.{middle}.{last}",
        "{first_initial}{last}",
        "{first}.{last}@acme.com",
        "{first",
        "first}.{last}",
        "{}",
        "",
        "firstlast",
        "{first}..{last}",
        "{first}.",
        ".{last}",
        "{first} {last}",
    ],
)
def test_unknown_or_malformed_patterns_render_nothing(pattern: str) -> None:
    assert render_pattern(pattern, JOHN) is None


def test_render_needs_every_part_it_uses() -> None:
    single = NameVariant("cher", "")
    assert render_pattern("{first}", single) == "cher"
    assert render_pattern("{last}", single) is None
    assert render_pattern("{first}.{l}", single) is None


def test_render_refuses_overlong_local_parts() -> None:
    assert render_pattern("{first}", NameVariant("a" * 64, "")) == "a" * 64
    assert render_pattern("{first}.{last}", NameVariant("a" * 40, "b" * 40)) is None


def test_the_six_original_permutations_are_ranked() -> None:
    for original in ("{first}.{last}", "{f}.{last}", "{first}", "{last}", "{first}.{l}", "{f}{last}"):
        assert original in RANKED_PATTERNS
    assert len(set(RANKED_PATTERNS)) == len(RANKED_PATTERNS)
    assert RANKED_PATTERNS[0] == "{first}.{last}"
    for common in ("{first}{last}", "{first}_{last}", "{first}-{last}", "{last}.{first}", "{last}{f}"):
        assert common in RANKED_PATTERNS


def test_single_spelling_follows_the_ranking() -> None:
    found = ranked_candidates(person("John Smith"), "acme.com")
    assert [c.pattern for c in found] == list(RANKED_PATTERNS)
    assert emails(found)[:8] == [
        "john.smith@acme.com",
        "john@acme.com",
        "jsmith@acme.com",
        "johnsmith@acme.com",
        "j.smith@acme.com",
        "john_smith@acme.com",
        "johns@acme.com",
        "john.s@acme.com",
    ]
    assert not any(c.from_known_pattern for c in found)


def test_known_pattern_comes_first_for_every_spelling() -> None:
    found = ranked_candidates(person("José Müller"), "acme.com", pattern="{f}{last}")
    assert found[:2] == [
        Candidate("jmueller@acme.com", "{f}{last}", True),
        Candidate("jmuller@acme.com", "{f}{last}", True),
    ]
    assert all(not c.from_known_pattern for c in found[2:])
    assert found[2].email == "jose.mueller@acme.com"
    assert len(set(emails(found))) == len(found)


def test_known_pattern_is_not_repeated_among_permutations() -> None:
    found = ranked_candidates(person("John Smith"), "acme.com", pattern="{first}.{last}")
    assert found[0] == Candidate("john.smith@acme.com", "{first}.{last}", True)
    assert emails(found).count("john.smith@acme.com") == 1


def test_unknown_known_pattern_falls_back_to_permutations() -> None:
    found = ranked_candidates(person("John Smith"), "acme.com", pattern="{first}.{middle}.{last}")
    assert found[0] == Candidate("john.smith@acme.com", "{first}.{last}", False)


def test_spellings_interleave_by_cost() -> None:
    # The second spelling's best pattern costs VARIANT_STEP, so it lands among the first spelling's top.
    assert VARIANT_STEP == 3
    found = emails(ranked_candidates(person("José Müller"), "acme.com"))
    assert found[:8] == [
        "jose.mueller@acme.com",
        "jose@acme.com",
        "jmueller@acme.com",
        "josemueller@acme.com",
        "jose.muller@acme.com",
        "j.mueller@acme.com",
        "jose_mueller@acme.com",
        "jmuller@acme.com",
    ]


def test_hyphenated_given_name_candidates_are_valid_local_parts() -> None:
    found = emails(ranked_candidates(person("Jean-Luc Picard"), "acme.fr"))
    assert found[0] == "jean-luc.picard@acme.fr"
    assert found.index("jeanluc.picard@acme.fr") < found.index("jean.picard@acme.fr")
    assert "jpicard@acme.fr" in found
    for email in found:
        local = email.split("@")[0]
        assert LOCAL.fullmatch(local), email


def test_emails_are_deduplicated_across_spellings() -> None:
    found = emails(ranked_candidates(person("J. Robert Oppenheimer"), "acme.com"))
    assert len(found) == len(set(found))
    assert found[0] == "robert.oppenheimer@acme.com"
    assert "j.oppenheimer@acme.com" in found


def test_single_names_only_use_the_first_name() -> None:
    assert ranked_candidates(person("Cher"), "acme.com") == [Candidate("cher@acme.com", "{first}", False)]
    with_pattern = ranked_candidates(person("Cher"), "acme.com", pattern="{f}{last}")
    assert with_pattern == [Candidate("cher@acme.com", "{first}", False)]


@pytest.mark.parametrize(
    ("domain", "host"),
    [("acme.com", "acme.com"), (" Acme.COM. ", "acme.com"), ("münchen.de", "xn--mnchen-3ya.de")],
)
def test_domain_is_lowercase_ascii(domain: str, host: str) -> None:
    found = ranked_candidates(person("John Smith"), domain, limit=1)
    assert found[0].email == f"john.smith@{host}"


@pytest.mark.parametrize(
    "domain",
    ["", "acme", "-acme.com", "acme-.com", "acme..com", "1.2.3.4", "acme.com/about", "a b.com", "x@acme.com"],
)
def test_invalid_domains_give_no_candidates(domain: str) -> None:
    assert ranked_candidates(person("John Smith"), domain) == []


def test_long_names_drop_only_the_overlong_addresses() -> None:
    long_name = PersonName("A" + "b" * 39, "C" + "d" * 39)
    found = ranked_candidates(long_name, "acme.com")
    assert found
    assert all(len(c.email.split("@")[0]) <= 64 for c in found)
    assert f"{'a' + 'b' * 39}@acme.com" in emails(found)
    assert not any(c.pattern == "{first}.{last}" for c in found)


@pytest.mark.parametrize(
    ("limit", "expected"), [(None, len(RANKED_PATTERNS)), (0, 0), (-1, 0), (1, 1), (3, 3)]
)
def test_limit_caps_the_list(limit: int | None, expected: int) -> None:
    assert len(ranked_candidates(person("John Smith"), "acme.com", limit=limit)) == expected


def test_limit_applies_inside_the_known_pattern_block() -> None:
    found = ranked_candidates(person("José Müller"), "acme.com", pattern="{f}{last}", limit=1)
    assert found == [Candidate("jmueller@acme.com", "{f}{last}", True)]


@pytest.mark.parametrize(
    ("local", "name", "pattern"),
    [
        ("john.smith", "John Smith", "{first}.{last}"),
        ("JSmith", "John Smith", "{f}{last}"),
        ("smithj", "John Smith", "{last}{f}"),
        ("john.smith@acme.com", "John Smith", "{first}.{last}"),
        ("jose.muller", "José Müller", "{first}.{last}"),
        ("jean.picard", "Jean-Luc Picard", "{first}.{last}"),
        ("robert.oppenheimer", "J. Robert Oppenheimer", "{first}.{last}"),
        ("cher", "Cher", "{first}"),
        ("ludwig.beethoven", "Ludwig van Beethoven", "{first}.{last}"),
        ("jane.doe", "John Smith", None),
        ("", "John Smith", None),
    ],
)
def test_infer_pattern(local: str, name: str, pattern: str | None) -> None:
    assert infer_pattern(local, person(name)) == pattern


ascii_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=12).map(str.capitalize)
ascii_person = st.builds(lambda given_name, family: PersonName(given_name, family), ascii_word, ascii_word)


@settings(max_examples=300)
@given(ascii_person, st.sampled_from(RANKED_PATTERNS))
def test_infer_pattern_round_trips_with_render(name: PersonName, pattern: str) -> None:
    variant = name.variants()[0]
    local = render_pattern(pattern, variant)
    assert local is not None
    inferred = infer_pattern(local, name)
    assert inferred is not None
    assert render_pattern(inferred, variant) == local
    # The answer is the most likely pattern that produces this local part.
    assert inferred == next(p for p in RANKED_PATTERNS if render_pattern(p, variant) == local)


@settings(max_examples=200)
@given(ascii_person, st.one_of(st.none(), st.sampled_from([*RANKED_PATTERNS, "{x}", "{f}{l}{last}"])))
def test_candidates_are_unique_valid_addresses(name: PersonName, pattern: str | None) -> None:
    found = ranked_candidates(name, "acme.com", pattern=pattern)
    assert found
    assert len(set(emails(found))) == len(found)
    variants = name.variants()
    for candidate in found:
        local, _, host = candidate.email.partition("@")
        assert host == "acme.com"
        assert LOCAL.fullmatch(local)
        assert local in {render_pattern(candidate.pattern, v) for v in variants}
    known = [c for c in found if c.from_known_pattern]
    assert found[: len(known)] == known


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("María del Carmen Ruiz", "maria.ruiz"),
        ("José de Jesús Martínez", "jose.martinez"),
        ("María de los Ángeles Pérez", "maria.perez"),
        ("Nguyễn Thị Mai", "mai.nguyen"),
        ("Trần Văn Lâm", "lam.tran"),
        ("Lê Văn Lương", "luong.le"),
    ],
)
def test_likely_address_is_tried_first(name: str, first: str) -> None:
    found = emails(ranked_candidates(person(name), "acme.com", limit=4))
    assert found[0] == f"{first}@acme.com"


def test_limit_one_is_fast_for_many_ambiguous_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    from itertools import product as real_product

    from leadenrich.engine.names import spellings as names

    def bounded(*iterables: object) -> object:
        for count, item in enumerate(real_product(*iterables)):  # type: ignore[call-overload]
            assert count < 100, "the spellings of one word were multiplied out"
            yield item

    monkeypatch.setattr(names, "product", bounded)
    names._compute_variants.cache_clear()
    name = person("Jan " + "-".join(["Ä"] * 20))
    assert emails(ranked_candidates(name, "acme.com", limit=1)) == [f"jan.{'-'.join(['ae'] * 20)}@acme.com"]

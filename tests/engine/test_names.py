"""Person-name parsing: real-world shapes, non-persons, spellings and their order."""

from __future__ import annotations

import re

import pytest

from leadenrich.engine.names import (
    MAX_VARIANTS,
    NameVariant,
    PersonName,
    parse_person_name,
    person_from_parts,
    transliterations,
)

TOKEN = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def pairs(person: PersonName) -> list[tuple[str, str]]:
    return [(v.first, v.last) for v in person.variants()]


# (text, given, family, most likely (first, last), other (first, last) spellings that must be offered)
NAMES: list[tuple[str, str, str, tuple[str, str], list[tuple[str, str]]]] = [
    ("Dr. Jean-Luc Picard", "Jean-Luc", "Picard", ("jean-luc", "picard"),
     [("jeanluc", "picard"), ("jean", "picard")]),
    ("María José García-López", "María", "García-López", ("maria", "garcia-lopez"),
     [("maria", "garcialopez"), ("maria", "garcia")]),
    ("Ludwig van Beethoven", "Ludwig", "van Beethoven", ("ludwig", "vanbeethoven"),
     [("ludwig", "beethoven")]),
    ("Ursula von der Leyen", "Ursula", "von der Leyen", ("ursula", "vonderleyen"), [("ursula", "leyen")]),
    ("Sean O'Brien", "Sean", "O'Brien", ("sean", "obrien"), []),
    ("Thomas O’Connor", "Thomas", "O'Connor", ("thomas", "oconnor"), []),
    ("Angela D'Angelo", "Angela", "D'Angelo", ("angela", "dangelo"), []),
    ("José Müller", "José", "Müller", ("jose", "mueller"), [("jose", "muller")]),
    ("Søren Kierkegaard", "Søren", "Kierkegaard", ("soren", "kierkegaard"), [("soeren", "kierkegaard")]),
    ("Łukasz Żółć", "Łukasz", "Żółć", ("lukasz", "zolc"), []),
    ("Nguyễn Văn An", "An", "Nguyễn", ("an", "nguyen"), []),
    ("Nguyen Van An", "An", "Nguyen", ("an", "nguyen"), []),
    ("Björk", "Björk", "", ("bjoerk", ""), [("bjork", "")]),
    ("Madonna", "Madonna", "", ("madonna", ""), []),
    ("Martin Luther King Jr.", "Martin", "King", ("martin", "king"), []),
    ("John Smith II", "John", "Smith", ("john", "smith"), []),
    ("SMITH, JOHN", "John", "Smith", ("john", "smith"), []),
    ("Smith, John A.", "John", "Smith", ("john", "smith"), []),
    ("van der Berg, Jan", "Jan", "van der Berg", ("jan", "vanderberg"), [("jan", "berg")]),
    ("Doe, Jane, PhD", "Jane", "Doe", ("jane", "doe"), []),
    ("Jane Doe (CEO)", "Jane", "Doe", ("jane", "doe"), []),
    ("Jane Doe, CEO", "Jane", "Doe", ("jane", "doe"), []),
    ("Jane Doe – Chief Executive Officer", "Jane", "Doe", ("jane", "doe"), []),
    ("Jane Doe, Acme Corp.", "Jane", "Doe", ("jane", "doe"), []),
    ("**Jane Doe**[1]", "Jane", "Doe", ("jane", "doe"), []),
    ('William "Bill" Gates', "William", "Gates", ("william", "gates"), []),
    ("Leonardo da Vinci", "Leonardo", "da Vinci", ("leonardo", "davinci"), [("leonardo", "vinci")]),
    ("Oscar de la Hoya", "Oscar", "de la Hoya", ("oscar", "delahoya"), [("oscar", "hoya")]),
    ("Robert De Niro", "Robert", "De Niro", ("robert", "deniro"), [("robert", "niro")]),
    ("Ahmed bin Salman", "Ahmed", "bin Salman", ("ahmed", "binsalman"), [("ahmed", "salman")]),
    ("Ahmed al-Saud", "Ahmed", "al-Saud", ("ahmed", "al-saud"), [("ahmed", "alsaud"), ("ahmed", "saud")]),
    ("Mohamed El Amrani", "Mohamed", "El Amrani", ("mohamed", "elamrani"), [("mohamed", "amrani")]),
    ("Gerard 't Hooft", "Gerard", "'t Hooft", ("gerard", "thooft"), [("gerard", "hooft")]),
    ("Yves Saint Laurent", "Yves", "Saint Laurent", ("yves", "saintlaurent"), [("yves", "laurent")]),
    ("Mary-Kate O'Neil-Smith", "Mary-Kate", "O'Neil-Smith", ("mary-kate", "oneil-smith"),
     [("marykate", "oneil-smith"), ("mary-kate", "oneilsmith"), ("mary-kate", "oneil"),
      ("mary", "oneil-smith")]),
    ("Дмитрий Иванов", "Дмитрий", "Иванов", ("dmitriy", "ivanov"), [("dmitry", "ivanov")]),
    ("Андрей Сергеев", "Андрей", "Сергеев", ("andrey", "sergeev"), [("andrei", "sergeev")]),
    ("Γιώργος Παπαδόπουλος", "Γιώργος", "Παπαδόπουλος", ("giorgos", "papadopoulos"), []),
    ("Σταύρος Νιάρχος", "Σταύρος", "Νιάρχος", ("stavros", "niarchos"), []),
    ("王伟", "伟", "王", ("wei", "wang"), []),
    ("毛 泽东", "泽东", "毛", ("zedong", "mao"), []),
    ("김민준", "민준", "김", ("minjun", "kim"), [("minjun", "gim")]),
    ("J. Robert Oppenheimer", "J.", "Oppenheimer", ("robert", "oppenheimer"), [("j", "oppenheimer")]),
    ("John F. Kennedy", "John", "Kennedy", ("john", "kennedy"), []),
    ("J.R.R. Tolkien", "J.", "Tolkien", ("j", "tolkien"), []),
    ("Prof. Dr. Hans-Jürgen Müller-Lüdenscheidt", "Hans-Jürgen", "Müller-Lüdenscheidt",
     ("hans-juergen", "mueller-luedenscheidt"),
     [("hans-jurgen", "muller-ludenscheidt"), ("hans", "mueller-luedenscheidt")]),
    ("LUDWIG VAN BEETHOVEN", "Ludwig", "van Beethoven", ("ludwig", "vanbeethoven"), []),
    ("ronald mcdonald", "Ronald", "McDonald", ("ronald", "mcdonald"), []),
    ("Danny DeVito", "Danny", "DeVito", ("danny", "devito"), []),
    ("jean-luc picard", "Jean-Luc", "Picard", ("jean-luc", "picard"), []),
    ("Gül Yılmaz", "Gül", "Yılmaz", ("gul", "yilmaz"), [("guel", "yilmaz")]),
    ("Mika Häkkinen", "Mika", "Häkkinen", ("mika", "hakkinen"), [("mika", "haekkinen")]),
    ("Zoë Saldaña", "Zoë", "Saldaña", ("zoe", "saldana"), []),
    ("ÉRIC CANTONA", "Éric", "Cantona", ("eric", "cantona"), []),
    ("Dott.ssa Maria Rossi", "Maria", "Rossi", ("maria", "rossi"), []),
    ("Dipl.-Ing. Klaus Schmidt", "Klaus", "Schmidt", ("klaus", "schmidt"), []),
    ("Frau Dr. Angela Merkel", "Angela", "Merkel", ("angela", "merkel"), []),
    ("Mme Christine Lagarde", "Christine", "Lagarde", ("christine", "lagarde"), []),
    ("Sra. Ana dos Santos", "Ana", "dos Santos", ("ana", "dossantos"), [("ana", "santos")]),
    ("Sir Patrick Stewart", "Patrick", "Stewart", ("patrick", "stewart"), []),
    ("Jane Doe, Ph.D.", "Jane", "Doe", ("jane", "doe"), []),
    ("Þórunn Guðmundsdóttir", "Þórunn", "Guðmundsdóttir", ("thorunn", "gudmundsdottir"), []),
    ("Đorđe Petrović", "Đorđe", "Petrović", ("dorde", "petrovic"), []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "given", "family", "first_variant", "also"), NAMES, ids=[n[0] for n in NAMES]
)
def test_real_world_names(
    text: str, given: str, family: str, first_variant: tuple[str, str], also: list[tuple[str, str]]
) -> None:
    person = parse_person_name(text)
    assert person is not None
    assert (person.given, person.family) == (given, family)
    spellings = pairs(person)
    assert spellings[0] == first_variant
    for expected in also:
        assert expected in spellings


NON_PERSONS = [
    "",
    "   ",
    "CEO",
    "The Founder",
    "Founder & CEO",
    "Co-founder",
    "Chief Executive Officer",
    "Head of Sales",
    "Unknown",
    "N/A",
    "N.A.",
    "None",
    "null",
    "TBD",
    "Not available",
    "Anonymous",
    "Information not found",
    "Board of Directors",
    "Sales Team",
    "Acme Inc",
    "Acme Inc.",
    "Acme GmbH",
    "Siemens AG",
    "Stripe Technologies",
    "Example Labs",
    "Globex Holdings",
    "jane@acme.com",
    "https://acme.com",
    "www.acme.com",
    "Jane Doe is the CEO of Acme",
    "Unfortunately, I could not find the name",
    "Agent 47",
    "John Smith 3rd",
    "Mr. Smith",
    "Mr. and Mrs. Smith",
    "John and Jane Doe",
    "Jane Doe [CEO]",
    "CEO: Jane Doe",
    "Jane/Doe",
    "<b>Jane</b>",
    "J.",
    "hello world foo bar baz qux",
]


@pytest.mark.parametrize("text", NON_PERSONS)
def test_non_persons_are_refused(text: str) -> None:
    assert parse_person_name(text) is None


@pytest.mark.parametrize("text", ["\ud800", "Jane\udfffDoe", "\x00", "\u200bJane", "(" * 50, "a" * 10_000])
def test_odd_text_never_raises(text: str) -> None:
    parse_person_name(text)  # must return, whatever the result


def test_non_string_input_is_refused() -> None:
    assert parse_person_name(None) is None  # type: ignore[arg-type]
    assert parse_person_name(42) is None  # type: ignore[arg-type]


def test_middles_and_lone_initial() -> None:
    kennedy = parse_person_name("John F. Kennedy")
    assert kennedy is not None
    assert kennedy.middles == ("F.",)
    assert kennedy.variants()[0] == NameVariant("john", "kennedy", "f")

    oppenheimer = parse_person_name("J. Robert Oppenheimer")
    assert oppenheimer is not None
    assert oppenheimer.middles == ("Robert",)
    assert oppenheimer.variants()[:2] == [
        NameVariant("robert", "oppenheimer", ""),
        NameVariant("j", "oppenheimer", "r"),
    ]


def test_hyphenated_names_order_kept_joined_first_part() -> None:
    person = parse_person_name("Anna Smith-Jones")
    assert person is not None
    assert pairs(person) == [("anna", "smith-jones"), ("anna", "smithjones"), ("anna", "smith")]


def test_umlauts_keep_one_convention_per_person() -> None:
    person = parse_person_name("Jürgen Müller")
    assert person is not None
    assert pairs(person)[:2] == [("juergen", "mueller"), ("jurgen", "muller")]
    assert set(pairs(person)[2:]) == {("juergen", "muller"), ("jurgen", "mueller")}


def test_nordic_signal_puts_plain_spelling_first() -> None:
    person = parse_person_name("Åsa Öberg")
    assert person is not None
    assert pairs(person)[0] == ("asa", "oberg")
    assert ("aasa", "oeberg") in pairs(person)


def test_display_case_is_kept_unless_input_was_one_case() -> None:
    mixed = parse_person_name("ludwig VAN beethoven")
    assert mixed is not None
    assert (mixed.given, mixed.family) == ("ludwig", "VAN beethoven")
    upper = parse_person_name("MARY-KATE O'NEIL-SMITH")
    assert upper is not None
    assert (upper.given, upper.family) == ("Mary-Kate", "O'Neil-Smith")


@pytest.mark.parametrize(
    ("text", "full"),
    [
        ("Dr. José van der Berg Jr.", "José van der Berg"),
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("毛 泽东", "毛泽东"),
        ("Smith, John A.", "John A. Smith"),
        ("Cher", "Cher"),
    ],
)
def test_full_display_form(text: str, full: str) -> None:
    person = parse_person_name(text)
    assert person is not None
    assert person.full == full


def test_variants_are_capped_and_unique() -> None:
    person = parse_person_name("Hans-Jürgen Müller-Lüdenscheidt")
    assert person is not None
    spellings = pairs(person)
    assert len(spellings) == MAX_VARIANTS
    assert len(set(spellings)) == len(spellings)
    for first, last in spellings:
        assert TOKEN.fullmatch(first)
        assert TOKEN.fullmatch(last)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("Müller", ["mueller", "muller"]),
        ("Søren", ["soren", "soeren"]),
        ("Åsa", ["asa", "aasa"]),
        ("Şükrü", ["sukru", "suekrue"]),
        ("Straße", ["strasse"]),
        ("Þór", ["thor"]),
        ("Ægir", ["aegir"]),
        ("Œdipe", ["oedipe"]),
        ("Peña", ["pena"]),
        ("Jean-Luc", ["jean-luc"]),
        ("O'Brien", ["obrien"]),
        ("Дмитрий", ["dmitriy", "dmitry"]),
        ("Иванов", ["ivanov"]),
        ("Ευάγγελος", ["evangelos"]),
        ("김", ["kim", "gim"]),
        ("", []),
        ("'", []),
    ],
)
def test_transliterations(token: str, expected: list[str]) -> None:
    assert transliterations(token) == expected


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("John", "Smith", PersonName("John", "Smith")),
        ("JOHN", "SMITH", PersonName("John", "Smith")),
        ("Dr. Jane", "Doe Jr.", PersonName("Jane", "Doe")),
        ("John Smith", "Smith", PersonName("John", "Smith")),
        ("J. Robert", "Oppenheimer", PersonName("J.", "Oppenheimer", ("Robert",))),
        ("Ludwig", "van Beethoven", PersonName("Ludwig", "van Beethoven")),
        ("Madonna", None, PersonName("Madonna", "")),
        ("John", "N/A", PersonName("John", "")),
        (None, "Jane Doe", PersonName("Jane", "Doe")),
        ("伟", "王", PersonName("伟", "王", family_first=True)),
        (None, None, None),
        ("", "  ", None),
        ("-", "Unknown", None),
        ("john@x.com", "Smith", None),
        ("John", "Acme Inc", None),
        ("CEO", "Smith", None),
    ],
)
def test_person_from_parts(first: str | None, last: str | None, expected: PersonName | None) -> None:
    assert person_from_parts(first, last) == expected


def test_person_from_parts_spellings_match_free_text() -> None:
    from_csv = person_from_parts("José", "Müller")
    from_text = parse_person_name("José Müller")
    assert from_csv is not None and from_text is not None
    assert from_csv.variants() == from_text.variants()


# --- Bounded spellings: untrusted input must not multiply spellings per ambiguous part ---------------


def test_spelling_combinations_are_bounded_for_any_number_of_ambiguous_parts() -> None:
    from leadenrich.engine.names import spellings

    ambiguous = (("ae", 0), ("a", 1))
    for n in (1, 2, 3, 4, 10, 40, 150):
        combos = spellings._spelling_combinations([ambiguous] * n)
        assert 1 <= len(combos) <= spellings._MAX_SPELLING_COMBINATIONS
        assert ("ae",) * n in [tuple(t for t, _ in c) for c in combos]  # the preferred convention
        assert ("a",) * n in [tuple(t for t, _ in c) for c in combos]  # and the other one


def _guard_product(monkeypatch: pytest.MonkeyPatch, limit: int) -> list[int]:
    """Make every itertools.product call in spellings fail once it yields more than `limit` combinations."""
    from itertools import product as real_product

    from leadenrich.engine.names import spellings

    produced = [0]

    def counting(*iterables: object) -> object:
        for item in real_product(*iterables):  # type: ignore[call-overload]
            produced[0] += 1
            if produced[0] > limit:
                raise AssertionError(f"more than {limit} spelling combinations")
            yield item

    monkeypatch.setattr(spellings, "product", counting)
    spellings._compute_variants.cache_clear()
    return produced


@pytest.mark.parametrize("n", [1, 3, 4, 14, 20, 60, 148])
def test_many_ambiguous_hyphen_parts_do_not_blow_up(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    from leadenrich.engine.names import parsing

    _guard_product(monkeypatch, 100)
    text = "Jan " + "-".join(["Ä"] * n)
    assert len(text) <= parsing._MAX_INPUT_CHARS
    person = parse_person_name(text)
    assert person is not None
    spellings = pairs(person)
    assert 1 <= len(spellings) <= MAX_VARIANTS
    assert spellings[0] == ("jan", "-".join(["ae"] * n))
    assert ("jan", "-".join(["a"] * n)) in spellings


def test_directly_built_names_with_150_ambiguous_parts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    _guard_product(monkeypatch, 100)
    many = "-".join(["Ø"] * 150)
    for built in (PersonName(many, many), PersonName("Jan", f"van {many} {many}"), PersonName(many, "")):
        spellings = pairs(built)
        assert 1 <= len(spellings) <= MAX_VARIANTS
        assert len(set(spellings)) == len(spellings)


def test_several_long_ambiguous_words_within_the_input_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    _guard_product(monkeypatch, 100)
    word = "-".join(["Ü"] * 14)  # 27 characters
    for text in (
        f"{word} {word} {word} {word} {word}",
        f"{word} de {word} {word} {word} {word}",
        f"{word}, {word} {word}",
        f"{word} del Carmen {word} {word}",
    ):
        person = parse_person_name(text)
        assert person is not None, text
        assert 1 <= len(person.variants()) <= MAX_VARIANTS


# --- Spanish and Portuguese compound given names ("María del Carmen") --------------------------------


@pytest.mark.parametrize(
    ("text", "given", "family", "first_variant"),
    [
        ("María del Carmen Ruiz", "María del Carmen", "Ruiz", ("maria", "ruiz")),
        ("José de Jesús Martínez", "José de Jesús", "Martínez", ("jose", "martinez")),
        ("María de los Ángeles Pérez", "María de los Ángeles", "Pérez", ("maria", "perez")),
        ("Maria das Graças Foster", "Maria das Graças", "Foster", ("maria", "foster")),
        ("MARÍA DEL CARMEN RUIZ", "María del Carmen", "Ruiz", ("maria", "ruiz")),
        ("Dra. María del Pilar García-López", "María del Pilar", "García-López", ("maria", "garcia-lopez")),
        ("Ruiz, María del Carmen", "María del Carmen", "Ruiz", ("maria", "ruiz")),
        ("María del Carmen de la Hoya", "María del Carmen", "de la Hoya", ("maria", "delahoya")),
    ],
)
def test_compound_given_names(text: str, given: str, family: str, first_variant: tuple[str, str]) -> None:
    person = parse_person_name(text)
    assert person is not None
    assert (person.given, person.family) == (given, family)
    assert pairs(person)[0] == first_variant
    joined = _ascii_joined(given)
    assert (joined, first_variant[1]) in pairs(person)  # "mariadelcarmen.ruiz" is the second guess
    assert parse_person_name(person.full) == person


def _ascii_joined(text: str) -> str:
    return "".join(transliterations(text)[0].split("-"))


@pytest.mark.parametrize(
    ("text", "given", "family"),
    [
        ("Oscar de la Hoya", "Oscar", "de la Hoya"),
        ("Leonardo da Vinci", "Leonardo", "da Vinci"),
        ("María del Carmen", "María", "del Carmen"),  # the particle phrase ends the name: a family name
        ("Luis de la Fuente Castillo", "Luis", "de la Fuente Castillo"),  # not a devotional given name
        ("Rafael dos Santos Silva", "Rafael", "dos Santos Silva"),
    ],
)
def test_particle_phrases_that_are_family_names(text: str, given: str, family: str) -> None:
    person = parse_person_name(text)
    assert person is not None
    assert (person.given, person.family) == (given, family)


def test_compound_given_name_from_csv_cells_matches_free_text() -> None:
    from_cells = person_from_parts("María del Carmen", "Ruiz")
    from_text = parse_person_name("María del Carmen Ruiz")
    assert from_cells is not None and from_text is not None
    assert from_cells == from_text
    assert from_cells.middles == ()


# --- Vietnamese family-first order when the given name is also a surname ------------------------------


@pytest.mark.parametrize(
    ("text", "given", "middles", "family"),
    [
        ("Nguyễn Thị Mai", "Mai", ("Thị",), "Nguyễn"),
        ("Trần Văn Lâm", "Lâm", ("Văn",), "Trần"),
        ("Lê Văn Lương", "Lương", ("Văn",), "Lê"),
        ("Phạm Hà", "Hà", (), "Phạm"),
        ("Nguyen Thi Mai", "Mai", ("Thi",), "Nguyen"),  # no diacritics, but a Vietnamese middle name
    ],
)
def test_vietnamese_order_when_the_given_name_is_also_a_surname(
    text: str, given: str, middles: tuple[str, ...], family: str
) -> None:
    person = parse_person_name(text)
    assert person is not None
    assert (person.given, person.middles, person.family) == (given, middles, family)
    assert person.family_first
    assert person.full == text
    assert pairs(person)[0] == (_ascii_joined(given), _ascii_joined(family))


@pytest.mark.parametrize(
    ("text", "given", "family"),
    [
        ("Mai Nguyễn", "Mai", "Nguyễn"),  # given-first with a major surname last
        ("Ho Chi Minh", "Ho", "Minh"),  # no Vietnamese letters or middle name: no guess
        ("Mai Thi Nguyen", "Mai", "Nguyen"),
        ("Anna Mai", "Anna", "Mai"),
    ],
)
def test_names_that_stay_given_first(text: str, given: str, family: str) -> None:
    person = parse_person_name(text)
    assert person is not None
    assert (person.given, person.family) == (given, family)
    assert not person.family_first

"""Person names from an LLM answer or a CSV row, and their ASCII spellings for e-mail local parts.

Every address we guess costs one verification, so this module does two things carefully: it refuses text
that is not one person's name (an LLM will happily answer "Not available", "Board of Directors" or a
sentence), and it ranks the ASCII spellings of a name so that the likely one is verified first.

Decisions worth knowing:

* German umlauts (ä ö ü) give two spellings. The digraph one ("mueller") comes first: people with umlauts
  in their names mostly work at DACH organisations, whose directories follow DIN 5007-2 / the ICAO
  passport convention (ü → ue); stripping the dots ("muller") is what Anglo-American systems do, so it
  is always the second guess. A name that shows Nordic, Turkish, Hungarian, Spanish or Finnish signs
  (å ø æ ð þ ş ğ ı ő ű õ ñ á í ó ú ã ç, or a word ending in "-nen") flips the order, because those
  languages never write ö as "oe". ø and å likewise give "o"/"oe" and "a"/"aa", plain first.
* Spellings are chosen per person, not per word: "Jürgen Müller" gives "juergen mueller" and
  "jurgen muller" before any mixed form, since one mail system applies one convention. A word with more
  than three such letters in separate hyphen parts only gets the two consistent spellings: the mixes
  would double with every part ("Ä-Ä-Ä-…" is untrusted input), and they rank last anyway.
* A leading lone initial followed by a full name ("J. Robert Oppenheimer") means the person goes by the
  middle name: the display keeps given "J." and middle "Robert"; the variants try "robert" first and the
  initial second.
* Name particles (van, von der, de la, bin, al ...) stay in the displayed family name; the variants try
  the joined form ("vanderberg") before the bare core ("berg"). Mac/Mc are part of the word.
* Spanish and Portuguese devotional given names ("María del Carmen", "José de Jesús", "Maria das
  Graças") keep the phrase in the given name when more words follow; the variants try the first word
  ("maria") before the joined form ("mariadelcarmen"). At the end of a name the phrase is a family name.
* Hyphenated words give, in order, the hyphen kept ("jean-luc"), removed ("jeanluc") and the first part
  ("jean"); the candidates module decides which patterns use them.
* Vietnamese names written family-first ("Nguyễn Văn An") and CJK names ("王伟", "毛 泽东") are recognised
  and stored with ``family_first=True`` so ``full`` shows them in their native order. A Vietnamese
  given name that is also a surname ("Nguyễn Thị Mai") does not change that, except for a minor surname
  before a major one ("Mai Nguyễn", given-first).
* Perplexity citation markers ("Jane Doe[1]") are removed before validation; any other bracket, digit,
  "@", "/" or ":" makes the text a non-name.
* A bare surname behind an honorific ("Mr. Smith") is refused: it cannot fill a first-name pattern.
* anyascii does the transliteration, except where its letter-by-letter output is not how people spell
  their names: Greek ου/ευ/γγ (Papadopoulos, Stavros, Evangelos), Russian -iy/-ey endings (Dmitriy and
  Dmitry are both offered) and the common Korean surnames (Kim, Lee, Park before Gim, I, Bak).
* Known limits: kanji get Mandarin readings; Spanish double surnames without a hyphen parse as middle +
  family; "García López, María" is read as the name "García López", since a two-word segment before a
  comma cannot be told from "Jane Doe, Acme".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product

from anyascii import anyascii

__all__ = [
    "MAX_VARIANTS",
    "NameVariant",
    "PersonName",
    "parse_person_name",
    "person_from_parts",
    "transliterations",
]

MAX_VARIANTS = 8
_MAX_INPUT_CHARS = 300
# Words whose parts each have two spellings ("Ä-Ö-Ü"): up to this many ambiguous parts are combined
# freely; beyond it only the two consistent conventions are built, so the work per word stays bounded
# whatever untrusted text arrives (a full product would double with every part).
_MAX_AMBIGUOUS_PARTS = 3
_MAX_SPELLING_COMBINATIONS = 2**_MAX_AMBIGUOUS_PARTS
_MAX_NAME_TOKENS = 5  # tokens that are not particles
_MAX_TOKENS = 8


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
            if not self.middles and _east_asian_split(joined) == (self.family, self.given):
                return joined
            return " ".join(x for x in (self.family, *self.middles, self.given) if x)
        return " ".join(x for x in (self.given, *self.middles, self.family) if x)

    def variants(self) -> list[NameVariant]:
        """Most likely spelling first, deduplicated, at most MAX_VARIANTS."""
        return list(_compute_variants(self))


# --------------------------------------------------------------------------------------------------
# Word lists. Keys are casefolded with dots removed; diacritics are kept so that "Dáme" is not "dame".
# --------------------------------------------------------------------------------------------------

_HONORIFICS = frozenset(
    {
        "mr", "mrs", "ms", "miss", "mx", "mister", "madam", "madame", "dr", "drs", "dra", "doc", "prof",
        "professor", "sir", "dame", "lord", "lady", "herr", "frau", "hr", "fr", "mme", "mlle", "monsieur",
        "mademoiselle", "sr", "sra", "srta", "señor", "señora", "senor", "senora", "sig", "sigra", "signor",
        "signora", "dott", "dottssa", "dottor", "ing", "avv", "arch", "geom", "rag", "mag", "dipl-ing",
        "dr-ing", "univ-prof", "eng", "hon", "rev", "revd", "capt", "col", "lt", "maj", "sgt", "adm",
        "cmdr", "dhr", "mevr", "sheikh", "sheikha", "shaikh", "hrh", "shri", "sri", "smt",
    }
)  # fmt: skip

_SUFFIXES = frozenset(
    {
        "jr", "jnr", "junior", "sr", "snr", "senior", "ii", "iii", "iv", "phd", "md", "mba", "cpa", "esq",
        "esquire", "dds", "dmd", "dvm", "jd", "llm", "lld", "msc", "mphil", "dphil", "mph", "mpa", "bsc",
        "rn", "cfa", "cfp", "pe", "pmp", "frcs", "frcp", "obe", "mbe", "cbe", "kbe", "dbe", "qc", "kc",
        "facs", "edd", "psyd", "dsc", "mbbs", "mfa", "cissp", "cisa", "acca", "fca", "aca", "ret", "hons",
    }
)  # fmt: skip

_PARTICLES = frozenset(
    {
        "van", "von", "der", "den", "dem", "de", "del", "della", "delle", "dello", "degli", "dei", "di",
        "da", "das", "dos", "do", "du", "des", "la", "las", "los", "le", "lo", "ter", "ten", "te", "'t",
        "bin", "bint", "binti", "ibn", "al", "el", "af", "av", "zu", "vom", "zum", "zur", "st", "ste",
        "saint", "sainte",
    }
)  # fmt: skip

_ROLE_WORDS = frozenset(
    {
        "ceo", "cto", "cfo", "coo", "cmo", "cio", "ciso", "cso", "cpo", "cro", "cco", "cdo", "vp", "svp",
        "evp", "avp", "gm", "founder", "founders", "co-founder", "cofounder", "president", "vice-president",
        "chairman", "chairwoman", "chairperson", "director", "directors", "manager", "executive", "officer",
        "secretary", "treasurer", "owner", "partner", "principal", "chief", "managing", "counsel", "board",
        "member", "investor", "advisor", "adviser", "consultant", "engineer", "developer", "analyst",
        "specialist", "coordinator", "administrator", "assistant", "recruiter", "marketing", "engineering",
        "operations", "finance", "hr",
    }
)  # fmt: skip

_STOPWORDS = frozenset(
    {
        "the", "is", "are", "was", "were", "and", "or", "of", "for", "with", "from", "this", "that", "these",
        "those", "not", "has", "have", "had", "been", "our", "their", "his", "its", "it", "we", "you",
        "they", "which", "who", "what", "there", "here", "by", "but", "if", "than", "also", "only", "any",
        "some", "all", "such", "could", "would", "should", "does", "did", "i", "my", "me", "according",
        "unfortunately", "however", "please", "sorry", "note", "www", "http", "https", "com",
    }
)  # fmt: skip

_PLACEHOLDERS = frozenset(
    {
        "unknown", "none", "null", "nil", "anonymous", "anon", "undisclosed", "unnamed", "unspecified",
        "vacant", "tbd", "tba", "redacted", "confidential", "withheld", "various", "multiple", "someone",
        "somebody", "nobody", "noone", "name", "names", "firstname", "lastname", "fullname", "person",
        "individual", "contact", "contacts", "example", "sample", "test", "user", "admin", "info",
        "support", "information", "available", "found", "listed", "provided", "specified", "disclosed",
        "publicly", "identified", "applicable", "data", "result", "results", "answer", "source", "sources",
        "citation", "report", "reports", "reported", "mentioned", "article", "website", "linkedin",
        "twitter", "email", "e-mail", "phone", "n-a",
    }
)  # fmt: skip

_COMPANY_WORDS = frozenset(
    {
        "inc", "incorporated", "llc", "llp", "ltd", "limited", "gmbh", "mbh", "corp", "corporation",
        "company", "companies", "group", "technologies", "technology", "labs", "laboratories", "team",
        "teams", "holdings", "holding", "plc", "pty", "pte", "sarl", "srl", "spa", "gbr", "ohg", "kgaa",
        "solutions", "systems", "software", "services", "consulting", "consultants", "partners",
        "associates", "ventures", "capital", "enterprises", "industries", "international", "global",
        "foundation", "institute", "university", "college", "school", "bank", "agency", "studios",
        "media", "networks", "analytics", "therapeutics", "pharmaceuticals", "pharma", "biotech",
        "department", "office", "committee", "council", "staff", "management", "leadership",
    }
)  # fmt: skip

# Legal-form abbreviations that are also plausible name syllables: a company marker only when written
# in capitals or with dots, in last position.
_COMPANY_WEAK = frozenset(
    {"ag", "sa", "bv", "nv", "ab", "as", "oy", "oyj", "kg", "se", "co", "sas", "sl", "kk", "ug", "asa", "aps"}
)

_JUNK_WORDS = _STOPWORDS | _PLACEHOLDERS | _COMPANY_WORDS | _ROLE_WORDS

_VN_SURNAMES = frozenset(
    {
        "nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui", "do", "ho",
        "ngo", "duong", "ly", "dinh", "truong", "doan", "lam", "luong", "trinh", "mai", "cao", "ta", "luu",
        "quach", "thai", "ha", "kieu", "vuong", "tong", "chu",
    }
)  # fmt: skip
# The surnames most Vietnamese carry, which are rarely given names: "Mai Nguyễn" is given-first.
_VN_MAJOR_SURNAMES = frozenset(
    {"nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui", "do", "ho", "ngo",
     "duong", "ly"}
)  # fmt: skip
_VN_MIDDLES = frozenset(
    {"van", "thi", "duc", "huu", "minh", "ngoc", "thanh", "quoc", "cong", "xuan", "dinh", "anh", "thu",
     "kim", "hong", "trung", "tuan", "quang", "hai"}
)  # fmt: skip
_VN_MARKS = frozenset({"\u0323", "\u0309", "\u031b", "\u0306"})  # dot below, hook above, horn, breve

# Devotional complements of Spanish and Portuguese given names: "María del Carmen", "José de Jesús",
# "Maria das Graças". Followed by more words, "del Carmen" is part of the given name; at the end of a name
# it is a family name as usual. Words that are as often surnames ("de la Cruz", "dos Santos", "del Río",
# "del Valle", "dos Anjos", "de la Fuente") are left out on purpose: they stay in the family name.
_GIVEN_COMPLEMENTS = frozenset(
    {
        "carmen", "carmo", "pilar", "rosario", "rosário", "mar", "rocío", "rocio", "ángeles", "angeles",
        "jesús", "jesus", "luz", "paz", "fátima", "fatima", "lourdes", "guadalupe", "socorro",
        "consuelo", "dolores", "dores", "mercedes", "montserrat", "remedios", "asunción", "asuncion",
        "assunção", "concepción", "concepcion", "conceição", "conceicao", "nieves", "neves", "soledad",
        "milagros", "amparo", "graças", "gracas", "glória", "gloria", "penha", "piedade", "natividade",
        "belén", "belen", "begoña", "begona", "covadonga", "loreto", "salud",
    }
)  # fmt: skip
_GIVEN_LINKS = (
    ("del",),
    ("de",),
    ("de", "la"),
    ("de", "las"),
    ("de", "los"),
    ("da",),
    ("das",),
    ("do",),
    ("dos",),
)

_KOREAN_SURNAMES = {
    "김": "kim", "이": "lee", "박": "park", "최": "choi", "정": "jung", "강": "kang", "조": "cho",
    "윤": "yoon", "장": "jang", "임": "lim", "한": "han", "오": "oh", "서": "seo", "신": "shin",
    "권": "kwon", "황": "hwang", "안": "ahn", "송": "song", "류": "ryu", "유": "yoo", "홍": "hong",
    "전": "jeon", "고": "ko", "문": "moon", "손": "son", "양": "yang", "배": "bae", "백": "baek",
    "노": "noh", "남": "nam", "심": "shim", "곽": "kwak", "성": "sung", "차": "cha", "주": "joo",
    "우": "woo", "구": "koo", "남궁": "namgung", "선우": "sunwoo", "황보": "hwangbo", "제갈": "jegal",
}  # fmt: skip
_HAN_COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "歐陽",
        "司马",
        "司馬",
        "诸葛",
        "諸葛",
        "上官",
        "东方",
        "東方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "令狐",
    }
)

# (plain, digraph) spellings of letters that are written both ways.
_AMBIGUOUS = {"ä": ("a", "ae"), "ö": ("o", "oe"), "ü": ("u", "ue"), "ø": ("o", "oe"), "å": ("a", "aa")}
_PLAIN_SIGNALS = frozenset("åøæðþşğıőűõñáíóúãç")

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
        return _is_initial_text(self.text, self.dotted)


def _key(text: str) -> str:
    return text.casefold().replace(".", "")


def _is_initial_text(text: str, dotted: bool) -> bool:
    core = text.rstrip(".")
    if len(core) != 1 or not core.isalpha():
        return False
    return dotted or text.endswith(".") or core.upper() != core.lower()


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
        whole_key = _key(chunk)
        if whole_key in _HONORIFICS or whole_key in _SUFFIXES:
            tokens.append(_Token(chunk.rstrip("."), whole_key, chunk.endswith(".")))
            continue
        pieces = re.split(r"(?<=\.)(?=[^.])", chunk)
        if len(pieces) > 1:
            for head in pieces[:-1]:
                core = head.strip(".")
                if not (len(core) == 1 or _key(core) in _HONORIFICS or _key(core) in {"st", "ste"}):
                    return None  # "www.acme.com", "Jane.Doe"
        for piece in pieces:
            core = re.sub(r"-{2,}", "-", piece.strip(".")).strip("-'")
            if not core:
                continue
            if "." in core or not all(_is_name_char(c) for c in core):
                return None
            if not any(unicodedata.category(c)[0] == "L" for c in core):
                return None
            tokens.append(_Token(core, _key(core), piece.endswith(".")))
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
        if tokens[-1].key in _ROLE_WORDS:
            tokens = tokens[:-1]
        elif tokens[0].key in _ROLE_WORDS:
            tokens = tokens[1:]
        elif len(tokens) > 1 and _is_leading_honorific(tokens):
            tokens = tokens[1:]
            had_honorific = True
        elif len(tokens) > 1 and tokens[-1].key in _SUFFIXES:
            tokens = tokens[:-1]
        else:
            break
    return tokens, had_honorific


def _is_leading_honorific(tokens: Sequence[_Token]) -> bool:
    first = tokens[0]
    if first.key in _HONORIFICS:
        return True
    # French "M." (Monsieur) versus an initial: only with a dot and two full words after it, the first not a
    # particle ("M. te Ah" is the initial M. of Mr te Ah, as this module itself displays "Te Ah, M").
    second = tokens[1] if len(tokens) >= 3 else None
    return (
        first.text == "M"
        and first.dotted
        and second is not None
        and not second.is_initial
        and second.key not in _PARTICLES
    )


def _classify(text: str) -> _Segment:
    tokens = _tokenize(text)
    if tokens is None:
        return _Segment("junk", [])
    if all(t.key in _HONORIFICS or t.key in _SUFFIXES for t in tokens):
        return _Segment("empty", [])
    tokens, had_honorific = _strip_edges(tokens)
    if not tokens or all(t.key in _HONORIFICS or t.key in _SUFFIXES for t in tokens):
        return _Segment("junk", [])  # nothing but a role and a title: "CEO", "Dr. CCO"
    if any(t.key in _JUNK_WORDS for t in tokens):
        return _Segment("junk", [])
    last = tokens[-1]
    if last.key in _COMPANY_WEAK and (last.dotted or last.text.isupper()):
        return _Segment("junk", [])
    if len(tokens) > _MAX_TOKENS or _core_count(tokens) > _MAX_NAME_TOKENS:
        return _Segment("junk", [])
    return _Segment("name", tokens, had_honorific)


def _core_count(tokens: Sequence[_Token]) -> int:
    return sum(1 for t in tokens if t.key not in _PARTICLES)


# --------------------------------------------------------------------------------------------------
# Structure: which token is the given name, which the family name
# --------------------------------------------------------------------------------------------------


def _script_class(char: str) -> str:
    name = unicodedata.name(char, "")
    if name.startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH")) or char == "々":
        return "han"
    if name.startswith("HANGUL"):
        return "hangul"
    if name.startswith(("HIRAGANA", "KATAKANA")) or char == "ー":
        return "kana"
    return "other"


def _is_east_asian(text: str) -> bool:
    return bool(text) and all(_script_class(c) != "other" for c in text)


def _fold(text: str) -> str:
    return re.sub(r"[^a-z]", "", anyascii(text).lower())


def _has_vietnamese_letters(text: str) -> bool:
    for char in text.casefold():
        if char == "đ":
            return True
        marks = unicodedata.normalize("NFD", char)[1:]
        if any(m in _VN_MARKS for m in marks) or "\u0302" in marks:  # circumflex: â ê ô
            return True
        if char in "ĩũ":
            return True
    return False


def _is_vietnamese_order(tokens: Sequence[_Token]) -> bool:
    if len(tokens) < 2:
        return False
    first, last = _fold(tokens[0].text), _fold(tokens[-1].text)
    if first not in _VN_SURNAMES:
        return False
    vietnamese = any(_has_vietnamese_letters(t.text) for t in tokens) or (
        len(tokens) >= 3 and _fold(tokens[1].text) in _VN_MIDDLES
    )
    if last in _VN_SURNAMES:
        # Many given names are surnames too (Mai, Lâm, Hà, Lương): a Vietnamese name is still written
        # family-first, "Nguyễn Thị Mai", unless a minor surname precedes a major one, "Mai Nguyễn".
        return vietnamese and not (last in _VN_MAJOR_SURNAMES and first not in _VN_MAJOR_SURNAMES)
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
    if not tokens or tokens[0].is_initial or tokens[0].key in _PARTICLES:
        return 1
    for link in _GIVEN_LINKS:
        end = 1 + len(link)
        if end >= len(tokens) or tuple(t.key for t in tokens[1:end]) != link:
            continue
        if tokens[end].key not in _GIVEN_COMPLEMENTS:
            continue
        if whole or any(t.key not in _PARTICLES for t in tokens[end + 1 :]):
            return end + 1
    return 1


def _east_asian_split(word: str) -> tuple[str, str] | None:
    """(family, given) of a Chinese or Korean name written without a space; None if unsure."""
    scripts = {_script_class(c) for c in word}
    if scripts == {"hangul"} and 2 <= len(word) <= 4:
        cut = 2 if len(word) >= 3 and word[:2] in _KOREAN_SURNAMES else 1
    elif scripts == {"han"} and 2 <= len(word) <= 4:
        cut = 2 if len(word) == 4 or (len(word) == 3 and word[:2] in _HAN_COMPOUND_SURNAMES) else 1
    else:
        return None
    return word[:cut], word[cut:]


def _east_asian_parts(tokens: Sequence[_Token]) -> _Parts | None:
    if len(tokens) > 1:
        rest = "".join(t.text for t in tokens[1:])
        return _Parts(_Token(rest, _key(rest)), [], [tokens[0]], family_first=True)
    split = _east_asian_split(tokens[0].text)
    if split is None:
        return None
    family, given = split
    return _Parts(_Token(given, _key(given)), [], [_Token(family, _key(family))], family_first=True)


def _sequence_parts(tokens: Sequence[_Token]) -> _Parts:
    """Structure of a name written in one run (no comma)."""
    if all(_is_east_asian(t.text) for t in tokens):
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
        if tokens[index].key in _PARTICLES:
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


def _leading_particles(keys: Sequence[str]) -> int:
    count = 0
    while count < len(keys) - 1 and keys[count] in _PARTICLES:
        count += 1
    return count


def _finish(parts: _Parts) -> PersonName | None:
    tokens = (parts.given, *parts.given_rest, *parts.middles, *parts.family)
    if all(t.is_initial for t in tokens):
        return None  # "J." or "J. R.": nothing to build an address from
    # Judge the case on the name's words: not on a stripped "DR." or "CEO", nor on initials (always upper).
    one_case = _is_one_case(" ".join(t.text for t in tokens if not t.is_initial))
    n_particles = _leading_particles([t.key for t in parts.family])
    family = " ".join(_display(t, one_case, i < n_particles) for i, t in enumerate(parts.family))
    rest = (_display(t, one_case, t.key in _PARTICLES) for t in parts.given_rest)  # "del Carmen"
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
    if core.is_initial or core.key in _PARTICLES or any(t.key not in _PARTICLES for t in leading):
        return None
    given_side = list(given)
    # Same honorific rule as for a name in one run, where "M." counts the family name as a following word.
    while given_side and (given_side[0].key in _HONORIFICS or _is_leading_honorific([*given_side, core])):
        given_side.pop(0)
    if not given_side:
        return None
    trailing: list[_Token] = []
    while len(given_side) > 1 and given_side[-1].key in _PARTICLES:
        trailing.insert(0, given_side.pop())
    given_end = _given_length(given_side, whole=True)
    if len(given_side) - given_end > 3 or any(t.key in _PARTICLES for t in given_side[given_end:]):
        return None
    sequence = [*given_side, *trailing, *leading, core]
    if all(_is_east_asian(t.text) for t in sequence):
        given_text = "".join(t.text for t in given_side)
        return _Parts(_Token(given_text, _key(given_text)), [], [*leading, core], family_first=True)
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
    if all(_is_east_asian(t.text) for t in given_tokens + family_tokens):
        given = "".join(t.text for t in given_tokens)
        family = "".join(t.text for t in family_tokens)
        parts = _Parts(_Token(given, _key(given)), [], [_Token(family, _key(family))], family_first=True)
    else:
        given_end = _given_length(given_tokens, whole=True)
        parts = _Parts(
            given_tokens[0], given_tokens[given_end:], family_tokens, False, given_tokens[1:given_end]
        )
    return _finish(parts)


# --------------------------------------------------------------------------------------------------
# Transliteration and variants
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
    if text in _KOREAN_SURNAMES:
        conventional, raw = _KOREAN_SURNAMES[text], _ascii_only(anyascii(text))
        return ((conventional, 0), (raw, 1)) if raw and raw != conventional else ((conventional, None),)
    if any("GREEK" in unicodedata.name(c, "") for c in text):
        text = _greek_digraphs(text)
    primary: list[str] = []
    alternate: list[str] = []
    ambiguous = False
    for char in text:
        pair = _AMBIGUOUS.get(char)
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
    if any(c in _PLAIN_SIGNALS for c in folded):
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
    lead_is_particle = len(kept) > 1 and _key(kept[0][0]) in _PARTICLES
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
    n_particles = _leading_particles([_key(w) for w in words])
    particles, core = words[:n_particles], words[n_particles:]
    if len(core) == 1:
        core_forms = _word_forms(core[0].split("-"), plain_first)
    else:
        core_forms = _word_forms([p for w in core for p in w.split("-")], plain_first, spaced=True)
    tail: list[_Form] = []
    inner = next((i for i in range(1, len(core) - 1) if _key(core[i]) in _PARTICLES), None)
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
    if _is_initial_text(person.given, False) and middles and not _is_initial_text(middles[0], False):
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

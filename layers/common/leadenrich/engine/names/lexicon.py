"""Word lists of person names and the look-ups on them that parsing and spelling share.

Keys are casefolded with dots removed (``key``); diacritics are kept so that "Dáme" is not "dame".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

HONORIFICS = frozenset(
    {
        "mr", "mrs", "ms", "miss", "mx", "mister", "madam", "madame", "dr", "drs", "dra", "doc", "prof",
        "professor", "sir", "dame", "lord", "lady", "herr", "frau", "hr", "fr", "mme", "mlle", "monsieur",
        "mademoiselle", "sr", "sra", "srta", "señor", "señora", "senor", "senora", "sig", "sigra", "signor",
        "signora", "dott", "dottssa", "dottor", "ing", "avv", "arch", "geom", "rag", "mag", "dipl-ing",
        "dr-ing", "univ-prof", "eng", "hon", "rev", "revd", "capt", "col", "lt", "maj", "sgt", "adm",
        "cmdr", "dhr", "mevr", "sheikh", "sheikha", "shaikh", "hrh", "shri", "sri", "smt",
    }
)  # fmt: skip

SUFFIXES = frozenset(
    {
        "jr", "jnr", "junior", "sr", "snr", "senior", "ii", "iii", "iv", "phd", "md", "mba", "cpa", "esq",
        "esquire", "dds", "dmd", "dvm", "jd", "llm", "lld", "msc", "mphil", "dphil", "mph", "mpa", "bsc",
        "rn", "cfa", "cfp", "pe", "pmp", "frcs", "frcp", "obe", "mbe", "cbe", "kbe", "dbe", "qc", "kc",
        "facs", "edd", "psyd", "dsc", "mbbs", "mfa", "cissp", "cisa", "acca", "fca", "aca", "ret", "hons",
    }
)  # fmt: skip

PARTICLES = frozenset(
    {
        "van", "von", "der", "den", "dem", "de", "del", "della", "delle", "dello", "degli", "dei", "di",
        "da", "das", "dos", "do", "du", "des", "la", "las", "los", "le", "lo", "ter", "ten", "te", "'t",
        "bin", "bint", "binti", "ibn", "al", "el", "af", "av", "zu", "vom", "zum", "zur", "st", "ste",
        "saint", "sainte",
    }
)  # fmt: skip

ROLE_WORDS = frozenset(
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
COMPANY_WEAK = frozenset(
    {"ag", "sa", "bv", "nv", "ab", "as", "oy", "oyj", "kg", "se", "co", "sas", "sl", "kk", "ug", "asa", "aps"}
)

JUNK_WORDS = _STOPWORDS | _PLACEHOLDERS | _COMPANY_WORDS | ROLE_WORDS

VN_SURNAMES = frozenset(
    {
        "nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui", "do", "ho",
        "ngo", "duong", "ly", "dinh", "truong", "doan", "lam", "luong", "trinh", "mai", "cao", "ta", "luu",
        "quach", "thai", "ha", "kieu", "vuong", "tong", "chu",
    }
)  # fmt: skip
# The surnames most Vietnamese carry, which are rarely given names: "Mai Nguyễn" is given-first.
VN_MAJOR_SURNAMES = frozenset(
    {"nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui", "do", "ho", "ngo",
     "duong", "ly"}
)  # fmt: skip
VN_MIDDLES = frozenset(
    {"van", "thi", "duc", "huu", "minh", "ngoc", "thanh", "quoc", "cong", "xuan", "dinh", "anh", "thu",
     "kim", "hong", "trung", "tuan", "quang", "hai"}
)  # fmt: skip
VN_MARKS = frozenset({"\u0323", "\u0309", "\u031b", "\u0306"})  # dot below, hook above, horn, breve

# Devotional complements of Spanish and Portuguese given names: "María del Carmen", "José de Jesús",
# "Maria das Graças". Followed by more words, "del Carmen" is part of the given name; at the end of a name
# it is a family name as usual. Words that are as often surnames ("de la Cruz", "dos Santos", "del Río",
# "del Valle", "dos Anjos", "de la Fuente") are left out on purpose: they stay in the family name.
GIVEN_COMPLEMENTS = frozenset(
    {
        "carmen", "carmo", "pilar", "rosario", "rosário", "mar", "rocío", "rocio", "ángeles", "angeles",
        "jesús", "jesus", "luz", "paz", "fátima", "fatima", "lourdes", "guadalupe", "socorro",
        "consuelo", "dolores", "dores", "mercedes", "montserrat", "remedios", "asunción", "asuncion",
        "assunção", "concepción", "concepcion", "conceição", "conceicao", "nieves", "neves", "soledad",
        "milagros", "amparo", "graças", "gracas", "glória", "gloria", "penha", "piedade", "natividade",
        "belén", "belen", "begoña", "begona", "covadonga", "loreto", "salud",
    }
)  # fmt: skip
GIVEN_LINKS = (
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

KOREAN_SURNAMES = {
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
AMBIGUOUS = {"ä": ("a", "ae"), "ö": ("o", "oe"), "ü": ("u", "ue"), "ø": ("o", "oe"), "å": ("a", "aa")}
PLAIN_SIGNALS = frozenset("åøæðþşğıőűõñáíóúãç")

# --------------------------------------------------------------------------------------------------
# Look-ups shared by parsing and spelling
# --------------------------------------------------------------------------------------------------


def key(text: str) -> str:
    """The form a word is looked up in the lists by."""
    return text.casefold().replace(".", "")


def is_initial_text(text: str, dotted: bool) -> bool:
    core = text.rstrip(".")
    if len(core) != 1 or not core.isalpha():
        return False
    return dotted or text.endswith(".") or core.upper() != core.lower()


def _script_class(char: str) -> str:
    name = unicodedata.name(char, "")
    if name.startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH")) or char == "々":
        return "han"
    if name.startswith("HANGUL"):
        return "hangul"
    if name.startswith(("HIRAGANA", "KATAKANA")) or char == "ー":
        return "kana"
    return "other"


def is_east_asian(text: str) -> bool:
    return bool(text) and all(_script_class(c) != "other" for c in text)


def east_asian_split(word: str) -> tuple[str, str] | None:
    """(family, given) of a Chinese or Korean name written without a space; None if unsure."""
    scripts = {_script_class(c) for c in word}
    if scripts == {"hangul"} and 2 <= len(word) <= 4:
        cut = 2 if len(word) >= 3 and word[:2] in KOREAN_SURNAMES else 1
    elif scripts == {"han"} and 2 <= len(word) <= 4:
        cut = 2 if len(word) == 4 or (len(word) == 3 and word[:2] in _HAN_COMPOUND_SURNAMES) else 1
    else:
        return None
    return word[:cut], word[cut:]


def leading_particles(keys: Sequence[str]) -> int:
    """How many particles open a family name ("van der Berg": 2); the last word is never one."""
    count = 0
    while count < len(keys) - 1 and keys[count] in PARTICLES:
        count += 1
    return count

"""Name pools per culture and how a company spells a person's name into a mailbox.

Realism choices:
- Cultures follow the domain's TLD (.de German, .fr French, .nl Dutch, .es Spanish, .co.uk British, .com
  mostly American); a fifth of the staff of English-speaking and German companies come from an
  international pool (Indian, Chinese, Polish, Turkish, Italian, Nordic ... names), as in real teams.
- Tricky names come from the pools at their natural rate rather than being sprinkled in: German umlauts
  and ß, French accents and compound first names (Jean-Pierre), Dutch particles (van der, de), Spanish
  double surnames and ñ, Irish apostrophes (O'Brien), British double-barrelled names, plus ~1% single
  names (mononyms) and middle names for ~8% of English-speaking people.
- Spelling into addresses is a company habit (`Spelling`): German companies mostly expand umlauts
  (Müller -> mueller), everyone else strips them (muller); particles are mostly joined (vanderberg), some
  companies drop them (berg); hyphens are mostly kept; Spanish companies use the first surname only.
- Address formats are drawn with frequencies close to published pattern studies: first.last dominates
  (~45%), then flast, first, firstlast, f.last; German companies lean to f.last and last.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

from anyascii import anyascii

Culture = Literal["us", "uk", "de", "fr", "nl", "es", "intl"]
Gender = Literal["m", "f"]


def _pool(names: str) -> tuple[str, ...]:
    """Pools are written as "|"-separated strings: compact, and names may contain spaces."""
    return tuple(names.split("|"))


FIRST_NAMES: dict[str, dict[Gender, tuple[str, ...]]] = {
    "us": {
        "m": _pool(
            "James|Michael|David|Daniel|Christopher|Matthew|Andrew|Joshua|Ryan|Brian|Kevin|Jason|Eric|"
            "Tyler|Nathan|Ethan|Noah|Marcus|Robert|John|Steven|Aaron"
        ),
        "f": _pool(
            "Jennifer|Jessica|Sarah|Emily|Ashley|Megan|Rachel|Lauren|Olivia|Emma|Hannah|Madison|Chloe|"
            "Grace|Natalie|Sophia|Mary Ann|Kimberly|Amanda|Brittany"
        ),
    },
    "uk": {
        "m": _pool(
            "Oliver|George|Harry|Jack|Charlie|Thomas|William|James|Alfie|Callum|Rhys|Owen|Liam|Declan|"
            "Edward|Samuel"
        ),
        "f": _pool(
            "Amelia|Isla|Poppy|Sophie|Charlotte|Lucy|Eleanor|Freya|Imogen|Siobhan|Niamh|Aoife|Zoë|"
            "Harriet|Georgia"
        ),
    },
    "de": {
        "m": _pool(
            "Jürgen|Jörg|Stefan|Michael|Thomas|Andreas|Markus|Matthias|Florian|Tobias|Lukas|Jonas|"
            "Maximilian|Sebastian|Björn|Uwe|Klaus-Dieter|Hans-Peter|Dirk|Frank"
        ),
        "f": _pool(
            "Julia|Anna|Lena|Katharina|Sabine|Petra|Claudia|Jana|Sophie|Marie|Laura|Ann-Kathrin|Käthe|"
            "Anna-Lena|Birgit|Ute|Jülide"
        ),
    },
    "fr": {
        "m": _pool(
            "Jean|Pierre|Jean-Pierre|François|Jérôme|Julien|Nicolas|Sébastien|Antoine|Mathieu|Thomas|"
            "Hugo|Lucas|Théo|Benoît|Gaël|Jean-Baptiste"
        ),
        "f": _pool(
            "Marie|Sophie|Camille|Hélène|Céline|Émilie|Chloé|Léa|Manon|Élodie|Anne-Sophie|Margaux|"
            "Inès|Zoé|Clémence|Aurélie"
        ),
    },
    "nl": {
        "m": _pool("Jan|Pieter|Daan|Sem|Bram|Thijs|Lars|Ruben|Joost|Sjoerd|Maarten|Wouter|Bas|Jeroen|Koen"),
        "f": _pool("Emma|Sanne|Lotte|Anouk|Fleur|Femke|Eva|Iris|Noor|Marieke|Inge|Floor|Lieke"),
    },
    "es": {
        "m": _pool(
            "José|Antonio|Manuel|Francisco|David|Javier|Daniel|Carlos|Jesús|Alejandro|Miguel|Rafael|"
            "Pablo|Álvaro|Sergio|Iñaki|José Luis"
        ),
        "f": _pool(
            "María|Carmen|Ana|Laura|Lucía|Marta|Cristina|Paula|Elena|Sofía|Raquel|Nuria|Begoña|María José"
        ),
    },
}

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "us": _pool(
        "Smith|Johnson|Williams|Brown|Jones|Miller|Davis|Wilson|Anderson|Taylor|Thomas|Moore|"
        "Martin|Jackson|Thompson|White|Harris|Clark|Lewis|Robinson|Walker|Young|Allen|King|Wright|"
        "Scott|Green|Baker|Adams|Nelson|Carter|Mitchell|O'Connor|O'Neill|McDonald|Reyes|Nguyen|"
        "Kim|Garcia|Sullivan|Bennett|Brooks"
    ),
    "uk": _pool(
        "Smith|Jones|Taylor|Brown|Williams|Wilson|Evans|Davies|Thomas|Roberts|Walker|Wright|"
        "Robinson|Thompson|Hughes|Edwards|Green|Hall|Wood|Harris|Clarke|Lewis|Patel|Khan|O'Brien|"
        "O'Sullivan|McAllister|Fitzgerald|Smith-Jones|Hart-Lewis|Ashworth|Pemberton|Bowen|Lloyd"
    ),
    "de": _pool(
        "Müller|Schmidt|Schneider|Fischer|Weber|Meyer|Wagner|Becker|Schulz|Hoffmann|Schäfer|Koch|"
        "Bauer|Richter|Klein|Wolf|Schröder|Neumann|Schwarz|Zimmermann|Braun|Krüger|Hofmann|"
        "Hartmann|Lange|Schmitt|Werner|Krause|Meier|Lehmann|Köhler|Weiß|Groß|Jäger|Böhm|von Ahlen|"
        "Bäumer|Özdemir|Yılmaz|Müller-Lüdenscheidt"
    ),
    "fr": _pool(
        "Martin|Bernard|Dubois|Thomas|Robert|Richard|Petit|Durand|Leroy|Moreau|Simon|Laurent|"
        "Lefèvre|Michel|Garcia|David|Bertrand|Roux|Fournier|Girard|Bonnet|Dupont|Lambert|Fontaine|"
        "Rousseau|Blanc|Guérin|Faure|André|Mercier|de la Fontaine|Le Gall|D'Almeida|"
        "Dupont-Moretti|Ben Saïd|Chevalier|Gauthier"
    ),
    "nl": _pool(
        "de Jong|Jansen|de Vries|van den Berg|van Dijk|Bakker|Janssen|Visser|Smit|Meijer|de Boer|"
        "Mulder|de Groot|Bos|Vos|Peters|Hendriks|van Leeuwen|Dekker|Brouwer|de Wit|Dijkstra|Smits|"
        "de Graaf|van der Meer|van der Linden|Kok|Jacobs|de Haan|Vermeulen|van der Berg|Schouten|"
        "van Beek|IJzerman"
    ),
    "es": _pool(
        "García|Rodríguez|González|Fernández|López|Martínez|Sánchez|Pérez|Gómez|Martín|Jiménez|"
        "Ruiz|Hernández|Díaz|Moreno|Muñoz|Álvarez|Romero|Alonso|Gutiérrez|Navarro|Torres|"
        "Domínguez|Vázquez|Ramos|Gil|Ramírez|Serrano|Blanco|Molina|Núñez|Peña|Ibáñez|de la Cruz"
    ),
}

# International staff by origin: (male first names, female first names, last names), so that a person's
# first and last name come from the same tradition.
INTL_ORIGINS: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (_pool("Rahul|Arjun|Vikram|Rohan"), _pool("Priya|Ananya|Divya"), _pool("Sharma|Gupta|Singh|Iyer|Nair")),
    (_pool("Wei|Hao|Jun"), _pool("Mei|Xiaoling|Yan"), _pool("Wang|Li|Zhang|Chen|Liu")),
    (_pool("Hiroshi|Kenji|Takumi"), _pool("Yuki|Haruka|Aiko"), _pool("Tanaka|Suzuki|Nakamura|Sato")),
    (_pool("Ahmed|Mohammed|Omar"), _pool("Fatima|Aisha|Layla"), _pool("Hassan|Ali|Haddad|El Amrani")),
    (_pool("Łukasz|Piotr|Tomasz"), _pool("Katarzyna|Agnieszka|Zofia"), _pool("Kowalski|Nowak|Wiśniewski")),
    (_pool("Søren|Björn|Mikkel"), _pool("Ingrid|Astrid|Sofie"), _pool("Jørgensen|Andersson|Nyström")),
    (_pool("Marco|Luca|Matteo"), _pool("Giulia|Chiara|Francesca"), _pool("Rossi|De Luca|Bianchi|Ferrari")),
    (_pool("João|Tiago|Rui"), _pool("Ana Luísa|Inês|Beatriz"), _pool("Silva|Gonçalves|Conceição")),
    (_pool("Chinedu|Emeka|Tunde"), _pool("Ngozi|Adaeze|Funmi"), _pool("Okafor|Adeyemi|Nwosu")),
    (_pool("Emre|Mehmet|Can"), _pool("Elif|Zeynep|Ayşe"), _pool("Demir|Kaya|Yıldız|Şahin")),
    (_pool("Dmitri|Sergei|Andrei"), _pool("Olga|Natalia|Irina"), _pool("Ivanov|Petrov|Smirnov")),
)

# People known by one name only; rendered with `{first}` whatever the company pattern says.
MONONYMS: tuple[str, ...] = _pool("Suharti|Wahyudi|Budiono|Sukarni|Teguh|Marlina")

PARTICLES = frozenset(
    {"van", "der", "den", "de", "von", "zu", "ten", "ter", "la", "del", "da", "di", "dos", "du", "des", "vom"}
)

# Hunter-style address formats with their approximate frequencies.
PATTERN_WEIGHTS: dict[str, float] = {
    "{first}.{last}": 45.0,
    "{f}{last}": 16.0,
    "{first}": 10.0,
    "{first}{last}": 7.0,
    "{f}.{last}": 6.0,
    "{first}{l}": 3.0,
    "{last}": 3.0,
    "{first}_{last}": 2.0,
    "{last}.{first}": 2.0,
    "{first}-{last}": 2.0,
    "{last}{f}": 2.0,
    "{first}.{l}": 1.5,
    "{f}{l}": 0.5,
}
_CULTURE_PATTERN_BIAS: dict[str, dict[str, float]] = {
    "de": {"{f}.{last}": 3.0, "{last}": 2.0, "{first}": 0.6},
    "fr": {"{first}.{last}": 1.4, "{f}{last}": 0.7},
    "nl": {"{f}.{last}": 2.0, "{first}": 1.3},
    "uk": {"{first}.{last}": 1.2},
}


@dataclass(frozen=True)
class Spelling:
    """How one company writes names into addresses (see the module docstring for the shares)."""

    umlauts: Literal["expand", "strip"] = "strip"
    particles: Literal["join", "drop"] = "join"
    hyphens: Literal["keep", "drop"] = "keep"
    surnames: Literal["all", "first"] = "all"


# What Hunter's own guesses use when it does not know a company's habits.
HUNTER_SPELLING = Spelling()

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
_NOT_LOCAL = re.compile(r"[^a-z0-9-]")


def draw_name(rng: random.Random, culture: Culture, gender: Gender) -> tuple[str, str]:
    """First and last name from one tradition; "intl" picks an origin first."""
    if culture == "intl":
        male, female, last_names = rng.choice(INTL_ORIGINS)
        return rng.choice(female if gender == "f" else male), rng.choice(last_names)
    return rng.choice(FIRST_NAMES[culture][gender]), rng.choice(LAST_NAMES[culture])


def draw_spelling(rng: random.Random, culture: str) -> Spelling:
    umlauts: Literal["expand", "strip"] = "expand" if culture == "de" and rng.random() < 0.85 else "strip"
    particles: Literal["join", "drop"] = "drop" if rng.random() < 0.2 else "join"
    hyphens: Literal["keep", "drop"] = "drop" if rng.random() < 0.3 else "keep"
    surnames: Literal["all", "first"] = "first" if culture == "es" else "all"
    return Spelling(umlauts, particles, hyphens, surnames)


def draw_pattern(rng: random.Random, culture: str, exclude: str | None = None) -> str:
    bias = _CULTURE_PATTERN_BIAS.get(culture, {})
    options = [p for p in PATTERN_WEIGHTS if p != exclude]
    weights = [PATTERN_WEIGHTS[p] * bias.get(p, 1.0) for p in options]
    return rng.choices(options, weights)[0]


def fold(text: str, spelling: Spelling = HUNTER_SPELLING) -> str:
    """ASCII lower-case form of a name fragment, the way `spelling` writes it."""
    if spelling.umlauts == "expand":
        text = text.translate(_UMLAUTS)
    return anyascii(text).lower()


def _name_part(text: str, spelling: Spelling, *, is_last: bool) -> str:
    words = text.replace("’", "'").split()
    if is_last and words:
        prefix: list[str] = []
        while len(words) > 1 and words[0].lower() in PARTICLES:
            prefix.append(words.pop(0))
        if spelling.surnames == "first" and len(words) >= 2:
            words = words[:1]
        if spelling.particles == "join":
            words = prefix + words
    joined = fold("".join(words), spelling).replace("'", "")
    if spelling.hyphens == "drop":
        joined = joined.replace("-", "")
    return _NOT_LOCAL.sub("", joined).strip("-")


def render_local(pattern: str, first_name: str, last_name: str, spelling: Spelling) -> str:
    """The local part of an address from a Hunter-style pattern; mononyms fall back to `{first}`."""
    first = _name_part(first_name, spelling, is_last=False)
    last = _name_part(last_name, spelling, is_last=True)
    if not last and ("{last}" in pattern or "{l}" in pattern):
        pattern = "{first}"
    if not first and ("{first}" in pattern or "{f}" in pattern):
        pattern = "{last}"
    return (
        pattern.replace("{first}", first)
        .replace("{last}", last)
        .replace("{f}", first[:1])
        .replace("{l}", last[:1])
    )


def match_key(text: str) -> str:
    """A spelling-insensitive key for comparing names: case, diacritics, ue/ü, particles, punctuation."""
    words = [w for w in anyascii(text.replace("’", "'")).lower().replace("-", " ").split()]
    core = [w for w in words if w not in PARTICLES] or words
    key = re.sub(r"[^a-z]", "", "".join(core))
    for digraph, vowel in (("ae", "a"), ("oe", "o"), ("ue", "u"), ("ss", "s")):
        key = key.replace(digraph, vowel)
    return key


def surname_keys(text: str) -> set[str]:
    """Ways a surname may be written: without particles (Berg), joined (vanderberg), first or last of a
    double surname (García López -> garcia, lopez)."""
    core = [w for w in text.split() if w.lower() not in PARTICLES]
    keys = {match_key(text), re.sub(r"[^a-z]", "", anyascii(text).lower())}
    if len(core) > 1:
        keys |= {match_key(core[0]), match_key(core[-1])}
    return {key for key in keys if key}


def slug(text: str) -> str:
    """URL slug of a display string ("Hélène de la Fontaine" -> "helene-de-la-fontaine")."""
    return re.sub(r"[^a-z0-9]+", "-", anyascii(text).lower()).strip("-")

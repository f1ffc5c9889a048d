"""Generation of one synthetic company: staff, real mailboxes and what Hunter has indexed about them.

Kind shares (of generated companies; documented in world.py too):
  indexed 42%       decision-makers are in Hunter's Domain Search
  dm_unindexed 20%  Hunter lists only junior staff (70%) or nobody (30%); the web knows the leader
  accept_all 15%    the mail server accepts every address; Hunter indexes the leader 65% of the time
  unknown 10%       Hunter has no rows and no pattern, yet the mailboxes exist
  generic_only 8%   Hunter knows only role addresses; half of these shops have no personal mailboxes
  no_mx 5%          the domain has no MX record: no mailbox exists at all

Other realism choices:
- Size: 50% small (2-8 staff), 35% medium (9-30), 15% larger (31-90); one to five decision-makers.
- 4% of staff do not follow the company pattern (a founder on first@, an odd legacy format), plus every
  name collision ("john.smith2"). 10% of companies have a former top executive and 4% of the staff have
  left; Hunter still lists such stale people 80% of the time (50% where it lists only juniors).
- 1.5% of people opted out of Hunter (claimed: 451 everywhere, absent from Domain Search).
- Hunter rows: confidence mostly 85-99, 8% low (30-69); 12% lack a position; 35% have a verification
  from the last 30 days (Domain Search shows only those), 25% an older one, 40% none. The pattern is
  known for 92% of indexed companies, 85% of accept-all ones, and 85% of those listing only juniors.
- Email Finder's own pattern + SMTP probe finds 85% of the non-indexed people who follow the pattern.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from enrich_tools.simulator.brands import TLD_COUNTRY, TLD_CULTURE, draw_brand, draw_tld
from enrich_tools.simulator.entities import Company, Kind, Person
from enrich_tools.simulator.knowledge import build_knowledge
from enrich_tools.simulator.names import (
    FIRST_NAMES,
    LAST_NAMES,
    MONONYMS,
    Culture,
    Gender,
    Spelling,
    draw_name,
    draw_pattern,
    draw_spelling,
    render_local,
    slug,
)
from enrich_tools.simulator.roles import (
    JUNIOR_ROLES,
    OTHER_DM_ROLES,
    SENIOR_ROLES,
    TOP_ROLES,
    Language,
    Role,
    pick_role,
)

KIND_SHARES: dict[Kind, float] = {
    "indexed": 0.42,
    "dm_unindexed": 0.20,
    "accept_all": 0.15,
    "unknown": 0.10,
    "generic_only": 0.08,
    "no_mx": 0.05,
}
GENERIC_LOCALS: dict[str, tuple[str, ...]] = {
    "en": ("info", "contact", "hello", "sales", "support", "office", "team"),
    "de": ("info", "kontakt", "office", "vertrieb", "service"),
    "fr": ("contact", "info", "commercial", "bonjour"),
    "nl": ("info", "contact", "verkoop", "service"),
    "es": ("info", "contacto", "hola", "ventas"),
}
RECENT_VERIFICATION_DAYS = 30
# .io startups are founded anywhere.
_STARTUP_CULTURES: tuple[Culture, ...] = ("us", "uk", "de", "fr", "nl")


@dataclass(frozen=True)
class StaffSlot:
    """A role to fill; `main` marks the top person, `left` a stale former holder."""

    role: Role
    main: bool = False
    left: bool = False


def draw_kind(rng: random.Random) -> Kind:
    return rng.choices(list(KIND_SHARES), list(KIND_SHARES.values()))[0]


def generate_company(rng: random.Random, *, as_of: date, taken: set[str], wrong_share: float) -> Company:
    kind = draw_kind(rng)
    tld = draw_tld(rng)
    culture: Culture = TLD_CULTURE[tld] if tld in TLD_CULTURE else rng.choice(_STARTUP_CULTURES)
    language: Language = "en"
    if culture in ("de", "fr", "nl", "es") and tld != ".io" and rng.random() < 0.55:
        language = culture
    name, domain = draw_brand(rng, tld, culture, taken)
    spelling = draw_spelling(rng, culture)
    pattern = draw_pattern(rng, culture)
    has_mx = kind != "no_mx"
    personal_mailboxes = has_mx and not (kind == "generic_only" and rng.random() < 0.5)
    juniors_indexed = rng.random() < 0.7
    slots = staff_slots(rng, language)
    people = build_people(
        rng,
        slots,
        domain=domain,
        culture=culture,
        pattern=pattern,
        spelling=spelling,
        kind=kind,
        as_of=as_of,
        personal_mailboxes=personal_mailboxes,
        juniors_indexed=juniors_indexed,
    )
    answers, pages = build_knowledge(
        rng,
        domain=domain,
        company_name=name,
        culture=culture,
        kind=kind,
        people=people,
        as_of=as_of,
        wrong_share=wrong_share,
    )
    return Company(
        domain=domain,
        name=name,
        kind=kind,
        country=TLD_COUNTRY.get(tld, rng.choice(("US", "GB", "DE", "FR", "NL"))),
        culture=culture,
        pattern=pattern,
        pattern_known_to_hunter=_pattern_known(rng, kind, people),
        accept_all=kind == "accept_all",
        has_mx=has_mx,
        people=tuple(people),
        generic_mailboxes=_generic_mailboxes(rng, domain, language, kind),
        transliteration=spelling,
        perplexity=answers,
        search_pages=pages,
    )


def staff_slots(rng: random.Random, language: Language) -> list[StaffSlot]:
    tier = rng.random()
    if tier < 0.50:
        size, dms = rng.randint(2, 8), 1 + (rng.random() < 0.35)
    elif tier < 0.85:
        size, dms = rng.randint(9, 30), 1 + rng.randint(1, 2)
    else:
        size, dms = rng.randint(31, 90), 1 + rng.randint(2, 4)
    slots = [StaffSlot(pick_role(rng, TOP_ROLES, language), main=True)]
    slots += [StaffSlot(pick_role(rng, OTHER_DM_ROLES, language)) for _ in range(min(dms, size) - 1)]
    for _ in range(size - len(slots)):
        table = SENIOR_ROLES if rng.random() < 0.25 else JUNIOR_ROLES
        slots.append(StaffSlot(pick_role(rng, table, language)))
    if rng.random() < 0.10:
        slots.append(StaffSlot(pick_role(rng, TOP_ROLES, language), left=True))
    for slot in list(slots[dms:]):
        if rng.random() < 0.04:
            slots.append(StaffSlot(slot.role, left=True))
    return slots


def build_people(
    rng: random.Random,
    slots: list[StaffSlot],
    *,
    domain: str,
    culture: Culture,
    pattern: str,
    spelling: Spelling,
    kind: Kind,
    as_of: date,
    personal_mailboxes: bool,
    juniors_indexed: bool,
) -> list[Person]:
    used: set[str] = set()
    people = []
    for slot in slots:
        gender: Gender = rng.choice(("m", "f"))
        origin: Culture = culture if rng.random() < 0.8 else "intl"
        first, last, middle = _draw_name(rng, origin, gender)
        follows = rng.random() >= 0.04
        own_pattern = pattern if follows else draw_pattern(rng, culture, exclude=pattern)
        local = render_local(own_pattern, first, last, spelling)
        local, collided = _free_local(local, used)
        email = f"{local}@{domain}" if personal_mailboxes else None
        people.append(
            make_person(
                rng,
                slot,
                first=first,
                last=last,
                middle=middle,
                gender=gender,
                email=email,
                follows=follows and not collided,
                indexed_odds=_indexed_odds(kind, slot, juniors_indexed) if email else 0.0,
                accept_all=kind == "accept_all",
                as_of=as_of,
            )
        )
    return people


def make_person(
    rng: random.Random,
    slot: StaffSlot,
    *,
    first: str,
    last: str,
    middle: str | None,
    gender: Gender,
    email: str | None,
    follows: bool,
    indexed_odds: float,
    accept_all: bool,
    as_of: date,
) -> Person:
    """One person; draws Hunter's view of them (indexing, confidence, verification) from `rng`."""
    indexed = rng.random() < indexed_odds
    claimed = email is not None and not slot.left and rng.random() < 0.015
    confidence = _confidence(rng, follows, slot.left) if indexed else 0
    verified_on = _verified_on(rng, slot.left, as_of) if indexed else None
    findable = follows and not accept_all and rng.random() < 0.85
    has_position = rng.random() < 0.88
    linkedin = None
    if rng.random() < 0.55:
        linkedin = f"https://www.linkedin.com/in/{slug(f'{first} {last}')}-{rng.getrandbits(16):04x}"
    return Person(
        first_name=first,
        last_name=last,
        position=slot.role.for_gender(gender),
        seniority=slot.role.seniority,
        department=slot.role.department,
        email=email,
        is_decision_maker=slot.role.decision_maker,
        indexed_by_hunter=indexed,
        hunter_confidence=confidence,
        hunter_verified_on=verified_on,
        claimed=claimed,
        left_company=slot.left,
        middle_name=middle,
        gender=gender,
        follows_pattern=follows,
        findable_by_hunter=findable,
        hunter_has_position=has_position,
        linkedin_url=linkedin,
    )


def _draw_name(rng: random.Random, culture: Culture, gender: Gender) -> tuple[str, str, str | None]:
    first, last = draw_name(rng, culture, gender)
    if rng.random() < 0.01:
        return rng.choice(MONONYMS), "", None
    if culture == "es" and rng.random() < 0.6:
        last = f"{last} {rng.choice(LAST_NAMES['es'])}"
    middle = None
    if culture in ("us", "uk") and rng.random() < 0.08:
        middle = rng.choice([n for n in FIRST_NAMES[culture][gender] if n != first and " " not in n])
    return first, last, middle


def _free_local(local: str, used: set[str]) -> tuple[str, bool]:
    candidate, n = local, 1
    while candidate in used:
        n += 1
        candidate = f"{local}{n}"
    used.add(candidate)
    return candidate, n > 1


def _indexed_odds(kind: Kind, slot: StaffSlot, juniors_indexed: bool) -> float:
    if kind == "indexed":
        return 0.8 if slot.left else 1.0 if slot.main else 0.7 if slot.role.decision_maker else 0.55
    if kind == "accept_all":
        return 0.7 if slot.left else 0.65 if slot.main else 0.5
    if kind == "dm_unindexed" and juniors_indexed and slot.role.seniority == "junior":
        return 0.5
    return 0.0


def _confidence(rng: random.Random, follows: bool, left: bool) -> int:
    if left:
        return rng.randint(40, 88)
    if not follows:
        return rng.randint(55, 95)
    draw = rng.random()
    return rng.randint(85, 99) if draw < 0.80 else rng.randint(70, 84) if draw < 0.92 else rng.randint(30, 69)


def _verified_on(rng: random.Random, left: bool, as_of: date) -> date | None:
    draw = rng.random()
    if left:
        return as_of - timedelta(days=rng.randint(120, 700)) if draw < 0.5 else None
    if draw < 0.35:
        return as_of - timedelta(days=rng.randint(0, RECENT_VERIFICATION_DAYS - 1))
    if draw < 0.60:
        return as_of - timedelta(days=rng.randint(RECENT_VERIFICATION_DAYS + 1, 400))
    return None


def _pattern_known(rng: random.Random, kind: Kind, people: list[Person]) -> bool:
    draw = rng.random()
    if kind == "indexed":
        return draw < 0.92
    if kind == "accept_all":
        return draw < 0.85
    if kind == "dm_unindexed":
        evidence = any(p.indexed_by_hunter and p.follows_pattern and not p.left_company for p in people)
        return evidence and draw < 0.85
    return False


def _generic_mailboxes(rng: random.Random, domain: str, language: Language, kind: Kind) -> tuple[str, ...]:
    if kind == "no_mx":
        return ()
    options = GENERIC_LOCALS.get(language, GENERIC_LOCALS["en"])
    count = 1 + (rng.random() < 0.5) + (rng.random() < 0.2)
    weights = [4.0, 3.0] + [1.0] * (len(options) - 2)
    chosen: list[str] = []
    while len(chosen) < count:
        local = rng.choices(options, weights)[0]
        if local not in chosen:
            chosen.append(local)
    return tuple(f"{local}@{domain}" for local in chosen)

"""What of a stored row is an erased person's: the pure rules every eraser applies to its rows
(docs/privacy.md, "Erasure"), so the DynamoDB, SQLite and Supabase adapters cannot disagree about what an
erasure removes.

A `Subject` is what one erasure looks for: addresses, people (first and last name at a domain), whole
domains, and stored leads (by id or external id) whose rows are erased whatever they hold. Names are
compared as `name_key` has them (case, accents, punctuation and spacing ignored: `O'Brien` is `o brien`),
domains as `normalize_domain` has them.

Rows, and what an erasure does to each:

- a job item is the subject's *whole* when its lead is (the address it verifies, the named person, a
  stored lead or external id asked for, a lead at an erased domain): the lead keeps only its domain (and
  company name, unless the domain is erased), its result loses every address and its external id; any
  other item loses the result addresses that are the subject's (the address, or an entry naming the
  person). Either way the item keeps its status, so its job's counters stay true, and its reason becomes
  `erased` (a reason can name the person: "Ada Lovelace not found at acme.com");
- a cached provider answer keyed by the person or the address (finder, verifier, "nothing found",
  `POST /enrich`'s person profile) is deleted; one that lists them among others (a domain search,
  Perplexity's decision-makers) is rewritten without them; an answer about an erased domain is deleted;
- anything else (a webhook record) is deleted when its text mentions the subject (`Subject.mentions`).

`item_links` and `cache_links` are what a row tells about the subject beyond what was asked: the name of
the person an address belongs to, the addresses of a named person or of a stored lead. The erasure service
gathers them once before erasing (`leadenrich.privacy.erasure`), so an erasure by address also suppresses
the person, and one by lead also erases the lead's address where another row holds it.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from leadenrich.engine.domains import DomainError, normalize_domain
from leadenrich.jobs.models import ReviewState
from leadenrich.privacy.review import PENDING_KEY

ERASED = "erased"  # an erased item's reason; the suppression entries' reason has the same name
NAMED_PERSON = "named_person"  # `engine.models.Contact`: the address is the lead's named person's
PERSONAL_LEAD_FIELDS = ("first_name", "last_name", "external_id", "email")


def name_key(text: str) -> str:
    """A name as compared: accents dropped, case folded, anything but letters and digits a single space."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())


def host(domain: str) -> str:
    """A domain as compared (`normalize_domain`), or as written, lower-cased, when it is not a domain."""
    try:
        return normalize_domain(domain)
    except DomainError:
        return domain.strip().lower()


def domain_of(email: str) -> str:
    return host(email.rpartition("@")[2])


@dataclass(frozen=True)
class Person:
    """A person at a domain, compared on `name_key`s; `first` and `last` as found (for the suppression
    entry's identity), never compared."""

    first_key: str
    last_key: str
    domain: str
    first: str = field(compare=False)
    last: str = field(compare=False)

    @classmethod
    def of(cls, first: object, last: object, domain: object) -> Person | None:
        """None unless both names and the domain are non-empty text."""
        if not (isinstance(first, str) and isinstance(last, str) and isinstance(domain, str)):
            return None
        first_key, last_key, where = name_key(first), name_key(last), host(domain)
        if not first_key or not last_key or not where:
            return None
        return cls(first_key, last_key, where, first.strip(), last.strip())

    @classmethod
    def named(cls, full_name: object, domain: str) -> Person | None:
        """A full name as one string (`Pieter van der Berg`): its first word, and the rest as last name."""
        if not isinstance(full_name, str):
            return None
        first, _, last = full_name.strip().partition(" ")
        return cls.of(first, last, domain)

    @property
    def full_key(self) -> str:
        return f"{self.first_key} {self.last_key}"


@dataclass(frozen=True)
class Subject:
    """What one erasure looks for (see the module docstring). Addresses lower-case, domains normalised."""

    addresses: frozenset[str] = frozenset()
    people: frozenset[Person] = frozenset()
    domains: frozenset[str] = frozenset()
    lead_ids: frozenset[str] = frozenset()
    external_ids: frozenset[str] = frozenset()

    def __or__(self, other: Subject) -> Subject:
        return Subject(
            self.addresses | other.addresses,
            self.people | other.people,
            self.domains | other.domains,
            self.lead_ids | other.lead_ids,
            self.external_ids | other.external_ids,
        )

    @property
    def empty(self) -> bool:
        return not (self.addresses or self.people or self.domains or self.lead_ids or self.external_ids)

    def patterns(self) -> list[str]:
        """Lower-case texts one of which every row about the subject holds: its domains (an address, a
        person, a cache key all name one) and its lead ids and external ids. What SQL prefilters on."""
        domains = {domain_of(a) for a in self.addresses} | {p.domain for p in self.people} | self.domains
        for domain in list(domains):
            try:
                domains.add(domain.encode("ascii").decode("idna"))  # a lead may hold the Unicode form
            except UnicodeError:
                continue
        found = domains | self.lead_ids | {e.lower() for e in self.external_ids}
        return sorted(p for p in found if p)

    def has_address(self, email: object) -> bool:
        if not isinstance(email, str) or "@" not in email:
            return False
        address = email.strip().lower()
        return address in self.addresses or domain_of(address) in self.domains

    def has_person(self, first: object, last: object, domain: str) -> bool:
        person = Person.of(first, last, domain)
        return person is not None and (person in self.people or person.domain in self.domains)

    def names(self, full_name: object, domain: str) -> bool:
        """Whether `full_name` (one string) is one of the people at `domain`."""
        if not isinstance(full_name, str):
            return False
        key, where = name_key(full_name), host(domain)
        return any(p.full_key == key and p.domain == where for p in self.people)

    def mentions(self, text: object, domain: str | None = None) -> bool:
        """Whether free text names the subject: an address, an address at an erased domain, or a person's
        full name (words in order) in text about their domain (`domain`, or the domain written in it)."""
        if not isinstance(text, str) or not text:
            return False
        low = text.casefold()
        if any(a in low for a in self.addresses) or any(f"@{d}" in low for d in self.domains):
            return True
        words = f" {name_key(text)} "
        about = host(domain) if domain else None
        return any(f" {p.full_key} " in words and (p.domain == about or p.domain in low) for p in self.people)


# --- job items ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredItem:
    """What an eraser reads of a stored item: its lead (as a JSON object), result, reason and stored lead."""

    lead: Mapping[str, Any]
    result: Mapping[str, Any] | None
    reason: str | None
    lead_id: str | None = None


@dataclass(frozen=True)
class ItemChange:
    """The item as it is to be written back (its status, attempts and the rest unchanged)."""

    lead: dict[str, Any]
    result: dict[str, Any] | None
    reason: str


def _lead_domain(lead: Mapping[str, Any]) -> str:
    return host(str(lead.get("domain") or ""))


def whole_item(item: StoredItem, subject: Subject) -> bool:
    """Whether the item's lead is the subject's (module docstring)."""
    lead = item.lead
    domain = _lead_domain(lead)
    return (
        (item.lead_id is not None and item.lead_id in subject.lead_ids)
        or lead.get("external_id") in subject.external_ids
        or subject.has_address(lead.get("email"))
        or domain in subject.domains
        or subject.has_person(lead.get("first_name"), lead.get("last_name"), domain)
    )


def _entries(result: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    emails = (result or {}).get("emails")
    return [dict(e) for e in emails if isinstance(e, Mapping)] if isinstance(emails, list) else []


def erased_entry(entry: Mapping[str, Any], subject: Subject) -> bool:
    """A result's address that is the subject's: the address itself, or one whose person is the subject."""
    email = entry.get("email")
    if not isinstance(email, str):
        return False
    return subject.has_address(email) or subject.names(entry.get("person"), domain_of(email))


def scrub_item(item: StoredItem, subject: Subject) -> ItemChange | None:
    """The item without the subject's data; None when it holds none (or was erased already)."""
    whole = whole_item(item, subject)
    domain = _lead_domain(item.lead)
    lead = dict(item.lead)
    if whole:
        for name in PERSONAL_LEAD_FIELDS:
            lead.pop(name, None)
        if domain in subject.domains:
            lead.pop("company_name", None)  # the company-level data of an erased domain
    result = dict(item.result) if item.result is not None else None
    dropped = False
    if result is not None:
        entries = _entries(result)
        kept = [] if whole else [e for e in entries if not erased_entry(e, subject)]
        dropped = len(kept) != len(entries)
        if dropped:
            if kept and not any(e.get("email_type") == "primary" for e in kept):
                kept[0] = {**kept[0], "email_type": "primary"}
            result["emails"] = kept
            result["contact"] = kept[0].get("contact") if kept else None
            if PENDING_KEY in result:  # the review queue counts the pending addresses left (`privacy.review`)
                result[PENDING_KEY] = sum(1 for e in kept if e.get("review") == ReviewState.PENDING.value)
        if whole and result.get("external_id") is not None:
            result["external_id"] = None
        reason = result.get("reason")
        if reason is not None and (whole or dropped or subject.mentions(reason, domain)):
            result["reason"] = ERASED
    rewritten = result != (dict(item.result) if item.result is not None else None)
    if not (whole or rewritten or subject.mentions(item.reason, domain)):
        return None
    unchanged = lead == dict(item.lead) and not rewritten and item.reason == ERASED
    return None if unchanged else ItemChange(lead, result, ERASED)


def item_links(item: StoredItem, subject: Subject) -> Subject:
    """What the item tells about the subject: the names of the person behind an address of theirs, the
    addresses of a named person or of a stored lead asked for."""
    domain = _lead_domain(item.lead)
    lead_person = Person.of(item.lead.get("first_name"), item.lead.get("last_name"), domain)
    addresses: set[str] = set()
    people: set[Person] = set()
    entries = _entries(item.result)
    if whole_item(item, subject):
        if lead_person is not None:
            people.add(lead_person)
        if isinstance(item.lead.get("email"), str):
            addresses.add(str(item.lead["email"]).strip().lower())
        addresses.update(str(e["email"]).lower() for e in entries if e.get("contact") == NAMED_PERSON)
    for entry in entries:
        if not erased_entry(entry, subject):
            continue
        email = str(entry["email"]).lower()
        addresses.add(email)
        named = Person.named(entry.get("person"), domain_of(email))
        if named is not None:
            people.add(named)
        if entry.get("contact") == NAMED_PERSON and lead_person is not None:
            people.add(lead_person)
    return Subject(addresses=frozenset(addresses), people=frozenset(people))


# --- cached provider answers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CacheChange:
    """Delete the entry (`value` None), or write `value` in its place (same key, same expiry)."""

    value: dict[str, Any] | None


DELETE = CacheChange(None)


def _cache_parts(key: str) -> tuple[str, str, list[str]]:
    """(kind, domain, the rest of the key's parts) of `v1:{kind}:{domain}:...` (`engine.cache`)."""
    parts = key.split(":")
    kind = parts[1] if len(parts) > 1 else ""
    rest = parts[2:]
    if kind in ("ev", "pe"):  # keyed by an address: the verifier's answer, a person profile (`buffer.person`)
        return kind, domain_of(":".join(rest)), rest
    return kind, host(rest[0]) if rest else "", rest[1:]


def _kept(rows: object, keep: Callable[[Any], bool]) -> list[Any]:
    return [row for row in rows if keep(row)] if isinstance(rows, list) else []


def scrub_cache(key: str, value: Mapping[str, Any] | None, subject: Subject) -> CacheChange | None:
    """What to do with a cached answer (module docstring); None to leave it. An unreadable value that
    mentions the subject is deleted."""
    kind, domain, rest = _cache_parts(key)
    if domain in subject.domains:
        return DELETE
    if value is None:
        return DELETE if subject.mentions(key, domain) else None
    new: dict[str, Any] = dict(value)
    if kind == "ev" and subject.has_address(":".join(rest)):
        return DELETE
    if kind == "ef":
        first, last = [*rest, "", ""][:2]
        if subject.has_person(first, last, domain) or subject.has_address(value.get("email")):
            return DELETE
        if subject.has_person(value.get("first_name"), value.get("last_name"), domain):
            return DELETE
    if kind == "nf" and rest and subject.names(":".join(rest), domain):
        return DELETE
    if kind == "pe":
        profile = _profile(value)
        where = host(str(profile.get("company_domain") or domain))
        given, family = profile.get("first_name"), profile.get("last_name")
        if subject.has_address(":".join(rest)) or any(
            subject.has_person(given, family, place) for place in {where, domain}
        ):
            return DELETE
    if kind == "ds":  # Domain Search rows: the person's row goes, the company's others stay

        def others(row: object) -> bool:
            if not isinstance(row, Mapping):
                return True
            return not (
                subject.has_address(row.get("value"))
                or subject.has_person(row.get("first_name"), row.get("last_name"), domain)
            )

        if "emails" in value:
            new["emails"] = _kept(value["emails"], others)
    if kind == "px":  # Perplexity's decision-makers, and the pages (URLs) that name the person

        def unnamed(text: object) -> bool:
            return not subject.mentions(text, domain)

        if "people" in value:
            new["people"] = [
                {**p, "source_urls": _kept(p.get("source_urls"), unnamed)} if "source_urls" in p else p
                for p in _kept(value["people"], lambda p: isinstance(p, Mapping))
                if not subject.names(p.get("name"), domain)
            ]
        if "search_urls" in value:
            new["search_urls"] = _kept(value["search_urls"], unnamed)
    if subject.mentions(key, domain) or subject.mentions(json.dumps(new, ensure_ascii=False), domain):
        return DELETE  # whatever the rules above kept that still names the subject
    return None if new == dict(value) else CacheChange(new)


def _profile(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A cached person profile (`v1:pe:`): `{"found", "profile": {...}}`."""
    profile = value.get("profile")
    return profile if isinstance(profile, Mapping) else {}


def _profile_links(address: str, value: Mapping[str, Any], subject: Subject) -> Subject:
    """A person profile names who an address belongs to: the person of an address of the subject's, the
    address of a person of the subject's."""
    profile = _profile(value)
    person = Person.of(
        profile.get("first_name"),
        profile.get("last_name"),
        profile.get("company_domain") or domain_of(address),
    )
    if person is None:
        return Subject()
    if subject.has_address(address):
        return Subject(people=frozenset({person}))
    if person in subject.people:
        return Subject(addresses=frozenset({address.strip().lower()}))
    return Subject()


def cache_links(key: str, value: Mapping[str, Any] | None, subject: Subject) -> Subject:
    """What a cached answer tells: the names on a domain-search row or a finder answer of an address of the
    subject's, and the address a domain-search row or a finder answer gives a person of the subject's."""
    kind, domain, rest = _cache_parts(key)
    if value is not None and kind == "pe":
        return _profile_links(":".join(rest), value, subject)
    if value is None or kind not in ("ds", "ef"):
        return Subject()
    rows: Iterable[Any] = value.get("emails") or [] if kind == "ds" else [value]
    addresses: set[str] = set()
    people: set[Person] = set()
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        email = row.get("value") if kind == "ds" else row.get("email")
        first, last = row.get("first_name"), row.get("last_name")
        if kind == "ef" and not (first and last):
            first, last = [*rest, "", ""][:2]
        person = Person.of(first, last, domain)
        if subject.has_address(email) and person is not None:
            people.add(person)
        if person is not None and person in subject.people and isinstance(email, str):
            addresses.add(email.strip().lower())
    return Subject(addresses=frozenset(addresses), people=frozenset(people))


def row_text(row: Mapping[str, Any]) -> str:
    """A stored row as one text, for `Subject.mentions` (webhook records, anything without finer rules)."""
    return json.dumps(row, ensure_ascii=False, sort_keys=True, default=str)


__all__ = [
    "DELETE",
    "ERASED",
    "CacheChange",
    "ItemChange",
    "Person",
    "StoredItem",
    "Subject",
    "cache_links",
    "domain_of",
    "erased_entry",
    "host",
    "item_links",
    "name_key",
    "row_text",
    "scrub_cache",
    "scrub_item",
    "whole_item",
]

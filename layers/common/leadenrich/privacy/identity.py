"""How a person, an address or a domain is named where the thing itself need not be kept: a suppression
entry, an audit record, an erasure receipt.

An address or a person is kept as a keyed hash (HMAC-SHA-256 of its normalised form under the service's
`PRIVACY_HASH_KEY`, or a fixed, documented salt where none is set): equal inputs give equal keys, so a list
can be checked without holding the addresses, and without the key a list of hashes cannot be reversed by
hashing guessed addresses. A domain is a company's name, not personal data, and is kept in clear (a
suppression of `acme.com` must be readable by its operator). `mask` is what a person may be shown as.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from leadenrich.engine.domains import DomainError, normalize_domain

DEFAULT_HASH_KEY = b"leadenrich-privacy-v1"  # without PRIVACY_HASH_KEY: still stable, but guessable


class Kind(StrEnum):
    EMAIL = "email"  # one address
    PERSON = "person"  # a person at a domain (first and last name + domain)
    DOMAIN = "domain"  # everyone at a domain


@dataclass(frozen=True)
class Identity:
    """A suppressible thing as stored: its kind, its key (a hash, or the domain), and a masked label."""

    kind: Kind
    key: str
    label: str


def _hash_key() -> bytes:
    configured = os.environ.get("PRIVACY_HASH_KEY", "")
    return configured.encode() if configured else DEFAULT_HASH_KEY


def _digest(text: str) -> str:
    return hmac.new(_hash_key(), text.encode(), hashlib.sha256).hexdigest()


def _fold(text: str) -> str:
    """Case, accents and spacing folded: `José  García` and `jose garcia` are one person."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def normal_email(email: str) -> str:
    """ValueError("email: ...") unless `local@domain` with a valid domain; lower-cased."""
    local, at, domain = email.strip().rpartition("@")
    if not at or not local or any(c.isspace() for c in local):
        raise ValueError("email: not an address (local@domain)")
    try:
        return f"{local.casefold()}@{normalize_domain(domain)}"
    except DomainError as exc:
        raise ValueError(f"email: {exc}") from None


def email_identity(email: str) -> Identity:
    address = normal_email(email)
    return Identity(Kind.EMAIL, "e:" + _digest(address), mask(address))


def person_identity(first_name: str, last_name: str, domain: str) -> Identity:
    """ValueError naming the field when a name is empty or the domain invalid."""
    first, last = _fold(first_name), _fold(last_name)
    if not first:
        raise ValueError("first_name: required for a person")
    if not last:
        raise ValueError("last_name: required for a person")
    try:
        host = normalize_domain(domain)
    except DomainError as exc:
        raise ValueError(f"domain: {exc}") from None
    return Identity(Kind.PERSON, "p:" + _digest(f"{first}|{last}|{host}"), f"{first[0]}. {last[0]}. @ {host}")


def domain_identity(domain: str) -> Identity:
    try:
        host = normalize_domain(domain)
    except DomainError as exc:
        raise ValueError(f"domain: {exc}") from None
    return Identity(Kind.DOMAIN, "d:" + host, host)


def mask(address: str) -> str:
    """`ada.lovelace@acme.com` -> `a***@acme.com`: enough for an operator to recognise, not to write to."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


__all__ = [
    "Identity",
    "Kind",
    "domain_identity",
    "email_identity",
    "mask",
    "normal_email",
    "person_identity",
]

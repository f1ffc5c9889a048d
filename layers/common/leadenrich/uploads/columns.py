"""Which column of a leads file holds which lead field: the header names each field is found under, and the
choice among them. One place, so the `enrich` command (`enrich_tools.local.rows`) and the processor reading
an uploaded CSV (`leadenrich.uploads.csv_records`) read a header the same way.

Names compare with case, spaces, punctuation and underscores ignored ("First Name" is `first_name`). A
caller's own map (field -> header name: the CLI's `--map`, the API's `columns`) comes first; each other
field takes the column whose name is earliest in its aliases. A file needs a domain column or a company
name column (whose names are resolved to domains: docs/company-data.md). The errors carry what was found,
not prose for one caller: each caller words them for its own users (a `--map` hint, an API field).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FIELDS = ("domain", "company_name", "first_name", "last_name", "external_id")
# Header names each field is found under, in priority order: when several columns match one field, the
# one named earlier here wins (a "Company Domain" before a generic "URL", which may be a profile's).
ALIASES: dict[str, tuple[str, ...]] = {
    "domain": (
        "domain",
        "company domain",
        "company domain name",
        "domain name",
        "website",
        "web site",
        "company website",
        "website url",
        "url",
    ),
    "company_name": ("company name", "company", "organization", "organisation", "account name"),
    "first_name": ("first name", "firstname", "given name"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "external_id": ("external id", "lead id", "record id", "id"),
}


def header_key(name: str) -> str:
    """A header name as compared: case, spaces, punctuation and underscores ignored."""
    return "".join(char for char in name.casefold() if char.isalnum())


_ALIAS_RANK = {
    field: {header_key(a): rank for rank, a in enumerate(names)} for field, names in ALIASES.items()
}


class ColumnError(ValueError):
    """The header cannot give leads as asked."""


class UnknownField(ColumnError):
    """A map names a field that is not a lead field."""

    def __init__(self, field: str) -> None:
        super().__init__(f"unknown field {field!r} (fields: {', '.join(FIELDS)})")
        self.field = field


class MissingColumn(ColumnError):
    """A map names a column the header lacks."""

    def __init__(self, field: str, wanted: str, headers: Sequence[str]) -> None:
        super().__init__(f"{field}={wanted}: no such column (found: {listing(headers)})")
        self.field, self.wanted, self.headers = field, wanted, tuple(headers)


class NoLeadColumn(ColumnError):
    """Neither a domain column nor a company name column."""

    def __init__(self, headers: Sequence[str]) -> None:
        super().__init__(
            f"the header must have a 'domain' column (found: {listing(headers)}; accepted: "
            f"{accepted('domain')}, in any case or spacing), or a company name column to find the "
            "domains from"
        )
        self.headers = tuple(headers)


@dataclass(frozen=True)
class Unused:
    """A column that also matched `field`'s aliases and lost to `used` (an earlier alias)."""

    field: str
    used: int
    index: int


@dataclass(frozen=True)
class Resolved:
    columns: dict[str, int]  # field -> column index, in FIELDS order
    unused: tuple[Unused, ...] = ()


def field_named(name: str) -> str | None:
    """The lead field `name` spells in any case, with `-`, `_` or spaces; None when it is none."""
    return next((f for f in FIELDS if header_key(f) == header_key(name)), None)


def resolve_columns(headers: Sequence[str], column_map: Mapping[str, str]) -> Resolved:
    """field -> column index: `column_map` first (an exact name, else one equal once compared), then the
    aliases. Raises UnknownField, MissingColumn or NoLeadColumn."""
    columns: dict[str, int] = {}
    for field, wanted in column_map.items():
        if field not in FIELDS:
            raise UnknownField(field)
        index = next((i for i, h in enumerate(headers) if h == wanted), None)
        if index is None:
            index = next((i for i, h in enumerate(headers) if header_key(h) == header_key(wanted)), None)
        if index is None:
            raise MissingColumn(field, wanted, headers)
        columns[field] = index
    unused: list[Unused] = []
    for field in FIELDS:
        if field in columns:
            continue
        ranks = _ALIAS_RANK[field]
        matches = sorted(
            (ranks[key], index)
            for index, header in enumerate(headers)
            if (key := header_key(header)) in ranks and index not in columns.values()
        )
        if not matches:
            continue
        columns[field] = matches[0][1]
        unused += [Unused(field, matches[0][1], index) for _, index in matches[1:]]
    if "domain" not in columns and "company_name" not in columns:  # name-only: docs/company-data.md
        raise NoLeadColumn(headers)
    ordered = dict(sorted(columns.items(), key=lambda item: FIELDS.index(item[0])))
    return Resolved(ordered, tuple(unused))


def listing(headers: Sequence[str]) -> str:
    """The header names for a message: quoted, empty ones left out."""
    return ", ".join(repr(h) for h in headers if h) or "none"


def accepted(field: str) -> str:
    """The names `field` is found under, for a message."""
    return ", ".join(repr(name) for name in ALIASES[field])


__all__ = [
    "ALIASES",
    "FIELDS",
    "ColumnError",
    "MissingColumn",
    "NoLeadColumn",
    "Resolved",
    "UnknownField",
    "Unused",
    "accepted",
    "field_named",
    "header_key",
    "listing",
    "resolve_columns",
]

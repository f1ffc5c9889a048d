"""Hunter.io v2 answers as models, apart from the HTTP client (`hunter.py`).

The waterfall, the cache and the unit tests' scripted fakes use them without loading an HTTP library. A
malformed row or source is dropped rather than costing the whole paid answer it came in.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)


class _Lenient(BaseModel):
    """Unknown keys are ignored and nulls read as absent: Hunter adds fields and sends null freely."""

    model_config = ConfigDict(extra="ignore")

    @field_validator("*", mode="before")
    @classmethod
    def _tolerant(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if value is None and field is not None and not field.is_required() and field.default is not None:
            return field.get_default(call_default_factory=True)
        if isinstance(value, float) and info.field_name in _INT_FIELDS:
            return round(value)
        return value


_INT_FIELDS = frozenset({"confidence", "score"})


class Verification(_Lenient):
    date: dt.date | None = None
    status: str | None = None


class Source(_Lenient):
    """A page Hunter saw the address on: how live the sighting is grades catch-all addresses."""

    last_seen_on: dt.date | None = None
    still_on_page: bool | None = None


def _usable_sources(value: Any) -> Any:
    """Sources that parse; one odd entry must not cost the row or the finder answer it came with."""
    if not isinstance(value, list):
        return []
    usable = []
    for entry in value:
        try:
            usable.append(Source.model_validate(entry))
        except ValidationError:
            continue
    return usable


Sources = Annotated[list[Source], BeforeValidator(_usable_sources)]


class DomainEmail(_Lenient):
    value: str
    type: str | None = None
    confidence: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    position: str | None = None
    seniority: str | None = None
    department: str | None = None
    verification: Verification = Field(default_factory=Verification)
    sources: Sources = Field(default_factory=list)


class DomainSearch(_Lenient):
    domain: str
    disposable: bool = False
    webmail: bool = False
    accept_all: bool = False
    pattern: str | None = None
    organization: str | None = None
    emails: list[DomainEmail] = Field(default_factory=list)
    returned_rows: int = 0  # rows Hunter sent (and billed), usable or not

    @model_validator(mode="before")
    @classmethod
    def _keep_usable_rows(cls, data: Any) -> Any:
        """One malformed row must not throw away a paid page: it is dropped, and still counted."""
        if not isinstance(data, dict):
            return data
        raw = data.get("emails")
        rows: list[Any] = raw if isinstance(raw, list) else []
        usable = []
        for row in rows:
            try:
                usable.append(DomainEmail.model_validate(row))
            except ValidationError:
                continue
        return {**data, "emails": usable, "returned_rows": data.get("returned_rows", len(rows))}

    @property
    def credits(self) -> float:
        """Hunter bills one search credit per 1-10 addresses returned, nothing for none."""
        return float(math.ceil(self.returned_rows / 10))


# Our own marker, cached in place of a 451 answer: the person opted out, never ask for them again.
OPTED_OUT = "opted_out"


class FinderResult(_Lenient):
    opted_out: bool = False  # ours, not Hunter's: set when Hunter answered 451
    email: str | None = None
    score: int | None = None
    accept_all: bool | None = None
    first_name: str | None = None
    last_name: str | None = None
    position: str | None = None
    verification: Verification = Field(default_factory=Verification)
    sources: Sources = Field(default_factory=list)

    @property
    def credits(self) -> float:
        return 1.0 if self.email else 0.0


class VerifierResult(_Lenient):
    email: str
    status: str | None = None  # valid, invalid, accept_all, webmail, disposable, unknown
    result: str | None = None  # deprecated: deliverable, undeliverable, risky
    score: int | None = None
    accept_all: bool | None = None
    mx_records: bool | None = None
    block: bool | None = None
    sources: Sources = Field(default_factory=list)
    # Ours, not Hunter's: when the verdict came (kept with it in the cache, so a reused verdict keeps the
    # time it was given as its address's verified_at).
    checked_at: dt.datetime | None = None

    def credits(self, verification_credit: float) -> float:
        """Only decisive answers are billed (providers.md §1.10); unknown and the like are free."""
        return verification_credit if self.status in {"valid", "invalid", "accept_all"} else 0.0


class Account(_Lenient):
    plan_name: str | None = None
    reset_date: dt.date | None = None
    requests: dict[str, Any] = Field(default_factory=dict)

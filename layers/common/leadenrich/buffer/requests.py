"""What a caller may send the buffer's routes and `POST /enrich`, validated once at the edge: every rule
names its field (`body.leads.3.domain`, `body.namespace`, `body.email`), so a bad request is a 422 saying
where, never a 500.

A pushed lead is a company (`domain`) and optionally a person (`first_name` with `last_name`) or an address
(`email`, whose domain the lead's is when `domain` is left out). A company lead on a webmail or disposable
domain is refused (no company there to enrich); an address at one is a person's, and is accepted.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from leadenrich.buffer.models import (
    MAX_CURSOR_STATE_CHARS,
    MAX_DATA_CHARS,
    MAX_PUSH,
    NAMESPACE_PATTERN,
    RUN_ID_PATTERN,
)
from leadenrich.engine.domains import DomainError, is_disposable, is_webmail, normalize_domain
from leadenrich.engine.models import MAX_ADDRESS_LENGTH, Lead, normalize_email

Namespace = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=NAMESPACE_PATTERN,
        description="a campaign or any grouping of leads: letters, digits and . _ : - (1-100, starting "
        "with a letter or digit); leads are de-duplicated and served per namespace",
        examples=["campaign-2026-q3"],
    ),
]
RunId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=RUN_ID_PATTERN,
        description="the caller's run: a retried call with the same run gets the same lead back",
        examples=["run_8f2c1d"],
    ),
]


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


class BufferLead(BaseModel):
    """One lead to buffer. Fields are checked in this order, so each error names the field to change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str | None = Field(
        default=None,
        max_length=MAX_ADDRESS_LENGTH,
        description="the person's address: verified when the lead is served, and its identity",
    )
    first_name: str | None = Field(default=None, max_length=256, description="with last_name: a person")
    last_name: str | None = Field(
        default=None, max_length=256, validate_default=True, description="with first_name"
    )
    domain: str | None = Field(
        default=None,
        max_length=2048,
        validate_default=True,
        description="the company's domain; required unless `email` is given (then the address's domain)",
    )
    company_name: str | None = Field(default=None, max_length=512)
    external_id: str | None = Field(
        default=None, max_length=256, description="the caller's id, kept as given"
    )
    data: dict[str, Any] | None = Field(
        default=None,
        description=f"anything the caller wants back with the lead (a JSON object, at most {MAX_DATA_CHARS} "
        "characters as compact JSON)",
    )

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return normalize_email(value) if value else None

    @field_validator("first_name", "company_name", "external_id")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("last_name")
    @classmethod
    def _person(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = value or None
        if (value is None) != (info.data.get("first_name") is None):
            raise ValueError("a person is first_name and last_name together (or neither)")
        return value

    @field_validator("domain")
    @classmethod
    def _company(cls, value: str | None, info: ValidationInfo) -> str | None:
        email = info.data.get("email")
        if not value:
            if email is None:
                raise ValueError("required unless email is given")
            return None
        try:
            domain = normalize_domain(value)
        except DomainError as exc:
            raise ValueError(str(exc)) from None
        if email is not None:
            if domain != normalize_domain(email.rpartition("@")[2]):
                raise ValueError("must be the email's domain (or left out)")
        elif is_webmail(domain) or is_disposable(domain):
            raise ValueError(f"{domain} is a webmail or disposable domain, not a company's")
        return value

    @field_validator("data")
    @classmethod
    def _bounded(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(_compact(value)) > MAX_DATA_CHARS:
            raise ValueError(f"at most {MAX_DATA_CHARS} characters as compact JSON")
        return value

    def lead(self) -> Lead:
        """The engine's lead (the address's domain when `domain` was left out)."""
        return Lead.model_validate(self.model_dump(exclude={"data"}, exclude_none=True))


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespace: Namespace
    leads: list[BufferLead] = Field(
        min_length=1, max_length=MAX_PUSH, description=f"1 to {MAX_PUSH:,} leads, buffered in this order"
    )


class NextRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespace: Namespace
    parent_run_id: RunId | None = None


class CursorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: dict[str, Any] = Field(
        description="any JSON object (at most 16,384 characters as compact JSON): what the caller needs to "
        "resume, e.g. a page and an offset"
    )

    @field_validator("state")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(_compact(value)) > MAX_CURSOR_STATE_CHARS:
            raise ValueError(f"at most {MAX_CURSOR_STATE_CHARS} characters as compact JSON")
        return value


class EnrichRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str = Field(
        min_length=3,
        max_length=MAX_ADDRESS_LENGTH,
        description="the person's address (lower-cased)",
        examples=["ada@acme-robotics.com"],
    )

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        return normalize_email(value)


__all__ = ["BufferLead", "CursorRequest", "EnrichRequest", "Namespace", "NextRequest", "PushRequest", "RunId"]

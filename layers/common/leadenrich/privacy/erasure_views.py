"""`POST /erasures`: the request (exactly one of an address, a domain, a stored lead's id or an external id,
each checked here so a bad one is a 422 naming its field) and the receipt it answers (`ErasureView`, from
`privacy.erasure.ErasureReceipt`): what was erased where, the person masked and by their suppression keys,
never an address in clear."""

from __future__ import annotations

from typing import Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from leadenrich.engine.domains import DomainError, normalize_domain
from leadenrich.engine.models import MAX_ADDRESS_LENGTH, normalize_email
from leadenrich.jobs.views import IsoTime, View
from leadenrich.privacy.erasure import ErasureKind, ErasureReceipt, ErasureTarget

TARGETS = ("email", "domain", "lead_id", "external_id")
_ONE = "give exactly one of email, domain, lead_id or external_id"


class ErasureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ADDRESS_LENGTH,
        description="an address: erased wherever it is, with its person when their name is known",
    )
    domain: str | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description="a company's domain: every address and person at it, and its cached provider answers",
    )
    lead_id: UUID | None = Field(
        default=None, description="a stored lead (Supabase): its person, its addresses, its items"
    )
    external_id: str | None = Field(
        default=None, min_length=1, max_length=256, description="your id of a lead, as its items carry it"
    )

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return normalize_email(value) if value is not None else None  # ValueError naming what is wrong

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None, info: ValidationInfo) -> str | None:
        _alone(info, value)
        if value is None:
            return None
        try:
            return normalize_domain(value)
        except DomainError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("lead_id", "external_id")
    @classmethod
    def _alone_too(cls, value: object, info: ValidationInfo) -> object:
        _alone(info, value)
        return value

    @model_validator(mode="after")
    def _one(self) -> Self:
        if not any(getattr(self, name) is not None for name in TARGETS):
            raise ValueError(_ONE)
        return self

    def target(self) -> ErasureTarget:
        if self.email is not None:
            return ErasureTarget(ErasureKind.EMAIL, self.email)
        if self.domain is not None:
            return ErasureTarget(ErasureKind.DOMAIN, self.domain)
        if self.lead_id is not None:
            return ErasureTarget(ErasureKind.LEAD_ID, str(self.lead_id))
        assert self.external_id is not None  # `_one`
        return ErasureTarget(ErasureKind.EXTERNAL_ID, self.external_id)


def _alone(info: ValidationInfo, value: object) -> None:
    """A second target is refused, naming itself (`body.domain`), not the first one given."""
    if value is not None and any(
        info.data.get(name) is not None for name in TARGETS if name != info.field_name
    ):
        raise ValueError(_ONE)


Place = Literal["job_items", "cache", "webhooks", "supabase.emails", "supabase.leads", "buffer"]


class ErasedPlaceView(View):
    place: Place = Field(
        description="job_items: the workspace's job items (rows kept, the person's data removed); cache: "
        "cached provider answers; webhooks: webhook and callback records; supabase.emails and "
        "supabase.leads: the stored leads' addresses and fields; buffer: the lead buffer's leads (the "
        "person's deleted, others rewritten without them) and cursor states"
    )
    removed: int = Field(ge=0, description="rows deleted")
    changed: int = Field(ge=0, description="rows rewritten without the person's data")


class ErasureSuppressionView(View):
    kind: Literal["email", "person", "domain"]
    key: str = Field(description="the entry's key: a keyed hash (e:..., p:...), or d:<domain>")
    label: str = Field(description="masked: `a***@acme.com`, `a. l. @ acme.com`, or the domain")
    scopes: list[Literal["workspace", "service"]] = Field(
        description="the lists it is on: the workspace's, and the service-wide one (addresses and people)"
    )


class ErasureView(View):
    erasure_id: str = Field(description="this erasure's id, in the audit trail's entry (GET /audit)")
    workspace_id: str
    kind: Literal["email", "domain", "lead_id", "external_id"]
    target: str = Field(
        description="what was asked, masked: `a***@acme.com`, the domain, the lead id, `c***`"
    )
    erased_at: IsoTime
    places: list[ErasedPlaceView]
    suppressed: list[ErasureSuppressionView] = Field(
        description="the suppression entries it asked for, new or not"
    )
    new_suppressions: int = Field(
        ge=0, description="entries that were not on the lists before: 0 for a repeat (answered 200)"
    )

    @classmethod
    def of(cls, receipt: ErasureReceipt) -> ErasureView:
        suppressed = [
            {
                "kind": s.identity.kind.value,
                "key": s.identity.key,
                "label": s.identity.label,
                "scopes": s.scopes,
            }
            for s in receipt.suppressed
        ]
        return cls.model_validate(
            {
                "erasure_id": receipt.erasure_id,
                "workspace_id": receipt.workspace_id,
                "kind": receipt.target.kind.value,
                "target": receipt.target.label,
                "erased_at": receipt.erased_at,
                "places": [vars(place) for place in receipt.places],
                "suppressed": suppressed,
                "new_suppressions": receipt.new_entries,
            }
        )


__all__ = ["TARGETS", "ErasedPlaceView", "ErasureRequest", "ErasureSuppressionView", "ErasureView"]

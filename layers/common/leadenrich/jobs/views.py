"""What the API answers about a job's items, as typed models: the OpenAPI document is generated from them, and
the tests hold real answers to them, so a client generated from the document reads what the API sends."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from leadenrich.engine.models import (
    Contact,
    Deliverability,
    EmailSource,
    EmailStatus,
    EmailType,
    HunterStatus,
    Lead,
    Method,
)
from leadenrich.jobs.models import ItemStatus


class EmailView(BaseModel):
    """One address of a finished item (`FoundEmail.as_record`)."""

    model_config = ConfigDict(extra="forbid")

    email: str
    deliverability: Deliverability | None = Field(
        default=None,
        description="verified | high_probability | catch_all | unknown | undeliverable "
        "(docs/engine.md, 'Deliverability tiers'); null only in results stored before grades existed",
    )
    contact: Contact | None = Field(
        default=None, description="whom it reaches; null only in results stored before it existed"
    )
    source: EmailSource
    method: Method
    confidence_score: int = Field(ge=0, le=100)
    email_type: EmailType
    hunter_status: HunterStatus
    status: EmailStatus = Field(description="active exactly when deliverability is verified")
    verified_at: datetime | None
    person: str | None
    position: str | None


class ItemView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str
    status: ItemStatus = Field(
        description="found: a verified address; risky: only unverifiable ones (catch-all domain, or a "
        "mail server that would not answer); not_found, invalid, failed, skipped, dead; queued, running "
        "and deferred while it waits"
    )
    attempts: int
    reason: str | None
    lead: Lead
    lead_id: str | None = None
    emails: list[EmailView]


class ItemsPage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ItemView]
    cursor: str | None = Field(description="pass back as `cursor` for the next page; null on the last")

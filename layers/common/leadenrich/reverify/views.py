"""The `address.changed` callback's body (docs/webhooks.md, docs/reverification.md): what a job's
webhook_url is sent when the re-verification sweep changes the verdict of an address the job stored.

It names the address, as a job's results do: it goes to the workspace's own receiver, signed, and is the
workspace's data. The logs never carry it (`leadenrich.webhooks.address_changed` logs job ids only).
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from leadenrich.engine.models import Deliverability, EmailStatus, HunterStatus
from leadenrich.jobs.views import IsoTime, View
from leadenrich.reverify.rules import Verdict


class VerdictView(View):
    """An address's verdict as results store it."""

    status: EmailStatus
    hunter_status: HunterStatus
    deliverability: Deliverability
    verified_at: IsoTime | None = Field(description="when Hunter verified it (null: not verified)")

    @classmethod
    def of(cls, verdict: Verdict) -> VerdictView:
        return cls.model_validate(verdict.fields())


class AddressChangedData(View):
    email: str = Field(description="the address, lower case")
    previous: VerdictView = Field(description="the verdict the job stored (or last re-verification)")
    current: VerdictView = Field(description="the new verdict, now written where the address is stored")
    job_id: str = Field(description="the job that stored the address (this callback's job)")
    lead_ids: list[str] = Field(
        description="the Supabase lead ids of the job's records that changed, when its leads had one"
    )
    reverification_job_id: str = Field(description="the sweep's verification job that re-verified it")
    changed_at: IsoTime


class AddressChangedEvent(View):
    """The body POSTed to a job's webhook_url for `address.changed`, signed (docs/webhooks.md)."""

    type: Literal["address.changed"]
    id: str = Field(description="the webhook-id header's value, the same on every retry")
    timestamp: IsoTime
    data: AddressChangedData

    def body(self) -> str:
        """The exact JSON signed and sent (compact)."""
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"))


__all__ = ["AddressChangedData", "AddressChangedEvent", "VerdictView"]

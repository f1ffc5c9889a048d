"""What the personal-data routes answer (docs/privacy.md), as the job routes' views do (`jobs.views.View`:
every field declared). No view ever holds an address or a name in clear: an entry is shown by its key (a
keyed hash, or `d:` + a domain) and a masked label."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from leadenrich.jobs.models import Page
from leadenrich.jobs.views import View
from leadenrich.privacy.identity import Identity, Kind
from leadenrich.privacy.ports import Suppression, SuppressionReason

# --- suppression (`GET/POST/DELETE /suppressions`) -------------------------------------------------------

KEY_DESCRIPTION = (
    "the entry's key, what `DELETE /suppressions/{key}` takes: `e:` (an address) or `p:` (a person) and a "
    "keyed hash, or `d:` and the domain"
)


class SuppressedView(View):
    """One entry as stored: never the address or the name itself."""

    key: str = Field(description=KEY_DESCRIPTION, max_length=300)
    kind: Kind = Field(description="email: one address; person: a person at a domain; domain: everyone there")
    label: str = Field(
        description="what a person may be shown: `a***@acme.com`, `a. l. @ acme.com`, `acme.com`"
    )

    @classmethod
    def of(cls, identity: Identity) -> SuppressedView:
        return cls(key=identity.key, kind=identity.kind, label=identity.label)


class SuppressionView(SuppressedView):
    reason: SuppressionReason = Field(
        description="manual (the API, the command line) or imported (a CSV file); a workspace's list holds "
        "no other (Hunter's 451s and erasures are on the service-wide list, which is not shown)"
    )
    created_at: datetime

    @classmethod
    def of_entry(cls, entry: Suppression) -> SuppressionView:
        identity = entry.identity
        return cls(
            key=identity.key,
            kind=identity.kind,
            label=identity.label,
            reason=entry.reason,
            created_at=entry.created_at,
        )


class SuppressionsPage(View):
    suppressions: list[SuppressionView] = Field(description="the workspace's own entries, newest first")
    cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")

    @classmethod
    def of(cls, page: Page[Suppression]) -> SuppressionsPage:
        return cls(suppressions=[SuppressionView.of_entry(s) for s in page.items], cursor=page.cursor)


class SuppressionsAdded(View):
    added: int = Field(
        ge=0, description="entries new to the list; the others were on it and are kept as they were"
    )
    entries: list[SuppressedView] = Field(description="each entry of the request, in its order, as stored")


class SuppressionRemoved(View):
    key: str = Field(description=KEY_DESCRIPTION, max_length=300)
    removed: Literal[True] = True


__all__ = ["SuppressedView", "SuppressionRemoved", "SuppressionView", "SuppressionsAdded", "SuppressionsPage"]

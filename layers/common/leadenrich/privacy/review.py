"""Contact approval (seed 004's "manual approval workflow", docs/privacy.md "Contact approval"), the lawful
basis every stored address carries, and the region rules, as they apply to one item's result record.

The record (`EnrichmentResult.as_record()`) is where an item's addresses live in every job store, so the
review state lives there too, per address:

    {"emails": [{"email": ..., "lawful_basis": "legitimate_interest", "review": "pending"}, ...],
     "review_pending": 2, "region_flag": "FR", ...}

- `lawful_basis` on every address: the job's basis travels with the address into exports and Supabase;
- `review` (pending | approved | rejected) only when the workspace had `review_required` on when the item
  ran; `review_pending` counts the pending ones: the stores index the review queue by it (items with none
  pending have no entry);
- `region_flag` when the lead's country is in the workspace's `flagged_countries` (`privacy.region`).

Held means: a pending or rejected address is left out of `GET /jobs/{id}/items` (and so of the CLI's result
files) and is not written to Supabase `emails`; an approved one is shown and written then, with
`review: approved`. Callbacks never carry addresses (`job.completed` has counters and a link), so they
hold nothing back.

A contact is one address of one item: `{job_id}.{item_id}.{n}.{tag}`, `n` its place in the item's
addresses and `tag` eight hex digits of the address's keyed hash (`privacy.identity`). The tag makes an id
name one address for good: if the item ran again and found other addresses, an old id matches none of them
(404), instead of approving whatever now sits at place `n`; and it tells nothing about the address.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from leadenrich.engine.models import EnrichmentResult, Lead, LeadStatus
from leadenrich.jobs.models import Item, Job, JobKind, LawfulBasis, ReviewState
from leadenrich.jobs.ports import EmailWrite
from leadenrich.privacy.identity import email_identity
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.privacy.region import RegionVerdict, screen

PENDING_KEY = "review_pending"  # the record's count of pending addresses: what the review queue indexes
REGION_FLAG_KEY = "region_flag"
HELD = frozenset({ReviewState.PENDING, ReviewState.REJECTED})
DECISIONS = frozenset({ReviewState.APPROVED, ReviewState.REJECTED})
REVIEW_STATES = frozenset(state.value for state in ReviewState)
# What `contact_id` makes (and the API documents): an item has a handful of addresses, never 100.
CONTACT_ID_PATTERN = r"^([A-Za-z0-9_-]{1,128})\.([0-9]{1,12})\.([0-9]{1,2})\.([0-9a-f]{8})$"
_CONTACT_ID = re.compile(CONTACT_ID_PATTERN)


# --- contact ids --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactRef:
    """A contact id, parsed: which item, which place in its addresses, and the address's tag."""

    job_id: str
    item_id: str
    index: int
    tag: str

    @property
    def contact_id(self) -> str:
        return f"{self.job_id}.{self.item_id}.{self.index}.{self.tag}"

    def names(self, email: str) -> bool:
        """Whether `email` is the address this id was made for."""
        return address_tag(email) == self.tag


def address_tag(email: str) -> str:
    """Eight hex digits of the address's keyed hash. A stored address always parses; were one not to, its
    text's plain hash still names it (eight digits of it say nothing usable about it)."""
    try:
        return email_identity(email).key[2:10]
    except ValueError:
        return hashlib.sha256(email.encode()).hexdigest()[:8]


def contact_id(job_id: str, item_id: str, index: int, email: str) -> str:
    return ContactRef(job_id, item_id, index, address_tag(email)).contact_id


def parse_contact_id(text: str) -> ContactRef:
    """ValueError("contact_id: ...") for anything `contact_id` does not make."""
    match = _CONTACT_ID.fullmatch(text)
    if match is None:
        raise ValueError("contact_id: not a contact id (`{job_id}.{item_id}.{n}.{tag}`, from GET /contacts)")
    job_id, item_id, index, tag = match.groups()
    return ContactRef(job_id, item_id, int(index), tag)


# --- the record ---------------------------------------------------------------------------------------------


def addresses(result: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The record's addresses (dicts), [] when it has none or is not a record."""
    emails = (result or {}).get("emails")
    return [e for e in emails if isinstance(e, dict)] if isinstance(emails, list) else []


def review_of(address: Mapping[str, Any]) -> ReviewState | None:
    """An address's review state; None when no review was asked (or the value is not one we write)."""
    value = address.get("review")
    return ReviewState(value) if isinstance(value, str) and value in REVIEW_STATES else None


def pending_count(result: Mapping[str, Any] | None) -> int:
    """The record's `review_pending` (0 when absent): whether the item belongs in the review queue."""
    value = (result or {}).get(PENDING_KEY)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def shown(result: Mapping[str, Any] | None) -> tuple[list[dict[str, Any]], int]:
    """(the addresses an export may show, how many pending ones it holds back); rejected ones are dropped."""
    visible = [a for a in addresses(result) if review_of(a) not in HELD]
    return visible, sum(1 for a in addresses(result) if review_of(a) is ReviewState.PENDING)


def decided(
    result: Mapping[str, Any] | None, index: int, email: str, decision: ReviewState
) -> dict[str, Any] | None:
    """The record with address `index` decided, its pending count updated; None unless that address is
    `email` and pending (what the store's compare-and-set then guards)."""
    if decision not in DECISIONS:
        raise ValueError("decision: approved or rejected")
    found = addresses(result)
    if result is None or not 0 <= index < len(found):
        return None
    address = found[index]
    if address.get("email") != email or review_of(address) is not ReviewState.PENDING:
        return None
    changed = copy.deepcopy(dict(result))
    changed["emails"][index]["review"] = decision.value
    changed[PENDING_KEY] = sum(1 for a in addresses(changed) if review_of(a) is ReviewState.PENDING)
    return changed


# --- what an item runs under --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemPolicy:
    """An item's personal-data rules, decided once before it runs (`Processor`): its job's lawful basis,
    whether its addresses wait for review, and its region verdict."""

    lawful_basis: LawfulBasis = LawfulBasis.LEGITIMATE_INTEREST
    review_required: bool = False
    region: RegionVerdict = field(default_factory=RegionVerdict)

    @classmethod
    def of(cls, job: Job, lead: Lead, settings: WorkspaceSettings | None) -> ItemPolicy:
        """Review applies to enrichment jobs (found addresses), not to verifying addresses a caller gave.
        Without settings (no store wired): the job's basis, no review, no region rules."""
        if settings is None:
            return cls(job.options.lawful_basis)
        return cls(
            job.options.lawful_basis,
            review_required=settings.review_required and job.options.kind is JobKind.ENRICHMENT,
            region=screen(lead.domain, settings.refused_countries, settings.flagged_countries),
        )

    def refusal(self, lead: Lead) -> EnrichmentResult | None:
        """The item's result when its region is refused (no provider is called), else None."""
        reason = self.region.reason
        return EnrichmentResult(lead.domain, LeadStatus.INVALID, reason=reason) if reason else None

    def stamp(self, record: dict[str, object]) -> dict[str, object]:
        """The record as stored: the basis on each address, each pending when review is required, the
        region flag. A record without addresses gets no `review_pending` (it is in no queue)."""
        stamped: dict[str, Any] = copy.deepcopy(record)
        found = addresses(stamped)
        for address in found:
            address["lawful_basis"] = self.lawful_basis.value
            if self.review_required:
                address["review"] = ReviewState.PENDING.value
        if self.review_required and found:
            stamped[PENDING_KEY] = len(found)
        if self.region.flagged is not None:
            stamped[REGION_FLAG_KEY] = self.region.flagged
        return stamped

    def email_write(self, item: Item, result: EnrichmentResult) -> EmailWrite | None:
        """What the email sink gets for the item: nothing while its addresses wait for review."""
        if item.lead_id is None or not result.emails or self.review_required:
            return None
        return EmailWrite(item.workspace_id, item.lead_id, tuple(result.emails), self.lawful_basis.value)


__all__ = [
    "CONTACT_ID_PATTERN",
    "DECISIONS",
    "HELD",
    "PENDING_KEY",
    "REGION_FLAG_KEY",
    "ContactRef",
    "ItemPolicy",
    "address_tag",
    "addresses",
    "contact_id",
    "decided",
    "parse_contact_id",
    "pending_count",
    "review_of",
    "shown",
]

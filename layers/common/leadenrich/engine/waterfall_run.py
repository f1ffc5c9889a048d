"""One lead's pass through the waterfall: what it has learnt and spent so far, shared by every step."""

from __future__ import annotations

from dataclasses import dataclass, field

from leadenrich.engine.models import FoundEmail, Lead
from leadenrich.engine.paid_calls import Tab


@dataclass(kw_only=True)
class LeadRun(Tab):
    """The lead, its normalised domain, the domain's facts once known, and what was tried on the way."""

    lead: Lead
    domain: str
    pattern: str | None = None
    pattern_doubted: bool | None = None  # a guess from it bounced lately (`ResultCache.pattern_bounced`)
    accept_all: bool = False
    tried: set[str] = field(default_factory=set)
    inconclusive: bool = False  # some candidate verified "unknown": worth another try later
    fallback_note: str | None = None  # a named person was not found and the domain flow ran instead
    # People (full names, lowercase) not to search or guess again: a 451, or on a suppression list.
    opted_out: set[str] = field(default_factory=set)
    named_suppressed: bool = False  # the lead's named person is on a suppression list (`engine.screen`)
    unverified: list[FoundEmail] = field(default_factory=list)  # verified `unknown`: kept if nothing better

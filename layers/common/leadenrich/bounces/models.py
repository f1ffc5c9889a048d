"""A bounce or a complaint as every provider's adapter reports it, whatever its payload looked like."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BounceKind(StrEnum):
    HARD = (
        "hard"  # permanent: the mailbox does not exist (SES Permanent, SendGrid bounce, Postmark HardBounce)
    )
    SOFT = "soft"  # temporary (full mailbox, blocked, DNS): recorded, nothing changes
    COMPLAINT = "complaint"  # the recipient reported the mail as spam


@dataclass(frozen=True)
class BounceEvent:
    """One recipient's bounce or complaint. `event_id` is the provider's id of the delivery it came in (an
    SNS MessageId, a SendGrid sg_event_id, a Postmark ID): what the replay record is keyed by, so several
    recipients of one SES notification share it. `email` is normalised (lower case, IDNA domain); `detail`
    is the provider's classification (`Permanent/General`, `bounce`, `HardBounce`), never its diagnostic
    text, which can quote the address."""

    event_id: str
    kind: BounceKind
    email: str
    detail: str = ""


@dataclass(frozen=True)
class BounceDelivery:
    """What one webhook request carried: the bounce feedback in it, how many of its events were of other
    kinds (deliveries, opens), and for SNS a subscription to confirm or an unsubscription to note."""

    events: tuple[BounceEvent, ...] = ()
    ignored: int = 0
    subscribe_url: str | None = None  # SNS SubscriptionConfirmation: GET it to confirm (its host checked)
    unsubscribed: bool = False  # SNS UnsubscribeConfirmation

    def by_event_id(self) -> dict[str, list[BounceEvent]]:
        """The events grouped by the id they are recorded under, in the order they came."""
        grouped: dict[str, list[BounceEvent]] = {}
        for event in self.events:
            grouped.setdefault(event.event_id, []).append(event)
        return grouped


__all__ = ["BounceDelivery", "BounceEvent", "BounceKind"]

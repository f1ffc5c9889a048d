"""The CLI's results files under contact approval (`enrich_tools.local.results`): they are made from the API's
items, which hold back every address waiting for review, and say how many wait; the lawful basis and the
review state travel with each address shown."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

from enrich_tools.local.output import write_results
from enrich_tools.local.results import item_record
from enrich_tools.local.rows import CsvRow
from leadenrich.engine.models import (
    Deliverability,
    EmailSource,
    EmailStatus,
    EmailType,
    EnrichmentResult,
    FoundEmail,
    HunterStatus,
    Lead,
    LeadStatus,
    Method,
)
from leadenrich.jobs.models import Item, ItemStatus, LawfulBasis, ReviewState
from leadenrich.jobs.views import ItemView, dump
from leadenrich.privacy.review import ItemPolicy, decided

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
ROW = CsvRow(2, "acme.de", "crm-1", {"domain": "acme.de", "external_id": "crm-1"})
UNFINISHED = ("failed", "timed out")


def api_item(*, review: bool, approve: bool = False) -> dict[str, object]:
    """An item as `GET /jobs/{id}/items` answers it (through the view and its JSON)."""
    found = [
        FoundEmail(
            f"{name}@acme.de",
            EmailSource.HUNTER_DIRECT,
            95 - n,
            EmailType.PRIMARY if n == 0 else EmailType.SECONDARY,
            HunterStatus.DELIVERABLE,
            EmailStatus.ACTIVE,
            NOW,
            Method.DOMAIN_SEARCH,
            Deliverability.VERIFIED,
        )
        for n, name in enumerate(("ada", "bob"))
    ]
    policy = ItemPolicy(LawfulBasis.CONSENT, review_required=review)
    record = policy.stamp(EnrichmentResult("acme.de", LeadStatus.FOUND, found).as_record())
    if approve:
        record = decided(record, 0, "ada@acme.de", ReviewState.APPROVED) or record
    item = Item("ws", "job_1", "000000", Lead(domain="acme.de"), ItemStatus.FOUND, 1, None, record)
    answer: dict[str, object] = json.loads(dump(ItemView.from_item(item)))
    return answer


def test_a_record_shows_no_held_address_and_says_how_many_wait(tmp_path: Path) -> None:
    held = item_record(ROW, api_item(review=True), UNFINISHED)
    assert held["emails"] == [] and held["held_for_review"] == 2
    assert held["reason"] == "2 addresses held for review (GET /contacts)"

    partly = item_record(ROW, api_item(review=True, approve=True), UNFINISHED)
    assert [(e["email"], e["lawful_basis"], e["review"]) for e in partly["emails"]] == [
        ("ada@acme.de", "consent", "approved")
    ]
    assert partly["held_for_review"] == 1 and partly["reason"] == "1 address held for review (GET /contacts)"

    plain = item_record(ROW, api_item(review=False), UNFINISHED)
    assert [e["lawful_basis"] for e in plain["emails"]] == ["consent", "consent"]
    assert "held_for_review" not in plain and "review" not in plain["emails"][0] and plain["reason"] is None

    path = tmp_path / "out.csv"
    write_results(path, "csv", [ROW], [partly])
    with path.open(encoding="utf-8-sig", newline="") as handle:
        [written] = list(csv.DictReader(handle))
    assert written["email"] == "ada@acme.de" and written["other_emails"] == ""
    assert "bob@acme.de" not in path.read_text(encoding="utf-8-sig")  # the pending address is not exported

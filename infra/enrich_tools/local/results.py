"""One output record per input row, in the documented results format, and the table printed from them.

    {"external_id", "domain", "status": found|not_found|failed|skipped|invalid, "emails": [...], "reason"}

Item statuses map onto that vocabulary (dead -> failed); an item a run had to leave unfinished is reported
too, never dropped, so the output always has exactly one line per input row.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from enrich_tools.local.providers import SIMULATED_BANNER
from enrich_tools.local.rows import CsvRow
from leadenrich.domains import DomainError, normalize_domain

Record = dict[str, Any]

EMAIL_FIELDS = ("email", "source", "confidence_score", "email_type", "hunter_status", "status")
OUTPUT_STATUS = {
    "found": "found",
    "not_found": "not_found",
    "invalid": "invalid",
    "failed": "failed",
    "skipped": "skipped",
    "dead": "failed",  # attempts exhausted; the reason says why
}


def refused_record(row: CsvRow) -> Record:
    """A row that was never sent: `invalid`, with the reason naming the field."""
    return _record(row.external_id, row.domain, "invalid", [], row.problem)


def skipped_record(row: CsvRow) -> Record:
    """A row sent with skip_existing whose lead already had an active email in Supabase: no item."""
    return _record(
        row.external_id,
        _domain(row),
        "skipped",
        [],
        "the lead already has an active email (skip_existing)",
    )


def lead_item_record(item: Mapping[str, Any], if_unfinished: tuple[str, str]) -> Record:
    """An item of a job made from stored leads: the row is the item's own lead."""
    lead = item.get("lead") or {}
    row = CsvRow(0, str(lead.get("domain", "")), lead.get("external_id"), dict(lead))
    return item_record(row, item, if_unfinished)


def item_record(row: CsvRow, item: Mapping[str, Any] | None, if_unfinished: tuple[str, str]) -> Record:
    """An item's outcome. An item still in flight gets `if_unfinished` (status, reason): `failed` after a
    timeout, `skipped` when its job was cancelled; the reason adds where the item stood."""
    domain = _domain(row)
    status = str(item["status"]) if item else "missing"
    reason = item.get("reason") if item else None
    if item is None or status not in OUTPUT_STATUS:
        where = f"still {status}" + (f": {reason}" if reason else "")
        return _record(row.external_id, domain, if_unfinished[0], [], f"{if_unfinished[1]} ({where})")
    emails = [{name: email.get(name) for name in EMAIL_FIELDS} for email in item.get("emails") or []]
    return _record(row.external_id, domain, OUTPUT_STATUS[status], emails, reason)


def _domain(row: CsvRow) -> str:
    """The lead's domain in normal form (as written when it has none)."""
    lead = (row.lead or {}).get("domain", row.domain)
    try:
        return normalize_domain(lead)
    except DomainError:
        return lead


def _record(
    external_id: str | None, domain: str, status: str, emails: list[Any], reason: str | None
) -> Record:
    return {
        "external_id": external_id,
        "domain": domain,
        "status": status,
        "emails": emails,
        "reason": reason,
    }


def write_records(path: Path, records: Iterable[Record]) -> None:
    """JSON Lines, written whole or not at all: a half-written file would pass for a complete one."""
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    os.replace(partial, path)


def print_table(records: Sequence[Record], out: TextIO, simulated: bool) -> None:
    if simulated:
        print(f"== {SIMULATED_BANNER} ==", file=out)
    columns = (("domain", 28), ("status", 10), ("email", 38), ("source", 21), ("conf", 4), ("type", 9))
    header = " ".join(f"{name:<{width}}" for name, width in columns) + f" {'verdict':<13} state"
    print(header, file=out)
    print("-" * len(header), file=out)
    for r in records:
        lead = f"{str(r['domain'])[:28]:<28} {r['status']:<10}"
        if not r["emails"]:
            print(f"{lead} {'-':<38} {(r['reason'] or '')[:70]}", file=out)
        for i, e in enumerate(r["emails"]):
            print(
                f"{lead if i == 0 else ' ' * 39} {str(e['email'])[:38]:<38} {e['source']:<21} "
                f"{e['confidence_score']:>4} {e['email_type']:<9} {e['hunter_status']:<13} {e['status']}",
                file=out,
            )
        if r["emails"] and r["reason"]:
            print(f"{'':<39} note: {r['reason']}", file=out)  # e.g. the named person was not found


def print_cost(records: Sequence[Record], jobs: Sequence[Mapping[str, Any]], out: TextIO) -> None:
    """Found leads and what they cost, from the jobs' counters (what GET /jobs/{id} reports)."""
    found = sum(1 for r in records if r["status"] == "found")
    line = f"\n{found}/{len(records)} leads found."
    if jobs:
        hunter_calls = sum(int(j["counters"]["api_calls_hunter"]) for j in jobs)
        perplexity_calls = sum(int(j["counters"]["api_calls_perplexity"]) for j in jobs)
        credits = sum(float(j["cost"]["hunter_credits"]) for j in jobs)
        dollars = sum(float(j["cost"]["perplexity_usd"]) for j in jobs)
        line += (
            f" Cost: Hunter {hunter_calls} calls, {credits:g} credits; "
            f"Perplexity {perplexity_calls} calls, ${dollars:.4f}"
        )
    print(line, file=out)

"""One output record per input row, in the documented results format, and the table printed from them.

    {"line", "external_id", "domain", "status": found|risky|not_found|failed|skipped|invalid,
     "emails": [...], "reason"}

`line` is the input row's (None for a job made from stored leads); a row of `enrich verify` also has
`email`, its address (as checked, or as written when refused). Each email carries the address, the
person it belongs to (`person` as found, split into `first_name` and `last_name`), `position`, and its
provenance: `source`, `method`, `confidence_score`, `email_type`, `hunter_status`, `status`,
`verified_at`, `deliverability` and `contact` (the last two missing from results stored before they
existed), and `lawful_basis` and `review` when the job recorded them (docs/privacy.md).

Held addresses (the workspace's contact approval): the records are made from the API's items, which leave
out every address pending review or rejected, so no results file ever holds one; a record whose lead has
addresses waiting says how many (`held_for_review`, and in its reason), and one whose lead is in a flagged
country carries `region_flag`.

Item statuses map onto that vocabulary (dead -> failed); an item a run had to leave unfinished is reported
too, never dropped, so the output always has exactly one record per input row. A duplicate row gets the
record of the row it repeats, with its own line and the reason "duplicate of line N" (`expand_duplicates`).
Files are written by `output` (JSON Lines or CSV); `write_records` is its JSON Lines shorthand.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from enrich_tools.local.output import write_results
from enrich_tools.local.providers import SIMULATED_BANNER
from enrich_tools.local.rows import CsvRow
from leadenrich.engine.domains import DomainError, normalize_domain
from leadenrich.engine.names import parse_person_name

Record = dict[str, Any]

EMAIL_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "person",
    "position",
    "source",
    "method",
    "confidence_score",
    "email_type",
    "hunter_status",
    "status",
    "verified_at",
)
# Results stored before they existed lack them (lawful_basis, review: docs/privacy.md).
OPTIONAL_EMAIL_FIELDS = ("deliverability", "contact", "lawful_basis", "review")
PRIVACY_FIELDS = ("held_for_review", "region_flag")  # an item's, when set (never on other records)
COMPANY_FIELDS = ("company", "resolution")  # an item's, when set (docs/company-data.md)
OUTPUT_STATUS = {
    "found": "found",
    "risky": "risky",
    "not_found": "not_found",
    "invalid": "invalid",
    "failed": "failed",
    "skipped": "skipped",
    "dead": "failed",  # attempts exhausted; the reason says why
}
TABLE_ROWS = 40  # leads print_table shows by default: about a screenful


def refused_record(row: CsvRow) -> Record:
    """A row that was never sent: `invalid`, with the reason naming the field. A duplicate not (yet) given
    its first occurrence's result by `expand_duplicates` is `skipped`, pointing at that row."""
    if row.duplicate_of is not None:
        reason = f"duplicate of line {row.duplicate_of} (not sent: its result is that line's)"
        return _record(row.line, row.external_id, _domain(row), "skipped", [], reason, _address(row))
    return _record(row.line, row.external_id, row.domain, "invalid", [], row.problem, _address(row))


def skipped_record(row: CsvRow) -> Record:
    """A row sent with skip_existing whose lead already had an active email in Supabase: no item."""
    return _record(
        row.line,
        row.external_id,
        _domain(row),
        "skipped",
        [],
        "the lead already has an active email (skip_existing)",
    )


def lead_item_record(item: Mapping[str, Any], if_unfinished: tuple[str, str]) -> Record:
    """An item of a job made from stored leads: the row is the item's own lead (no input line)."""
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
        return _record(
            row.line,
            row.external_id,
            domain,
            if_unfinished[0],
            [],
            f"{if_unfinished[1]} ({where})",
            _address(row),
        )
    emails = [email_record(email) for email in item.get("emails") or []]
    held = item.get("held_for_review")
    if held:
        note = f"{held} address{'es' if held > 1 else ''} held for review (GET /contacts)"
        reason = f"{reason}; {note}" if reason else note
    resolved = (item.get("resolution") or {}).get("domain")
    domain = domain or (str(resolved) if resolved else domain)  # a name-only lead: the domain found
    record = _record(row.line, row.external_id, domain, OUTPUT_STATUS[status], emails, reason, _address(row))
    record |= {name: item[name] for name in COMPANY_FIELDS if item.get(name)}  # docs/company-data.md
    return record | {name: item[name] for name in PRIVACY_FIELDS if item.get(name)}


def email_record(email: Mapping[str, Any]) -> Record:
    """An address as the API gives it (`FoundEmail.as_record()`), with the person's name split."""
    first_name, last_name = split_person(email.get("person"))
    record = {name: email.get(name) for name in EMAIL_FIELDS}
    record["first_name"], record["last_name"] = first_name, last_name
    record.update({name: email[name] for name in OPTIONAL_EMAIL_FIELDS if name in email})
    return record


def split_person(person: object) -> tuple[str | None, str | None]:
    """(first name, last name) of a person's name as the providers give it, read by `leadenrich.engine.names`:
    the given name with any middle names, and the family name with its particles ("Ludwig van
    Beethoven" -> "Ludwig", "van Beethoven"; "毛泽东" -> "泽东", "毛"). Text that is not one person's
    name ("Board of Directors") gives (None, None): `person` still shows it as found."""
    if not isinstance(person, str) or not person.strip():
        return None, None
    parsed = parse_person_name(person)
    if parsed is None:
        return None, None
    return " ".join((parsed.given, *parsed.middles)).strip() or None, parsed.family or None


def duplicate_record(row: CsvRow, original: Mapping[str, Any]) -> Record:
    """A duplicate row's record: its first occurrence's result, under its own line."""
    record: Record = copy.deepcopy(dict(original))
    note = f"duplicate of line {row.duplicate_of}"
    record["line"] = row.line
    record["reason"] = f"{note}: {original['reason']}" if original.get("reason") else note
    return record


def expand_duplicates(rows: Sequence[CsvRow], records_by_line: Mapping[int, Record]) -> list[Record]:
    """One record per row, in input order: the row's own from `records_by_line`, a duplicate's copy of
    the record of the row it repeats, or `refused_record` for a row that was never sent."""
    records = []
    for row in rows:
        if row.duplicate_of is not None and row.duplicate_of in records_by_line:
            records.append(duplicate_record(row, records_by_line[row.duplicate_of]))
        else:
            records.append(records_by_line.get(row.line) or refused_record(row))
    return records


def _domain(row: CsvRow) -> str:
    """The lead's domain in normal form (as written when it has none)."""
    lead = (row.lead or {}).get("domain", row.domain)
    try:
        return normalize_domain(lead)
    except DomainError:
        return lead


def _address(row: CsvRow) -> str | None:
    """The address of a row of addresses (None for a lead's row)."""
    return (row.lead or {}).get("email") or row.address


def _record(
    line: int | None,
    external_id: str | None,
    domain: str,
    status: str,
    emails: list[Any],
    reason: str | None,
    email: str | None = None,
) -> Record:
    record: Record = {"line": line or None}  # 0: a stored lead's item, which has no input line
    if email is not None:
        record["email"] = email  # only in a verification's records: a lead's stay as they were
    return record | {
        "external_id": external_id,
        "domain": domain,
        "status": status,
        "emails": emails,
        "reason": reason,
    }


def write_records(path: Path, records: Iterable[Record], rows: Sequence[CsvRow] = ()) -> None:
    """JSON Lines, written whole or not at all (`output.write_results` writes CSV too)."""
    write_results(path, "jsonl", rows, records)


# --- the table ---------------------------------------------------------------------------------------------

_TABLE = (("domain", 26), ("status", 9), ("email", 34), ("person", 28), ("source", 20))
_LEAD_WIDTH = _TABLE[0][1] + 1 + _TABLE[1][1]


def print_table(
    records: Sequence[Record],
    out: TextIO,
    simulated: bool,
    *,
    max_rows: int | None = TABLE_ROWS,
    output: Path | str | None = None,
) -> None:
    """The records as a table: a line per address (with its person and position), or the reason when
    none was found. At most `max_rows` leads (None: all); then where the rest are (`output`)."""
    if simulated:
        print(f"== {SIMULATED_BANNER} ==", file=out)
    header = " ".join(f"{name:<{width}}" for name, width in _TABLE)
    header += f" {'conf':>4} {'type':<9} {'deliverability':<16} state"
    print(header, file=out)
    print("-" * len(header), file=out)
    shown = records if max_rows is None else records[: max(0, max_rows)]
    for r in shown:
        lead = f"{_cut(r['domain'], 26):<26} {_cut(r['status'], 9):<9}"
        emails = r.get("emails") or []
        if not emails:
            print(f"{lead} {'-':<34} {_cut(r.get('reason'), 80)}", file=out)
        for i, e in enumerate(emails):
            print(
                f"{lead if i == 0 else ' ' * _LEAD_WIDTH} {_cut(e.get('email'), 34):<34} "
                f"{_cut(_who(e), 28):<28} {_cut(e.get('source'), 20):<20} "
                f"{_cut(e.get('confidence_score'), 4):>4} {_cut(e.get('email_type'), 9):<9} "
                f"{_cut(e.get('deliverability') or e.get('hunter_status'), 16):<16} "
                f"{_cut(e.get('status'), 10)}",
                file=out,
            )
        if emails and r.get("reason"):
            print(f"{'':<{_LEAD_WIDTH}} note: {r['reason']}", file=out)  # e.g. the named person was not found
    if (rest := len(records) - len(shown)) > 0:
        where = f"in {output}" if output is not None else "(write them all with --output FILE)"
        print(f"... {rest} more rows {where}", file=out)


def _who(email: Mapping[str, Any]) -> str:
    """ "Jane Doe, CEO": the person and position an address belongs to; "(role address)" for a generic one,
    so a lead found only through info@ reads as such; "-" when unknown."""
    who = ", ".join(str(x) for x in (email.get("person"), email.get("position")) if x)
    if email.get("contact") == "generic":
        return who or "(role address)"
    return who or "-"


def _cut(value: object, width: int) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"

"""`enrich suppress add|list|remove|import`: a workspace's suppression list (docs/privacy.md "Suppression"),
straight against the lists, as `enrich keys` and `enrich budget` are.

Deployed, the lists are in the stack's table (`--table`, else `$TABLE_NAME`), reached with the caller's AWS
credentials; locally, in the state's SQLite file (`--state DIR`, default `.enrich-state` when no table is
named), which `enrich local up` and `enrich run` read (`enrich_tools.operator_target`). Why not through the
API: an operator answering an opt-out request by email acts for any workspace, and for the service-wide
list (`--service-wide`), which no workspace's key may touch. A workspace uses `POST /suppressions`.

- `add --workspace W --email ADDR --domain DOMAIN --person FIRST LAST DOMAIN` (each repeatable): an
  address, everyone at a domain, a person at a domain. Addresses and people are stored as keyed hashes
  (`PRIVACY_HASH_KEY` must be the stack's for the hashes to match its own), domains in clear.
- `list --workspace W` (or `--service-wide`): newest first, masked; `--cursor` for the next page.
- `remove --workspace W KEY`: a key as listed. A service-wide entry is not removed here: a Hunter 451 is
  permanent (the person asked not to be processed), and an erasure's suppression is what keeps the person
  erased.
- `import FILE --workspace W`: a CSV/TSV (any common encoding) or .xlsx with a header; columns found by
  name in any case or spacing (`Email`, `E-mail Address`, `First Name`, `Surname`, `Company Domain`,
  `Website`...). Each row is one entry: its address when it has one, else the person (first name, last
  name and domain), else the domain. Rows that are none are reported by line and field, never echoed;
  the others are added (reason `imported`). Exit 0: every row added or already listed; 3: some rows
  refused (the rest added); 2: the file or the arguments cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from enrich_tools.local.addresses import EMAIL_ALIASES
from enrich_tools.local.reporting import FAILED, OK, UsageError
from enrich_tools.local.rows import ALIASES, header_key
from enrich_tools.local.sheets import CsvError, read_table
from enrich_tools.operator_target import (
    adapter,
    aws_failure,
    record,
    target_arguments,
    valid_workspace_option,
)
from leadenrich.jobs.encoding import MAX_LIMIT, BadCursor
from leadenrich.privacy.identity import Identity
from leadenrich.privacy.ports import SERVICE_WIDE, Suppression, SuppressionList, SuppressionReason
from leadenrich.privacy.suppression import MAX_ENTRIES, EntryError, SuppressionEntry
from leadenrich.privacy.views import SuppressedView, SuppressionsPage
from leadenrich.sqlite.db import Database

SOME_REFUSED = 3
FIELDS = ("email", "first_name", "last_name", "domain")
_RANKS = {
    field: {
        header_key(alias): rank
        for rank, alias in enumerate(EMAIL_ALIASES if field == "email" else ALIASES[field])
    }
    for field in FIELDS
}


def _lists(args: argparse.Namespace) -> SuppressionList:
    """The lists the arguments name (`operator_target.adapter`)."""

    def local(db: Database) -> SuppressionList:
        from leadenrich.sqlite.suppression import SqliteSuppressionList

        return SqliteSuppressionList(db)

    def aws(table: str, client: Any) -> SuppressionList:
        from leadenrich.aws.dynamo_suppression import DynamoSuppressionList

        return DynamoSuppressionList(table, client)

    return adapter(args, local=local, aws=aws)


def _owner(args: argparse.Namespace) -> str:
    """The list acted on: the workspace's, or the service-wide one."""
    if getattr(args, "service_wide", False):
        return SERVICE_WIDE
    workspace: str | None = args.workspace
    if workspace is None:
        raise UsageError("--workspace W (or --service-wide) is required")
    return valid_workspace_option(workspace)


def _where(owner: str) -> str:
    return "the service-wide list" if owner == SERVICE_WIDE else f"workspace {owner}'s list"


async def _add(
    lists: SuppressionList, owner: str, identities: Sequence[Identity], reason: SuppressionReason
) -> int:
    now = datetime.now(UTC)
    unique = list({i.key: i for i in identities}.values())
    added = 0
    for start in range(0, len(unique), MAX_ENTRIES):
        batch = unique[start : start + MAX_ENTRIES]
        added += await lists.add([Suppression(owner, i, reason, now) for i in batch])
    return added


def _entry_identity(entry: dict[str, str], where: str) -> Identity:
    """An entry as the API checks it; UsageError naming `where` and the field, never the value."""
    try:
        return SuppressionEntry.model_validate(entry).identity()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"{where}: {field}: {str(first['msg']).removeprefix('Value error, ')}") from None
    except EntryError as exc:
        raise UsageError(f"{where}: {exc}") from None


def cmd_add(args: argparse.Namespace) -> int:
    owner = _owner(args)
    identities = [_entry_identity({"email": e}, "--email") for e in args.email or []]
    identities += [_entry_identity({"domain": d}, "--domain") for d in args.domain or []]
    identities += [
        _entry_identity({"first_name": f, "last_name": last, "domain": d}, "--person")
        for f, last, d in args.person or []
    ]
    if not identities:
        raise UsageError("nothing to add: give --email, --domain or --person (each may be repeated)")
    try:
        added = asyncio.run(_add(_lists(args), owner, identities, SuppressionReason.MANUAL))
    except UsageError:
        raise
    except Exception as exc:  # botocore: no region, no credentials, no such table, access denied
        return aws_failure(exc, args, "the suppression list")
    unique = list({i.key: i for i in identities}.values())
    _record(args, owner, "suppression.add", [i.key for i in unique])
    if args.json:
        entries = [SuppressedView.of(i).model_dump(mode="json") for i in unique]
        print(json.dumps({"added": added, "entries": entries}, indent=2))
        return OK
    print(f"{_where(owner)}: {added} added, {len(unique) - added} already there")
    for identity in unique:
        print(f"  {identity.key:<68} {identity.kind.value:<7} {identity.label}")
    return OK


def cmd_list(args: argparse.Namespace) -> int:
    owner = _owner(args)
    try:
        page = asyncio.run(_lists(args).list(owner, limit=args.limit, cursor=args.cursor))
    except UsageError:
        raise
    except BadCursor as exc:  # a cursor of another listing, or not one at all
        raise UsageError(f"--cursor: {str(exc).removeprefix('cursor:').strip()}") from None
    except Exception as exc:
        return aws_failure(exc, args, "the suppression list")
    view = SuppressionsPage.of(page)
    if args.json:
        print(json.dumps(view.model_dump(mode="json"), indent=2))
        return OK
    print(f"{_where(owner)}, newest first:")
    print(f"  {'key':<68} {'kind':<7} {'reason':<9} {'added (UTC)':<19} label")
    for entry in view.suppressions:
        added = entry.created_at.isoformat()[:19]
        print(f"  {entry.key:<68} {entry.kind.value:<7} {entry.reason.value:<9} {added:<19} {entry.label}")
    if not view.suppressions:
        print("  (none)")
    if view.cursor:
        print(f"more: --cursor {view.cursor}")
    return OK


def _record(args: argparse.Namespace, owner: str, action: str, keys: list[str]) -> None:
    """In the owner workspace's audit trail (the service-wide list's changes under its `*` workspace)."""
    record(args, owner, action, keys[0] if len(keys) == 1 else "", keys=len(keys))


def cmd_remove(args: argparse.Namespace) -> int:
    owner = _owner(args)
    try:
        removed = asyncio.run(_lists(args).remove(owner, args.key))
    except UsageError:
        raise
    except Exception as exc:
        return aws_failure(exc, args, "the suppression list")
    if not removed:
        print(f"error: no entry {args.key} on {_where(owner)}", file=sys.stderr)
        return FAILED
    _record(args, owner, "suppression.remove", [args.key])
    print(f"{args.key}: removed from {_where(owner)}")
    return OK


def _columns(path: Path, headers: tuple[str, ...]) -> dict[str, int]:
    """field -> column index, by the best-ranked alias of each field; CsvError when none is usable."""
    columns: dict[str, int] = {}
    for field, ranks in _RANKS.items():
        found = sorted((ranks[k], i) for i, h in enumerate(headers) if (k := header_key(h)) in ranks)
        found = [(rank, i) for rank, i in found if i not in columns.values()]
        if found:
            columns[field] = found[0][1]
    if "email" not in columns and "domain" not in columns:
        listing = ", ".join(repr(h) for h in headers if h) or "none"
        raise CsvError(
            f"{path}: no column of addresses or domains (found: {listing}); the columns are email, or "
            "first_name, last_name and domain, or domain (any case or spacing; common names like "
            "'E-mail Address', 'Surname', 'Website' too)"
        )
    return columns


def _row_entry(cells: Sequence[str], columns: dict[str, int]) -> dict[str, str]:
    """A row's entry: its address when it has one, else the person or the domain it has."""
    values = {f: cells[i].strip() for f, i in columns.items() if i < len(cells) and cells[i].strip()}
    if "email" in values:
        return {"email": values["email"]}
    return {f: v for f, v in values.items() if f != "email"}


def cmd_import(args: argparse.Namespace) -> int:
    owner = _owner(args)
    path = Path(args.file)
    try:
        table = read_table(path)
        columns = _columns(path, table.headers)
    except CsvError as exc:
        raise UsageError(str(exc)) from None
    identities: list[Identity] = []
    refused = 0
    for line, cells in table.records:
        try:
            identities.append(_entry_identity(_row_entry(cells, columns), f"{path} line {line}"))
        except UsageError as exc:
            refused += 1
            print(f"skipped {exc}", file=sys.stderr)
    mapping = ", ".join(f"{f} <- {table.headers[i]!r}" for f, i in columns.items())
    print(f"{path}: {len(table.records)} rows; columns: {mapping}")
    try:
        added = (
            asyncio.run(_add(_lists(args), owner, identities, SuppressionReason.IMPORTED))
            if identities
            else 0
        )
    except UsageError:
        raise
    except Exception as exc:
        return aws_failure(exc, args, "the suppression list")
    unique = len({i.key for i in identities})
    repeated = len(identities) - unique
    if identities:
        record(args, owner, "suppression.import", "", keys=unique, added=added)
    print(
        f"{_where(owner)}: {added} added, {unique - added} already there, {repeated} repeated in the file, "
        f"{refused} rows refused"
    )
    return SOME_REFUSED if refused else OK


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number") from None
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"{text}: between 1 and {MAX_LIMIT}")
    return value


def add_parsers(sub: Any) -> None:
    where = target_arguments()
    owner = argparse.ArgumentParser(add_help=False)
    whose = owner.add_mutually_exclusive_group()
    whose.add_argument("--workspace", help="the workspace whose list it is")
    whose.add_argument(
        "--service-wide", action="store_true", help="the list every workspace is held to (operators only)"
    )
    suppress = sub.add_parser(
        "suppress",
        help="a workspace's suppression list: who is never searched, stored or returned (docs/privacy.md)",
    ).add_subparsers(dest="suppress_command", required=True)

    adding = suppress.add_parser("add", parents=[where, owner], help="add addresses, people or domains")
    adding.add_argument("--email", action="append", metavar="ADDRESS", help="an address (repeatable)")
    adding.add_argument("--domain", action="append", help="everyone at a domain (repeatable)")
    adding.add_argument(
        "--person",
        action="append",
        nargs=3,
        metavar=("FIRST", "LAST", "DOMAIN"),
        help='a person at a company, e.g. --person "Mary Ann" Smith acme.com (repeatable)',
    )
    adding.add_argument("--json", action="store_true", help="print the entries as POST /suppressions answers")
    adding.set_defaults(func=cmd_add)

    listing = suppress.add_parser("list", parents=[where, owner], help="the entries, newest first, masked")
    listing.add_argument("--limit", type=_limit, default=100, help="entries per page (1-1000)")
    listing.add_argument("--cursor", help="the next page (printed after a full page)")
    listing.add_argument("--json", action="store_true", help="print the page as GET /suppressions answers")
    listing.set_defaults(func=cmd_list)

    removing = suppress.add_parser("remove", parents=[where], help="remove a workspace's entry by its key")
    removing.add_argument("--workspace", required=True, help="the workspace whose list it is")
    removing.add_argument("key", help="the entry's key, as `list` shows it")
    removing.set_defaults(func=cmd_remove)

    importing = suppress.add_parser(
        "import", parents=[where, owner], help="add every row of a CSV/TSV or .xlsx file (reason: imported)"
    )
    importing.add_argument("file", help="columns: email, or first_name + last_name + domain, or domain")
    importing.set_defaults(func=cmd_import)

"""`enrich buffer ...` and `enrich person`: the lead buffer and person enrichment on a local or deployed API
(docs/buffer.md, docs/enrich.md), through `ApiClient`. Each prints the API's answer as JSON.

    enrich buffer push --namespace N --csv leads.csv   # columns: domain, company_name, first_name,
                                                       # last_name, email, external_id (others go in data)
    enrich buffer next --namespace N [--run ID]
    enrich buffer leads [--namespace N] [--status S] [--limit L] [--cursor C]
    enrich buffer cursor N [--set '{"page": 5}']
    enrich person ada@acme.com
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from enrich_tools.local.api_commands import api_client
from enrich_tools.local.reporting import OK, UsageError
from leadenrich.buffer.models import MAX_PUSH

LEAD_COLUMNS = ("domain", "company_name", "first_name", "last_name", "email", "external_id")


def _print(answer: Any) -> None:
    print(json.dumps(answer, indent=2, ensure_ascii=False))


def read_buffer_leads(path: Path) -> list[dict[str, Any]]:
    """A CSV's rows as the API's leads: the lead columns by name, every other non-empty cell in `data`."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: {exc}") from None
    leads = []
    for row in rows:
        cells = {str(k).strip().lower(): (v or "").strip() for k, v in row.items() if k}
        lead: dict[str, Any] = {k: cells[k] for k in LEAD_COLUMNS if cells.get(k)}
        data = {k: v for k, v in cells.items() if k not in LEAD_COLUMNS and v}
        if data:
            lead["data"] = data
        if lead:
            leads.append(lead)
    if not leads:
        raise UsageError(f"{path}: no lead (a header row with domain or email, then one lead a row)")
    return leads


def cmd_buffer_push(args: argparse.Namespace) -> int:
    leads = read_buffer_leads(Path(args.csv))
    totals: dict[str, int] = {}
    with api_client(args) as client:
        for start in range(0, len(leads), MAX_PUSH):
            body = {"namespace": args.namespace, "leads": leads[start : start + MAX_PUSH]}
            for name, count in client.buffer("POST", "/buffer/push", body).items():
                totals[name] = totals.get(name, 0) + int(count)
    _print(totals)
    return OK


def cmd_buffer_next(args: argparse.Namespace) -> int:
    body = {"namespace": args.namespace} | ({"parent_run_id": args.run} if args.run else {})
    with api_client(args) as client:
        _print(client.buffer("POST", "/buffer/next", body))
    return OK


def cmd_buffer_leads(args: argparse.Namespace) -> int:
    with api_client(args) as client:
        _print(
            client.buffer(
                "GET",
                "/leads",
                namespace=args.namespace,
                enrichment_status=args.status,
                limit=str(args.limit),
                cursor=args.cursor,
            )
        )
    return OK


def cmd_buffer_cursor(args: argparse.Namespace) -> int:
    path = f"/cursor/{args.namespace}"  # a namespace's characters need no escaping in a path
    with api_client(args) as client:
        if args.set is None:
            _print(client.buffer("GET", path))
            return OK
        try:
            state = json.loads(args.set)
        except ValueError as exc:
            raise UsageError(f"--set: not JSON ({exc})") from None
        _print(client.buffer("PUT", path, {"state": state}))
    return OK


def cmd_person(args: argparse.Namespace) -> int:
    with api_client(args) as client:
        _print(client.buffer("POST", "/enrich", {"email": args.email}))
    return OK


def add_parsers(sub: Any) -> None:
    """`enrich buffer ...` and `enrich person`, on the `enrich` parser's subcommands."""
    api = argparse.ArgumentParser(add_help=False)
    api.add_argument("--api-url", help="the API's base URL (default: $ENRICH_API_URL)")
    api.add_argument("--api-key", help="sent as X-API-Key (default: $ENRICH_API_KEY)")
    buffer = sub.add_parser(
        "buffer", help="the lead buffer: push, next, served leads, cursors"
    ).add_subparsers(dest="buffer_command", required=True)
    push = buffer.add_parser("push", parents=[api], help=f"push a CSV's leads (in pushes of {MAX_PUSH:,})")
    push.add_argument("--namespace", required=True)
    push.add_argument("--csv", required=True, help="domain, company_name, first_name, last_name, email, ...")
    push.set_defaults(func=cmd_buffer_push)
    serve = buffer.add_parser("next", parents=[api], help="serve the next lead, enriched")
    serve.add_argument("--namespace", required=True)
    serve.add_argument("--run", help="the run (parent_run_id): a retry gets the same lead")
    serve.set_defaults(func=cmd_buffer_next)
    leads = buffer.add_parser("leads", parents=[api], help="served leads, newest first")
    leads.add_argument("--namespace")
    leads.add_argument("--status", choices=["pending", "completed", "failed", "deferred"])
    leads.add_argument("--limit", type=int, default=100, help="1-1000 (100)")
    leads.add_argument("--cursor", help="the next page, as printed by the previous one")
    leads.set_defaults(func=cmd_buffer_leads)
    cursor = buffer.add_parser("cursor", parents=[api], help="read (or --set) a namespace's cursor state")
    cursor.add_argument("namespace")
    cursor.add_argument("--set", help="a JSON object to store")
    cursor.set_defaults(func=cmd_buffer_cursor)
    person = sub.add_parser("person", parents=[api], help="who an address belongs to (POST /enrich)")
    person.add_argument("email")
    person.set_defaults(func=cmd_person)


__all__ = ["add_parsers", "read_buffer_leads"]

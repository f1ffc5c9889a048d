"""The `enrich` command line.

`domain` and `demo` run the engine in this process; `run`, `local up`, `jobs`, `dlq` and `erase` go through
the jobs API, on the embedded local stack or a deployed one (enrich_tools.local.commands, enrich_tools.erase);
`keys` manages a deployed stack's API keys in its table (enrich_tools.keys), `budget` a workspace's monthly
credit budget (enrich_tools.budget), `suppress` a workspace's suppression list (enrich_tools.suppress),
`workspace settings` its personal-data settings (enrich_tools.workspace), `reverify run` the re-verification
sweep (enrich_tools.reverify).

Real providers are used when `HUNTER_API_KEY` is set (Perplexity too when `PERPLEXITY_API_KEY` is);
otherwise an embedded provider simulator is started on loopback and every result is labelled as simulated
data. Real and simulated providers are never mixed within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from enrich_tools import budget, erase, keys, reverify, suppress, workspace
from enrich_tools.batch import enrich_many
from enrich_tools.local import buffer_commands, commands
from enrich_tools.local.providers import SIMULATED_BANNER as SIMULATED_BANNER  # re-exported: moved there
from enrich_tools.local.providers import provider_settings as provider_settings
from leadenrich.deadline import Deadline
from leadenrich.engine.models import EnrichmentResult, Lead, LeadStatus, Usage
from leadenrich.engine.providers.http import close_shared_http_client
from leadenrich.engine.settings import build_enricher
from leadenrich.engine.waterfall import Enricher
from leadenrich.settings_errors import SettingsError

CSV_COLUMNS = ("domain", "company_name", "first_name", "last_name", "external_id")


def enrich_leads(enricher: Enricher, leads: Sequence[Lead]) -> list[EnrichmentResult]:
    async def one(lead: Lead) -> EnrichmentResult:
        return await enricher.enrich(lead, Deadline.after(60))

    async def batch() -> list[EnrichmentResult]:
        try:
            return await enrich_many(one, leads)
        finally:
            await close_shared_http_client()

    return asyncio.run(batch())


def read_leads(path: Path) -> tuple[list[Lead], list[str]]:
    """Valid leads, and one error line per invalid row naming the row and the field."""
    leads: list[Lead] = []
    errors: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "domain" not in reader.fieldnames:
            raise SystemExit(
                f"{path}: the header must have a 'domain' column (columns: {', '.join(CSV_COLUMNS)})"
            )
        for number, row in enumerate(reader, start=2):
            values = {k: (row.get(k) or "") for k in CSV_COLUMNS if k in row}
            try:
                leads.append(Lead.model_validate(values))
            except ValidationError as exc:
                first = exc.errors()[0]
                errors.append(f"{path}:{number}: field '{first['loc'][0]}': {first['msg']}")
    return leads, errors


def print_results(results: Sequence[EnrichmentResult], out: TextIO, simulated: bool) -> None:
    if simulated:
        print(f"== {SIMULATED_BANNER} ==", file=out)
    columns = (("domain", 28), ("status", 10), ("email", 38), ("source", 21), ("conf", 4), ("type", 9))
    header = " ".join(f"{name:<{width}}" for name, width in columns) + f" {'verdict':<13} state"
    print(header, file=out)
    print("-" * len(header), file=out)
    for r in results:
        if not r.emails:
            print(f"{r.domain[:28]:<28} {r.status.value:<10} {'-':<38} {(r.reason or '')[:70]}", file=out)
        for i, e in enumerate(r.emails):
            lead = f"{r.domain[:28]:<28} {r.status.value:<10}" if i == 0 else " " * 39
            print(
                f"{lead} {e.email[:38]:<38} {e.source.value:<21} {e.confidence_score:>4} "
                f"{e.email_type.value:<9} {e.hunter_status.value:<13} {e.status.value}",
                file=out,
            )
        if r.emails and r.reason:
            print(f"{'':<39} note: {r.reason}", file=out)  # e.g. a named person not found, fallback used
    print_cost(results, out)


def print_cost(results: Sequence[EnrichmentResult], out: TextIO) -> None:
    total = Usage()
    for r in results:
        total.add(r.usage)
    found = sum(1 for r in results if r.status is LeadStatus.FOUND)
    print(
        f"\n{found}/{len(results)} leads found. Cost: Hunter {total.hunter.calls} calls, "
        f"{total.hunter.credits:g} credits ({total.hunter.cache_hits} cache hits); "
        f"Perplexity {total.perplexity.calls} calls, ${total.perplexity.cost_usd:.4f}",
        file=out,
    )


def cmd_domain(args: argparse.Namespace) -> int:
    first, _, last = (args.name or "").strip().partition(" ")
    try:
        lead = Lead(
            domain=args.domain, company_name=args.company, first_name=first or None, last_name=last or None
        )
    except ValidationError as exc:
        first_error = exc.errors()[0]
        print(f"error: field '{first_error['loc'][0]}': {first_error['msg']}", file=sys.stderr)
        return 2
    with provider_settings(args.seed) as (settings, simulated):
        results = enrich_leads(build_enricher(settings), [lead])
    if args.json:
        record = results[0].as_record() | {"simulated": simulated}
        print(json.dumps(record, indent=2, ensure_ascii=False))
    else:
        print_results(results, sys.stdout, simulated)
    return 0 if results[0].status in (LeadStatus.FOUND, LeadStatus.NOT_FOUND) else 1


def cmd_demo(args: argparse.Namespace) -> int:
    leads, errors = read_leads(Path(args.csv))
    for line in errors:
        print(f"skipped {line}", file=sys.stderr)
    with provider_settings(args.seed) as (settings, simulated):
        where = " on the provider simulator" if simulated else ""
        print(f"Enriching {len(leads)} leads from {args.csv}{where}...")
        results = enrich_leads(build_enricher(settings), leads)
    print_results(results, sys.stdout, simulated)
    if args.output:
        with Path(args.output).open("w", encoding="utf-8") as handle:
            for r in results:
                handle.write(json.dumps(r.as_record() | {"simulated": simulated}, ensure_ascii=False) + "\n")
        print(f"Results written to {args.output}")
    return 0


def cmd_simulator(args: argparse.Namespace) -> int:
    from enrich_tools.simulator.config import SimConfig
    from enrich_tools.simulator.server import serve_forever

    serve_forever(args.host, args.port, SimConfig(seed=args.seed, time_scale=args.time_scale))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="enrich", description="Find and verify decision-makers' email addresses."
    )
    sub = root.add_subparsers(dest="command", required=True)

    domain = sub.add_parser("domain", help="enrich one company domain and print the result and its cost")
    domain.add_argument("domain")
    domain.add_argument("--name", help='a person to find, e.g. "Jane Doe"')
    domain.add_argument("--company", help="the company's name (helps Perplexity)")
    domain.add_argument("--json", action="store_true", help="print the result as JSON")
    domain.add_argument("--seed", type=int, default=7, help="simulator world seed (when no keys are set)")
    domain.set_defaults(func=cmd_domain)

    demo = sub.add_parser("demo", help="enrich every lead of a CSV in this process and print a table")
    demo.add_argument("--csv", default="examples/leads.csv")
    demo.add_argument("--output", help="also write one JSON object per lead to this file")
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=cmd_demo)

    sim = sub.add_parser("simulator", help="serve the provider simulator in the foreground")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8787)
    sim.add_argument("--seed", type=int, default=7)
    sim.add_argument("--time-scale", type=float, default=1.0, help="multiplies simulated latencies")
    sim.set_defaults(func=cmd_simulator)

    commands.add_parsers(sub)
    keys.add_parsers(sub)
    budget.add_parsers(sub)
    suppress.add_parsers(sub)
    erase.add_parsers(sub)
    workspace.add_parsers(sub)
    buffer_commands.add_parsers(sub)
    reverify.add_parsers(sub)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return commands.run_command(args)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

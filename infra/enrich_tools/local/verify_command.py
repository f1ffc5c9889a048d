"""`enrich verify`: a file of addresses through Hunter's Email Verifier on the embedded local stack, as
`enrich run` does for leads: the same stack, state, resume-by-rerunning, progress, exit codes and
interruption (`run_command`), with verification jobs (`POST /jobs {"emails": [...]}`) and an output of
its own.

Output: JSON Lines records as `enrich run`'s (`results`), each with its `email`; or a CSV that keeps the
input's columns and adds ADDRESS_COLUMNS: the item's status (found | risky | invalid | not_found | failed
| skipped), Hunter's verdict (`hunter_status`, `score`), our grade (`deliverability`, `email_status`:
active only when verified), when it was verified, and why (docs/verification.md).
"""

from __future__ import annotations

import argparse
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from enrich_tools.local.addresses import FIELD, read_addresses
from enrich_tools.local.client import ApiClient
from enrich_tools.local.job_options import job_options
from enrich_tools.local.output import Format, Layout
from enrich_tools.local.providers import SIMULATED_BANNER
from enrich_tools.local.reporting import (
    FAILED,
    OK,
    TABLE_ROWS,
    Report,
    UsageError,
    duration_text,
    finish,
    follow_and_write,
    follow_quietly,
    note,
    report_refused,
    results_format,
    tally,
)
from enrich_tools.local.results import Record
from enrich_tools.local.rows import CsvError, CsvRow, LeadFile, header_key

# Shared with `enrich run`: retrying last time's failures, other jobs on the state, paces, SIGTERM.
from enrich_tools.local.run_command import (
    other_work,
    retry_failures,
    stack_options,
    terminate_as_interrupt,
    used_limits,
)
from enrich_tools.local.runs import Submitted, records_in_order, run_key, sendable
from enrich_tools.local.timeouts import default_timeout
from leadenrich.jobs.requests import MAX_LEADS_PER_JOB

ADDRESS_COLUMNS = (
    "status",
    "hunter_status",
    "score",
    "deliverability",
    "email_status",
    "verified_at",
    "reason",
)


def address_cells(record: Mapping[str, Any]) -> list[Any]:
    """A verified address's cells (ADDRESS_COLUMNS); a row with no verdict (refused, opted out,
    unfinished) has its status and reason only."""
    emails: list[Mapping[str, Any]] = list(record.get("emails") or [])
    verdict = emails[0] if emails else {}
    return [
        record.get("status"),
        verdict.get("hunter_status"),
        verdict.get("confidence_score"),
        verdict.get("deliverability"),
        verdict.get("status"),
        verdict.get("verified_at"),
        record.get("reason"),
    ]


ADDRESSES = Layout(ADDRESS_COLUMNS, address_cells, stored=("email",))  # a job's results: no input file


def print_addresses(
    records: Sequence[Record],
    out: TextIO,
    simulated: bool,
    *,
    max_rows: int | None = TABLE_ROWS,
    output: Path | str | None = None,
) -> None:
    """A line per address: its status, Hunter's verdict and score, the tier and state, or the reason."""
    if simulated:
        print(f"== {SIMULATED_BANNER} ==", file=out)
    header = f"{'email':<40} {'status':<10} {'hunter':<13} {'score':>5} {'deliverability':<16} state"
    print(header, file=out)
    print("-" * len(header), file=out)
    shown = records if max_rows is None else records[: max(0, max_rows)]
    for r in shown:
        address = _cut(r.get("email") or r.get("domain"), 40)
        emails = r.get("emails") or []
        if not emails:
            print(f"{address:<40} {_cut(r.get('status'), 10):<10} {_cut(r.get('reason'), 70)}", file=out)
            continue
        e = emails[0]
        print(
            f"{address:<40} {_cut(r.get('status'), 10):<10} {_cut(e.get('hunter_status'), 13):<13} "
            f"{_cut(e.get('confidence_score'), 5):>5} {_cut(e.get('deliverability'), 16):<16} "
            f"{_cut(e.get('status'), 10)}",
            file=out,
        )
    if (rest := len(records) - len(shown)) > 0:
        where = f"in {output}" if output is not None else "(write them all with --output FILE)"
        print(f"... {rest} more rows {where}", file=out)


def print_verification_cost(counts: Counter[str], jobs: Sequence[dict[str, Any]]) -> None:
    """How many addresses are deliverable, and what finding out cost (only verifications are billed)."""
    total = sum(counts.values())
    others = ", ".join(
        f"{counts[s]} {s}" for s in ("risky", "invalid", "not_found", "failed") if counts.get(s)
    )
    line = f"\n{counts.get('found', 0)}/{total} addresses deliverable" + (f" ({others})." if others else ".")
    if jobs:
        calls = sum(int(j["counters"]["api_calls_hunter"]) for j in jobs)
        credits = sum(float(j["cost"]["hunter_credits"]) for j in jobs)
        line += f" Cost: Hunter {calls} calls, {credits:g} credits"
    print(line)


REPORT = Report(layout=ADDRESSES, table=print_addresses, summary=print_verification_cost, noun="addresses")


def submit_addresses(
    client: ApiClient,
    rows: Sequence[CsvRow],
    tags: Sequence[str] = (),
    key: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> list[Submitted]:
    """One verification job (`POST /jobs {"emails": [...]}`) per 10,000 sendable rows; refused and repeated
    rows are not sent. With `key`, job n is sent with the idempotency key `{key}-{n}`; `options` are more
    body fields for every job (priority, run_at, caps)."""
    addresses = sendable(rows)
    submitted = []
    for number, start in enumerate(range(0, len(addresses), MAX_LEADS_PER_JOB)):
        chunk = addresses[start : start + MAX_LEADS_PER_JOB]
        body: dict[str, Any] = dict(options or {})
        body["emails"] = [row.lead["email"] for row in chunk if row.lead is not None]
        if tags:
            body["tags"] = list(tags)
        job = client.post_job(body, idempotency_key=f"{key}-{number}" if key else None)
        submitted.append(Submitted(str(job["job_id"]), chunk))
    return submitted


def address_file(path: str, column: str | None, encoding: str | None) -> LeadFile:
    try:
        return read_addresses(Path(path), column, encoding)
    except CsvError as exc:
        raise UsageError(str(exc)) from None


def create_verification_jobs(
    client: ApiClient, args: argparse.Namespace, output: Path | None, fmt: Format
) -> int:
    """`enrich jobs create --emails-csv FILE [--wait [--output F]]`: verification jobs on any jobs API,
    local or deployed, reported as `enrich verify` reports them."""
    if args.skip_existing:
        raise UsageError("--skip-existing does not go with --emails-csv (addresses are not stored leads)")
    read = address_file(args.emails_csv, _column_of(args.map), args.encoding)
    rows = read.rows
    for line in read.describe():
        note(line.replace(": enriched once", ": verified once"))
    if not sendable(rows):
        raise UsageError(f"{args.emails_csv}: no row can be sent (every row is empty or refused)")
    report_refused(rows, args.emails_csv)
    submitted = submit_addresses(client, rows, args.tag, options=job_options(args))
    for job in submitted:
        print(f"{job.job_id}  {len(job.rows)} addresses queued")
    if not args.wait:
        return OK
    if output is None:
        followed = follow_quietly(client, submitted, args.timeout, args.poll)
        counts: Counter[str] = Counter()
        shown: list[Record] = []
        ordered = tally(records_in_order(client, rows, submitted, followed, args.timeout), counts, shown)
        simulated = client.simulated
        return finish(ordered, shown, counts, followed, args.timeout, simulated, None, fmt, rows, ",", REPORT)
    delimiter = ";" if read.delimiter == ";" else ","
    timeout, poll = args.timeout, args.poll
    return follow_and_write(
        client, rows, submitted, output, fmt, delimiter, timeout, client.simulated, poll, report=REPORT
    )


def _column_of(maps: Sequence[str]) -> str | None:
    """`--map email=<column>`, the one mapping an addresses file takes."""
    if not maps:
        return None
    name, equals, column = ",".join(maps).partition("=")
    column = column.strip().strip("\"'")
    if header_key(name) != FIELD or not equals or not column:
        raise UsageError("--map with --emails-csv: email=<column>, the column holding the addresses")
    return column


def cmd_verify(args: argparse.Namespace) -> int:
    from enrich_tools.local.preflight import check_providers
    from enrich_tools.local.stack import LocalStack, StackError

    state_dir, output = Path(args.state), Path(args.output)
    fmt = results_format(output, args.format)
    if not output.parent.is_dir():
        raise UsageError(f"{output}: the folder {output.parent} does not exist")
    if output.exists() and output.resolve() == Path(args.input).resolve():
        raise UsageError(f"--output {output}: that is the input file; results go to a file of their own")
    read = address_file(args.input, args.column, args.encoding)
    rows = read.rows
    for line in read.describe():
        note(line.replace(": enriched once", ": verified once"))  # `describe` speaks of leads
    report_refused(rows, args.input)
    addresses = sendable(rows)
    if not addresses:
        raise UsageError(f"{args.input}: no row can be sent (every row is empty or refused)")
    options = stack_options(args, state_dir)
    delimiter = ";" if read.delimiter == ";" else ","
    with terminate_as_interrupt():
        try:
            with LocalStack(options) as stack, ApiClient(stack.url, stack.api_key) as client:
                where = "the provider simulator (SIMULATED DATA)" if stack.simulated else "Hunter"
                note(f"Local stack at {stack.url}: verifying on {where}")
                assert stack.engine_settings is not None
                refused = check_providers(stack.engine_settings, "verifications")
                if refused:
                    note(f"error: {refused}; nothing was sent, nothing spent")
                    return FAILED
                # The same addresses again continue the same jobs (idempotency keys); --fresh makes new ones.
                salt = "verify" + (secrets.token_hex(8) if args.fresh else "")
                submitted = submit_addresses(client, rows, key=run_key(rows, salt=salt))
                retry_failures(client, submitted)
                waiting = other_work(client, submitted)
                paces = used_limits(stack.engine_settings)
                timeout = args.timeout or default_timeout(len(addresses) + waiting, paces)
                note(
                    f"Verifying {len(addresses)} addresses from {args.input} "
                    f"(gives up after {duration_text(timeout)})"
                )
                return follow_and_write(
                    client,
                    rows,
                    submitted,
                    output,
                    fmt,
                    delimiter,
                    timeout,
                    stack.simulated,
                    quiesce=stack.quiesce,
                    report=REPORT,
                )
        except StackError as exc:
            note(f"error: {exc}")
            return FAILED


def add_verify_parser(sub: Any, parents: list[argparse.ArgumentParser], positive: Any) -> None:
    verify = sub.add_parser(
        "verify",
        parents=parents,
        help="verify a file of addresses (.csv, .tsv, .xlsx) with Hunter on the local stack; resumable",
        description=(
            "Starts the local stack on its state directory, sends the addresses through POST /jobs as "
            "verification jobs, streams each verdict to --output as it comes, and rewrites the file in "
            "input order at the end. Running the same command again continues where it stopped and pays "
            "for nothing twice. Uses the provider simulator unless HUNTER_API_KEY is set. Exit codes: 0 "
            "done, 1 nothing done, 2 bad input, 3 some failed or the run stopped early, 130 interrupted."
        ),
    )
    verify.add_argument("--input", required=True, help="addresses file: .csv/.tsv (any encoding) or .xlsx")
    verify.add_argument(
        "--output", required=True, help="results file: .csv (input columns + the verdict) or .jsonl"
    )
    verify.add_argument(
        "--column", help="the column holding the addresses (default: Email, E-mail, Email Address...)"
    )
    verify.add_argument("--encoding", help="the file's text encoding (default: detected)")
    verify.add_argument("--format", choices=["csv", "jsonl"], help="results format (default: by extension)")
    verify.add_argument(
        "--fresh",
        action="store_true",
        help="new jobs even if this list ran before (cached verdicts still used)",
    )
    verify.add_argument("--timeout", type=positive, default=None, help="give up after this many seconds")
    verify.set_defaults(func=cmd_verify)


def _cut(value: object, width: int) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"
